/**
 * Key expiry schedule of issuer-managed SSDs: a sweep stamps an expiry on key sets that have none (their
 * creation time + lifetime) and rotates, with bounded concurrency, those whose `keys_expire_at` has passed.
 * `startKeySchedule` runs the sweep every `intervalMs`; each SSD's rotation is an ordinary persisted flow.
 */
import type { FlowDeps } from '../common/deps.ts';
import type { KeyedLock } from '../common/keyed-lock.ts';
import { ISSUER_KEY_LIFETIME_MS } from './key-slot.ts';
import { rotateIssuerSsd } from './manage.ts';

export interface SweepOptions {
  readonly now?: Date;
  readonly lifetimeMs?: number;
  /** Rotations at once (default 4). */
  readonly concurrency?: number;
  /** Serialises work on one SSD with requests (the service's lock). */
  readonly locks?: KeyedLock;
}

export interface SweepResult {
  readonly stamped: number;
  readonly due: number;
  readonly rotated: number;
  readonly failed: readonly { readonly cardId: string; readonly aid: string; readonly error: string }[];
}

export async function sweepIssuerKeys(deps: FlowDeps, options: SweepOptions = {}): Promise<SweepResult> {
  const at = options.now ?? new Date();
  const lifetimeMs = options.lifetimeMs ?? ISSUER_KEY_LIFETIME_MS;
  const unstamped = await deps.db.query<{ card_id: string; aid: string; updated_at: string }>(
    "SELECT card_id, aid, updated_at FROM ssds WHERE managed_by = 'issuer' AND state = 'issuer-managed' AND keys_expire_at IS NULL",
  );
  for (const r of unstamped) {
    const expires = new Date(Date.parse(r.updated_at) + lifetimeMs).toISOString();
    await deps.db.execute('UPDATE ssds SET keys_expire_at = $1 WHERE card_id = $2 AND aid = $3 AND keys_expire_at IS NULL', [expires, r.card_id, r.aid]);
  }
  const due = await deps.db.query<{ card_id: string; aid: string }>(
    "SELECT card_id, aid FROM ssds WHERE managed_by = 'issuer' AND state = 'issuer-managed' AND keys_expire_at <= $1 ORDER BY keys_expire_at",
    [at.toISOString()],
  );
  let rotated = 0;
  const failed: { cardId: string; aid: string; error: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const r = due[next++]!;
      const run = () => rotateIssuerSsd(deps, { cardId: r.card_id, aid: r.aid, reason: 'expiry', lifetimeMs });
      try {
        await (options.locks ? options.locks.run(`${r.card_id}/${r.aid}`, run) : run());
        rotated++;
      } catch (e) {
        failed.push({ cardId: r.card_id, aid: r.aid, error: (e as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, due.length)) }, worker));
  return { stamped: unstamped.length, due: due.length, rotated, failed };
}

export interface KeySchedule {
  /** Run one sweep now (also what the timer does). */
  sweep(): Promise<SweepResult>;
  stop(): Promise<void>;
}

/** Sweep every `intervalMs` (default one hour; 0: only when `sweep()` is called); sweeps never overlap. */
export function startKeySchedule(deps: FlowDeps, options: Omit<SweepOptions, 'now'> & { intervalMs?: number; onResult?: (r: SweepResult) => void; onError?: (e: unknown) => void } = {}): KeySchedule {
  let running: Promise<SweepResult> | undefined;
  const sweep = () => (running ??= sweepIssuerKeys(deps, options).finally(() => (running = undefined)));
  const intervalMs = options.intervalMs ?? 3_600_000;
  const timer = intervalMs > 0 ? setInterval(() => sweep().then(options.onResult, options.onError), intervalMs) : undefined;
  timer?.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
