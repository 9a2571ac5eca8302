/**
 * The append-only, hash-chained audit log. Every change of card state and every key movement writes
 * one record:
 *
 *   hash(n) = SHA-256( hash(n-1) || UTF-8( canonicalJson({ seq, at, actor, action, subject, details }) ) )
 *
 * with hash(0) = 32 zero bytes and canonical JSON per RFC 8785 (canonical-json.ts). `verify` recomputes
 * the chain and finds edited, deleted, reordered and inserted records, and a deleted tail (the head row
 * keeps the last seq and hash). Someone able to rewrite the whole chain AND the head row is not caught
 * by the database alone: export `head()` now and then (logs, another system) and pass it as `anchor`.
 *
 * Appends serialise on the head row (`UPDATE audit_head … RETURNING` takes its lock), so concurrent
 * transactions on any number of processes form one chain; a rolled-back transaction leaves no gap. Given
 * a transaction, `append` writes inside it (the record commits or rolls back with the caller's work) —
 * append late in the transaction, since the head row stays locked until it ends.
 *
 * `details` is checked for key material before anything is written (sensitive-fields.ts).
 */
import { createHash } from 'node:crypto';
import { equalBytes, toHex } from '../../core/bytes.ts';
import type { Database, Row } from '../storage/database.ts';
import { StorageError } from '../storage/errors.ts';
import { canonicalJson, type JsonValue } from './canonical-json.ts';
import { AuditError } from './errors.ts';
import { findForbiddenField } from './sensitive-fields.ts';

export type AuditDetails = { readonly [k: string]: JsonValue };

export interface AuditEntry {
  /** Who: a service, an operator, a provider id (e.g. `issuer`, `provider:acme`). */
  readonly actor: string;
  /** What, as a stable dotted name (e.g. `ssd.create`, `keys.put`, `ssd.extradite`). */
  readonly action: string;
  /** On what (e.g. `card:8944…/ssd:A000000151…`); may be empty. */
  readonly subject: string;
  /** JSON facts: AIDs, key versions, KCVs — never keys (see sensitive-fields.ts). */
  readonly details?: AuditDetails;
}

export interface AuditRecord {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly details: AuditDetails;
  readonly prevHash: Uint8Array;
  readonly hash: Uint8Array;
}

export interface AuditVerification {
  /** True when every record and the head row check out. */
  readonly ok: boolean;
  /** Records found intact (all of them when ok; those before `firstBadSeq` otherwise). */
  readonly count: number;
  /** The first seq that is altered, missing or unexpected. */
  readonly firstBadSeq?: number;
  /** What is wrong there, for people. */
  readonly reason?: string;
  /** Last seq and hash of the intact chain (hex), to keep as an anchor. */
  readonly head: { readonly seq: number; readonly hash: string };
}

export const ZERO_HASH = new Uint8Array(32);
const MAX_TEXT = 1000;
const MAX_DETAILS = 65_536;
const PAGE = 500;
const encoder = new TextEncoder();

/** hash(n) from hash(n-1) and the record's fields. */
export function auditRecordHash(
  prevHash: Uint8Array,
  record: { readonly seq: number; readonly at: string; readonly actor: string; readonly action: string; readonly subject: string; readonly details: AuditDetails },
): Uint8Array {
  const json = canonicalJson({ seq: record.seq, at: record.at, actor: record.actor, action: record.action, subject: record.subject, details: record.details });
  return new Uint8Array(createHash('sha256').update(prevHash).update(encoder.encode(json)).digest());
}

function checkText(value: unknown, name: string, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0) || value.length > MAX_TEXT) {
    throw new AuditError('BAD_ENTRY', `${name} must be a ${allowEmpty ? '' : 'non-empty '}string of at most ${MAX_TEXT} characters`);
  }
  return value;
}

