/**
 * Idempotency records over the `Database` interface. `begin` claims a key atomically
 * (`INSERT … ON CONFLICT DO NOTHING`), or reports what the key already holds: the same request done (replay),
 * the same request still running, or a different request (reuse).
 */
import type { Database, Row } from '../storage/database.ts';

export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export type BeginResult =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  | { readonly kind: 'in_progress' }
  | { readonly kind: 'mismatch' };

export interface IdempotencyStoreOptions {
  /** A claim older than this is considered abandoned (its holder crashed) and may be taken over. Default 60 s. */
  readonly lockTimeoutMs?: number;
  /** Records older than this are forgotten; the key may then be used afresh. Default 24 h. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

interface IdemRow extends Row {
  request_hash: string;
  state: string;
  status: number | null;
  headers: string | null;
  body: Uint8Array | null;
  created_at: number | bigint | string;
}

export class IdempotencyStore {
  readonly #db: Database;
  readonly #lockTimeoutMs: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(db: Database, options: IdempotencyStoreOptions = {}) {
    this.#db = db;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
    this.#ttlMs = options.ttlMs ?? 86_400_000;
    this.#now = options.now ?? Date.now;
  }

  async begin(scope: string, key: string, requestHash: string): Promise<BeginResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.#now();
      const inserted = await this.#db.execute(
        `INSERT INTO platform_idempotency (scope, idem_key, request_hash, state, created_at)
         VALUES ($1, $2, $3, 'in_flight', $4) ON CONFLICT (scope, idem_key) DO NOTHING`,
        [scope, key, requestHash, now],
      );
      if (inserted.rowCount === 1) return { kind: 'claimed' };
      const rows = await this.#db.query<IdemRow>(
        'SELECT request_hash, state, status, headers, body, created_at FROM platform_idempotency WHERE scope = $1 AND idem_key = $2',
        [scope, key],
      );
      const row = rows[0];
      if (row === undefined) continue; // abandoned meanwhile: claim again
      const createdAt = Number(row.created_at);
      if (createdAt < now - this.#ttlMs) {
        await this.#db.execute('DELETE FROM platform_idempotency WHERE scope = $1 AND idem_key = $2 AND created_at = $3', [scope, key, createdAt]);
        continue;
      }
      if (row.request_hash !== requestHash) return { kind: 'mismatch' };
      if (row.state === 'done') {
        return {
          kind: 'replay',
          response: {
            status: Number(row.status),
            headers: JSON.parse(row.headers ?? '{}') as Record<string, string>,
            body: row.body ?? new Uint8Array(0),
          },
        };
      }
      if (createdAt < now - this.#lockTimeoutMs) {
        const taken = await this.#db.execute(
          `UPDATE platform_idempotency SET created_at = $3
           WHERE scope = $1 AND idem_key = $2 AND state = 'in_flight' AND created_at = $4`,
          [scope, key, now, createdAt],
        );
        if (taken.rowCount === 1) return { kind: 'claimed' };
        continue;
      }
      return { kind: 'in_progress' };
    }
    return { kind: 'in_progress' };
  }

  /** Keep the response of a claimed key. */
  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    await this.#db.execute(
      `UPDATE platform_idempotency SET state = 'done', status = $3, headers = $4, body = $5
       WHERE scope = $1 AND idem_key = $2 AND state = 'in_flight'`,
      [scope, key, response.status, JSON.stringify(response.headers), response.body],
    );
  }

  /** Release a claimed key without a response (server error): the client may retry with it. */
  async abandon(scope: string, key: string): Promise<void> {
    await this.#db.execute(`DELETE FROM platform_idempotency WHERE scope = $1 AND idem_key = $2 AND state = 'in_flight'`, [scope, key]);
  }

  /** Delete records past their time to live; returns how many. */
  async purgeExpired(): Promise<number> {
    const r = await this.#db.execute('DELETE FROM platform_idempotency WHERE created_at < $1', [this.#now() - this.#ttlMs]);
    return r.rowCount;
  }
}
