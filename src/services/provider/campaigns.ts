/**
 * Key rotation campaigns over many cards: `create` checks every target (each must be a provider-managed SSD
 * of this provider; otherwise nothing is created) and records the campaign and its items in one transaction;
 * `start` runs it in the background with bounded concurrency, each item an ordinary rotation flow, the
 * progress (`done`, `failed`) counted in the `campaigns` row as items finish. Campaigns still running when
 * the service stopped are resumed by `resumeAll` (items not yet done run again; their flows resume).
 * `sweepExpiredKeys` makes an `expiry` campaign of the SSDs whose keys have expired.
 */
import { randomUUID } from 'node:crypto';
import type { FlowDeps } from '../common/deps.ts';
import { FlowError } from '../common/flow-error.ts';
import type { KeyedLock } from '../common/keyed-lock.ts';
import { rotateProviderSsd } from './rotate.ts';

export type CampaignReason = 'forced' | 'expiry';
export type CampaignStatus = 'running' | 'done';

export interface CampaignTarget {
  readonly cardId: string;
  readonly aid: string;
}

export interface CampaignView {
  readonly campaignId: string;
  readonly reason: CampaignReason;
  readonly status: CampaignStatus;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly failures: readonly { readonly cardId: string; readonly aid: string; readonly error: string }[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const MAX_CAMPAIGN_TARGETS = 100_000;
const now = () => new Date().toISOString();

export class CampaignRunner {
  readonly #deps: FlowDeps;
  readonly #locks: KeyedLock;
  readonly #concurrency: number;
  readonly #running = new Map<string, Promise<void>>();
  #closed = false;

  constructor(deps: FlowDeps, locks: KeyedLock, options: { concurrency?: number } = {}) {
    this.#deps = deps;
    this.#locks = locks;
    this.#concurrency = options.concurrency ?? 8;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  }

  /** Record a campaign (all targets checked first; nothing is written when one is refused). */
  async create(reason: CampaignReason, targets: readonly CampaignTarget[]): Promise<string> {
    const deps = this.#deps;
    const unique = new Map<string, CampaignTarget>();
    for (const t of targets) unique.set(`${t.cardId.toUpperCase()}/${t.aid.toUpperCase()}`, { cardId: t.cardId.toUpperCase(), aid: t.aid.toUpperCase() });
    if (unique.size === 0) throw new FlowError('CONFLICT', 'a campaign needs at least one target');
    if (unique.size > MAX_CAMPAIGN_TARGETS) throw new FlowError('CONFLICT', `a campaign has at most ${MAX_CAMPAIGN_TARGETS} targets`);
    const id = randomUUID();
    await deps.db.transaction(async (tx) => {
      const refused: string[] = [];
      for (const t of unique.values()) {
        const rows = await tx.query<{ state: string }>('SELECT state FROM ssds WHERE card_id = $1 AND aid = $2', [t.cardId, t.aid]);
        if (rows[0]?.state !== 'provider-managed') refused.push(`${t.cardId}/${t.aid}${rows[0] ? ` is ${rows[0].state}` : ' is unknown'}`);
      }
      if (refused.length > 0) {
        throw new FlowError('NOT_FOUND', `campaign targets must be provider-managed SSDs: ${refused.slice(0, 5).join(', ')}${refused.length > 5 ? ` and ${refused.length - 5} more` : ''}`);
      }
      const at = now();
      await tx.execute('INSERT INTO campaigns (campaign_id, reason, status, total, done, failed, created_at, updated_at) VALUES ($1, $2, $3, $4, 0, 0, $5, $5)', [
        id,
        reason,
        'running',
        unique.size,
        at,
      ]);
      for (const t of unique.values()) {
        await tx.execute("INSERT INTO campaign_items (campaign_id, card_id, aid, status, error) VALUES ($1, $2, $3, 'pending', NULL)", [id, t.cardId, t.aid]);
      }
      await deps.audit(tx, { actor: deps.actor, action: 'campaign.created', subject: `campaign:${id}`, details: { reason, total: unique.size } });
    });
    return id;
  }

  /** Run the campaign's pending items in the background (no-op when it already runs here). */
  start(id: string): void {
    if (this.#closed || this.#running.has(id)) return;
    const run = this.#run(id).finally(() => this.#running.delete(id));
    this.#running.set(id, run);
  }

  /** Resolves when campaign `id` has no run in this process (finished, or never started here). */
  async settled(id: string): Promise<void> {
    await this.#running.get(id);
  }

  /** Start every campaign still marked running (after a restart). */
  async resumeAll(): Promise<number> {
    const rows = await this.#deps.db.query<{ campaign_id: string }>("SELECT campaign_id FROM campaigns WHERE status = 'running' ORDER BY created_at");
    for (const r of rows) this.start(r.campaign_id);
    return rows.length;
  }

  /** Stop taking items; wait for the items in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#running.values()]);
  }

  async get(id: string): Promise<CampaignView | undefined> {
    const rows = await this.#deps.db.query<{ campaign_id: string; reason: string; status: string; total: number; done: number; failed: number; created_at: string; updated_at: string }>(
      'SELECT campaign_id, reason, status, total, done, failed, created_at, updated_at FROM campaigns WHERE campaign_id = $1',
      [id],
    );
    const c = rows[0];
    if (!c) return undefined;
    const failures = await this.#deps.db.query<{ card_id: string; aid: string; error: string | null }>(
      "SELECT card_id, aid, error FROM campaign_items WHERE campaign_id = $1 AND status = 'failed' ORDER BY card_id, aid LIMIT 100",
      [id],
    );
    return {
      campaignId: c.campaign_id,
      reason: c.reason as CampaignReason,
      status: c.status as CampaignStatus,
      total: Number(c.total),
      done: Number(c.done),
      failed: Number(c.failed),
      failures: failures.map((f) => ({ cardId: f.card_id, aid: f.aid, error: f.error ?? '' })),
      createdAt: c.created_at,
      updatedAt: c.updated_at,
    };
  }

  async #run(id: string): Promise<void> {
    const deps = this.#deps;
    const campaign = await deps.db.query<{ reason: string }>('SELECT reason FROM campaigns WHERE campaign_id = $1', [id]);
    if (!campaign[0]) return;
    const reason = campaign[0].reason as CampaignReason;
    const items = await deps.db.query<{ card_id: string; aid: string }>(
      "SELECT card_id, aid FROM campaign_items WHERE campaign_id = $1 AND status = 'pending' ORDER BY card_id, aid",
      [id],
    );
    let next = 0;
    const worker = async () => {
      while (!this.#closed && next < items.length) {
        const item = items[next++]!;
        let error: string | undefined;
        try {
          await this.#locks.run(`${item.card_id}/${item.aid}`, () => rotateProviderSsd(deps, { cardId: item.card_id, aid: item.aid, reason }));
        } catch (e) {
          error = ((e as Error).message ?? String(e)).slice(0, 500);
        }
        await deps.db.transaction(async (tx) => {
          const r = await tx.execute("UPDATE campaign_items SET status = $1, error = $2 WHERE campaign_id = $3 AND card_id = $4 AND aid = $5 AND status = 'pending'", [
            error === undefined ? 'done' : 'failed',
            error ?? null,
            id,
            item.card_id,
            item.aid,
          ]);
          if (r.rowCount !== 1) return;
          const column = error === undefined ? 'done' : 'failed';
          await tx.execute(`UPDATE campaigns SET ${column} = ${column} + 1, updated_at = $1 WHERE campaign_id = $2`, [now(), id]);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.#concurrency, items.length)) }, worker));
    if (this.#closed) return;
    await deps.db.transaction(async (tx) => {
      const r = await tx.execute("UPDATE campaigns SET status = 'done', updated_at = $1 WHERE campaign_id = $2 AND status = 'running' AND done + failed = total", [now(), id]);
      if (r.rowCount !== 1) return;
      const c = await tx.query<{ done: number; failed: number }>('SELECT done, failed FROM campaigns WHERE campaign_id = $1', [id]);
      await deps.audit(tx, { actor: deps.actor, action: 'campaign.finished', subject: `campaign:${id}`, details: { reason, done: Number(c[0]!.done), failed: Number(c[0]!.failed) } });
    });
  }
}

/** Make (and start) an `expiry` campaign of the provider-managed SSDs whose keys expired by `at`; undefined when none. */
export async function sweepExpiredKeys(deps: FlowDeps, runner: CampaignRunner, at: Date = new Date()): Promise<string | undefined> {
  const due = await deps.db.query<{ card_id: string; aid: string }>(
    `SELECT card_id, aid FROM ssds WHERE state = 'provider-managed' AND pending IS NULL AND keys_expire_at IS NOT NULL AND keys_expire_at <= $1
     AND NOT EXISTS (SELECT 1 FROM campaign_items i WHERE i.card_id = ssds.card_id AND i.aid = ssds.aid AND i.status = 'pending')
     ORDER BY keys_expire_at`,
    [at.toISOString()],
  );
  if (due.length === 0) return undefined;
  const id = await runner.create('expiry', due.map((r) => ({ cardId: r.card_id, aid: r.aid })));
  runner.start(id);
  return id;
}