/** Validate an entry; returns its details and their canonical JSON. Throws before anything is written. */
export function checkAuditEntry(entry: AuditEntry): { details: AuditDetails; detailsJson: string } {
  if (entry === null || typeof entry !== 'object') throw new AuditError('BAD_ENTRY', 'an audit entry is an object');
  checkText(entry.actor, 'actor', false);
  checkText(entry.action, 'action', false);
  checkText(entry.subject, 'subject', true);
  const details = entry.details ?? {};
  if (details === null || typeof details !== 'object' || Array.isArray(details)) throw new AuditError('BAD_ENTRY', 'details must be a JSON object');
  let detailsJson: string;
  try {
    detailsJson = canonicalJson(details);
  } catch (e) {
    throw new AuditError('BAD_ENTRY', `details: ${(e as Error).message}`);
  }
  if (detailsJson.length > MAX_DETAILS) throw new AuditError('BAD_ENTRY', `details exceed ${MAX_DETAILS} characters of JSON`);
  const forbidden = findForbiddenField(details);
  if (forbidden) throw new AuditError('FORBIDDEN_FIELD', `${forbidden.path}: ${forbidden.reason}`);
  return { details: JSON.parse(detailsJson) as AuditDetails, detailsJson };
}

function notInitialised(e: unknown): never {
  throw new AuditError('NOT_INITIALISED', 'the audit tables are missing: run the AUDIT_MIGRATIONS', { cause: e });
}

export interface AuditLogOptions {
  /** Clock for `at` (default: system time). */
  readonly now?: () => Date;
}

interface HeadRow extends Row {
  seq: number;
  hash: Uint8Array;
}

export class AuditLog {
  readonly #db: Database;
  readonly #now: () => Date;

  constructor(db: Database, options: AuditLogOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
  }

  /** Append one record — inside `tx` when given (or when called inside a transaction of this database). */
  async append(entry: AuditEntry, tx?: Database): Promise<AuditRecord> {
    const { details, detailsJson } = checkAuditEntry(entry);
    const on = tx ?? this.#db;
    return on.transaction(async (t) => {
      let head: HeadRow | undefined;
      try {
        [head] = await t.query<HeadRow>('UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash');
      } catch (e) {
        if (e instanceof StorageError && e.code === 'QUERY') notInitialised(e);
        throw e;
      }
      if (head === undefined) notInitialised(undefined);
      const seq = Number(head.seq);
      const prevHash = head.hash;
      const at = this.#now().toISOString();
      const record = { seq, at, actor: entry.actor, action: entry.action, subject: entry.subject, details };
      const hash = auditRecordHash(prevHash, record);
      await t.execute(
        'INSERT INTO audit_log (seq, at, actor, action, subject, details_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [seq, at, entry.actor, entry.action, entry.subject, detailsJson, prevHash, hash],
      );
      await t.execute('UPDATE audit_head SET hash = $1 WHERE id = 1', [hash]);
      return { ...record, prevHash, hash };
    });
  }

