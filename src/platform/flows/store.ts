/**
 * Persisted flows (docs/architecture.md §5): a flow that talks to a card records the step it is about to do
 * before doing it, so that after a crash or a cut connection it can resume — or reconcile by asking the
 * card — from that step. This is the table and its operations; the steps belong to each service.
 *
 * `data` holds only non-secret facts (AIDs, key versions, KCVs, route); keys live in the services'
 * own tables, envelope-encrypted.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Migration } from '../storage/database.ts';

export type FlowStatus = 'running' | 'waiting' | 'done' | 'failed';

export interface FlowRecord<D = Record<string, unknown>> {
  readonly id: string;
  readonly kind: string;
  /** What the flow is about, e.g. `card:8901…/sd:A000…`; one unfinished flow per kind and subject. */
  readonly subject: string;
  readonly step: string;
  readonly status: FlowStatus;
  readonly data: D;
  readonly attempts: number;
  readonly error: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const FLOWS_MIGRATION: Migration = {
  id: '0001_flows',
  sql: `CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX flows_open ON flows (kind, subject, status);`,
};

interface FlowRow extends Record<string, string | number | null> {
  id: string;
  kind: string;
  subject: string;
  step: string;
  status: string;
  data: string;
  attempts: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}

function fromRow<D>(r: FlowRow): FlowRecord<D> {
  return {
    id: r.id,
    kind: r.kind,
    subject: r.subject,
    step: r.step,
    status: r.status as FlowStatus,
    data: JSON.parse(r.data) as D,
    attempts: Number(r.attempts),
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const now = () => new Date().toISOString();

export class FlowStore {
  readonly #db: Database;
  /**
   * Flows this process created and has driven without a failure since. For those the platform knows what
   * the card holds, so steps may skip their reconciliation probes; any other flow (loaded after a restart,
   * or after a failed attempt) reconciles by asking the card first.
   */
  readonly #fresh = new Set<string>();
  constructor(db: Database) {
    this.#db = db;
  }

  /** True when this process created the flow and no attempt of it has failed since (see `#fresh`). */
  isFresh(id: string): boolean {
    return this.#fresh.has(id);
  }

  /** Create a flow at its first step (inside `tx` when given, so it commits with the request's rows). */
  async create<D>(kind: string, subject: string, step: string, data: D, tx: Database = this.#db, id: string = randomUUID()): Promise<FlowRecord<D>> {
    const at = now();
    await tx.execute(
      'INSERT INTO flows (id, kind, subject, step, status, data, attempts, error, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, NULL, $7, $7)',
      [id, kind, subject, step, 'running', JSON.stringify(data), at],
    );
    this.#fresh.add(id);
    return { id, kind, subject, step, status: 'running', data, attempts: 0, error: null, createdAt: at, updatedAt: at };
  }

  async get<D>(id: string, tx: Database = this.#db): Promise<FlowRecord<D> | undefined> {
    const rows = await tx.query<FlowRow>('SELECT * FROM flows WHERE id = $1', [id]);
    return rows[0] ? fromRow<D>(rows[0]) : undefined;
  }

  /** The unfinished flow of `kind` for `subject`, if any. */
  async open<D>(kind: string, subject: string, tx: Database = this.#db): Promise<FlowRecord<D> | undefined> {
    const rows = await tx.query<FlowRow>(
      "SELECT * FROM flows WHERE kind = $1 AND subject = $2 AND status IN ('running', 'waiting') ORDER BY created_at DESC",
      [kind, subject],
    );
    return rows[0] ? fromRow<D>(rows[0]) : undefined;
  }

  /** Every unfinished flow (to resume after a restart). */
  async unfinished<D>(kind?: string): Promise<FlowRecord<D>[]> {
    const rows =
      kind === undefined
        ? await this.#db.query<FlowRow>("SELECT * FROM flows WHERE status = 'running' ORDER BY created_at")
        : await this.#db.query<FlowRow>("SELECT * FROM flows WHERE status = 'running' AND kind = $1 ORDER BY created_at", [kind]);
    return rows.map((r) => fromRow<D>(r));
  }

  /** Record the next step (before doing it), merging `data`. */
  async advance<D>(flow: FlowRecord<D>, step: string, data: Partial<D> = {}, tx: Database = this.#db, status: FlowStatus = 'running'): Promise<FlowRecord<D>> {
    const merged = { ...flow.data, ...data } as D;
    const at = now();
    const r = await tx.execute('UPDATE flows SET step = $1, status = $2, data = $3, error = NULL, updated_at = $4 WHERE id = $5', [
      step,
      status,
      JSON.stringify(merged),
      at,
      flow.id,
    ]);
    if (r.rowCount !== 1) throw new Error(`flow ${flow.id} vanished`);
    return { ...flow, step, status, data: merged, error: null, updatedAt: at };
  }

  /** Count an attempt that failed (a cut connection, a card error) without changing the step. */
  async recordFailure<D>(flow: FlowRecord<D>, error: string, final = false, tx: Database = this.#db): Promise<FlowRecord<D>> {
    this.#fresh.delete(flow.id);
    const at = now();
    await tx.execute('UPDATE flows SET attempts = attempts + 1, error = $1, status = $2, updated_at = $3 WHERE id = $4', [
      error.slice(0, 500),
      final ? 'failed' : flow.status,
      at,
      flow.id,
    ]);
    return { ...flow, attempts: flow.attempts + 1, error, status: final ? 'failed' : flow.status, updatedAt: at };
  }

  async finish<D>(flow: FlowRecord<D>, data: Partial<D> = {}, tx: Database = this.#db): Promise<FlowRecord<D>> {
    this.#fresh.delete(flow.id);
    return this.advance(flow, 'done', data, tx, 'done');
  }
}