  /** The last seq and hash (keep it elsewhere as an anchor for `verify`). */
  async head(): Promise<{ seq: number; hash: Uint8Array }> {
    return readHead(this.#db);
  }

  /** Records with seq > afterSeq, oldest first. */
  async read(afterSeq = 0, limit = 100): Promise<AuditRecord[]> {
    const rows = await this.#db.query<LogRow>(
      'SELECT seq, at, actor, action, subject, details_json, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2',
      [afterSeq, limit],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: r.at,
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      details: JSON.parse(r.details_json) as AuditDetails,
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
  }

  verify(options: VerifyOptions = {}): Promise<AuditVerification> {
    return verifyAuditLog(this.#db, options);
  }
}

interface LogRow extends Row {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details_json: string;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

async function readHead(db: Database): Promise<{ seq: number; hash: Uint8Array }> {
  let rows: HeadRow[];
  try {
    rows = await db.query<HeadRow>('SELECT seq, hash FROM audit_head WHERE id = 1');
  } catch (e) {
    if (e instanceof StorageError && e.code === 'QUERY') notInitialised(e);
    throw e;
  }
  const [h] = rows;
  if (h === undefined) notInitialised(undefined);
  return { seq: Number(h.seq), hash: h.hash };
}

export interface VerifyOptions {
  /** A head exported earlier: the chain must still contain exactly this hash at this seq. */
  readonly anchor?: { readonly seq: number; readonly hash: Uint8Array };
}

/**
 * Recompute the whole chain, page by page, while the log may still grow: rows appended concurrently
 * are verified too (the head is re-read until it matches the last verified record).
 */
export async function verifyAuditLog(db: Database, options: VerifyOptions = {}): Promise<AuditVerification> {
  const { anchor } = options;
  let prev: Uint8Array = ZERO_HASH;
  let count = 0;
  const bad = (seq: number, reason: string, intact = count, intactHash = prev): AuditVerification => ({
    ok: false,
    count: intact,
    firstBadSeq: seq,
    reason,
    head: { seq: intact, hash: toHex(intactHash) },
  });
  await readHead(db); // NOT_INITIALISED before anything else
  for (;;) {
    // verify every row after the intact prefix
    for (;;) {
      const rows = await db.query<LogRow>(
        'SELECT seq, at, actor, action, subject, details_json, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2',
        [count, PAGE],
      );
      for (const r of rows) {
        const seq = Number(r.seq);
        const expected = count + 1;
        if (seq !== expected) return bad(expected, `record ${expected} is missing`);
        if (!(r.prev_hash instanceof Uint8Array) || !equalBytes(r.prev_hash, prev)) {
          return bad(seq, 'prev_hash does not match the previous record');
        }
        let details: AuditDetails;
        try {
          details = JSON.parse(r.details_json) as AuditDetails;
          if (canonicalJson(details) !== r.details_json) throw new Error('not canonical');
        } catch {
          return bad(seq, 'details_json is not the canonical JSON that was hashed');
        }
        const hash = auditRecordHash(prev, { seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, details });
        if (!(r.hash instanceof Uint8Array) || !equalBytes(r.hash, hash)) return bad(seq, 'hash does not match the record');
        if (anchor !== undefined && seq === anchor.seq && !equalBytes(hash, anchor.hash)) {
          return bad(seq, 'the chain no longer holds the anchor hash: it was rewritten');
        }
        prev = hash;
        count = seq;
      }
      if (rows.length < PAGE) break;
    }
    // the head row is written in the same transaction as each record, so it is never behind a visible row
    const head = await readHead(db);
    if (head.seq === count) {
      if (!equalBytes(head.hash, prev)) {
        if (count === 0) return bad(1, 'the head row was altered');
        const [before] = await db.query<LogRow>('SELECT hash FROM audit_log WHERE seq = $1', [count - 1]);
        return bad(count, 'the head hash does not match the last record', count - 1, count === 1 ? ZERO_HASH : (before?.hash ?? ZERO_HASH));
      }
      if (anchor !== undefined && anchor.seq > count) return bad(count + 1, `the anchor is at ${anchor.seq} but the log ends at ${count}`);
      return { ok: true, count, head: { seq: count, hash: toHex(prev) } };
    }
    if (head.seq < count) {
      const [at] = await db.query<LogRow>('SELECT hash FROM audit_log WHERE seq = $1', [head.seq]);
      return bad(head.seq + 1, `records after ${head.seq} were added outside the log (the head says ${head.seq})`, head.seq, head.seq === 0 ? ZERO_HASH : (at?.hash ?? ZERO_HASH));
    }
    // head.seq > count: appended meanwhile, or a deleted tail
    const more = await db.query('SELECT seq FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1', [count]);
    if (more.length === 0) return bad(count + 1, `records ${count + 1}..${head.seq} are missing (the head says ${head.seq})`);
  }
}
