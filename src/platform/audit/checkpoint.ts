/**
 * Signed checkpoints of the audit chain's head, kept apart from the database (issue 8 §4): someone able to cut
 * records off the end of `audit_log` AND rewrite the `audit_head` row leaves a chain that verifies on its own;
 * a checkpoint taken earlier still names a seq and hash the chain must hold.
 *
 * A checkpoint file is JSON lines: the first line holds the HMAC key, sealed by the keystore (context
 * `audit/checkpoint-key/<name>`); every further line is `{ seq, hash, at, mac }` with
 * mac = HMAC-SHA256(key, "opentsm-audit-checkpoint/1|<name>|<seq>|<hash hex>|<at>"). Without the keystore's KEK
 * no checkpoint can be forged; `verifyCheckpoints` checks every signature, then that the chain still holds
 * every checkpoint (a log that ends before one was cut; a different hash at its seq was rewritten).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { equalConstantTime, fromHex, toHex } from '../../core/bytes.ts';
import type { KeyStore } from '../keystore/keystore.ts';
import type { Database } from '../storage/database.ts';
import { verifyAuditLog, type AuditLog, type AuditVerification } from './log.ts';

export interface AuditCheckpoint {
  readonly seq: number;
  /** Head hash at `seq`, hex. */
  readonly hash: string;
  readonly at: string;
  /** HMAC-SHA256, hex. */
  readonly mac: string;
}

const keyContext = (name: string) => `audit/checkpoint-key/${name}`;

function macOf(key: Uint8Array, name: string, c: Omit<AuditCheckpoint, 'mac'>): string {
  return createHmac('sha256', key).update(`opentsm-audit-checkpoint/1|${name}|${c.seq}|${c.hash.toLowerCase()}|${c.at}`).digest('hex');
}

interface FileContents {
  readonly sealedKey: Uint8Array | undefined;
  readonly checkpoints: AuditCheckpoint[];
  /** Lines that are not checkpoints (1-based line numbers). */
  readonly malformed: number[];
}

async function readCheckpointFile(path: string): Promise<FileContents> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { sealedKey: undefined, checkpoints: [], malformed: [] };
    throw e;
  }
  let sealedKey: Uint8Array | undefined;
  const checkpoints: AuditCheckpoint[] = [];
  const malformed: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (i === 0 && typeof o.sealedKey === 'string') sealedKey = fromHex(o.sealedKey);
      else if (Number.isSafeInteger(o.seq) && typeof o.hash === 'string' && /^[0-9a-f]{64}$/i.test(o.hash) && typeof o.at === 'string' && typeof o.mac === 'string' && /^[0-9a-f]{64}$/i.test(o.mac)) {
        checkpoints.push({ seq: o.seq as number, hash: o.hash, at: o.at, mac: o.mac });
      } else malformed.push(i + 1);
    } catch {
      malformed.push(i + 1);
    }
  });
  return { sealedKey, checkpoints, malformed };
}

/** Writes checkpoints of one audit log to `path` (created with its sealed key on first use). */
export class AuditCheckpointer {
  readonly #log: AuditLog;
  readonly #keystore: KeyStore;
  readonly #path: string;
  readonly #name: string;
  readonly #now: () => Date;
  #key: Uint8Array | undefined;
  #last = -1;

  constructor(options: { log: AuditLog; keystore: KeyStore; path: string; name: string; now?: () => Date }) {
    this.#log = options.log;
    this.#keystore = options.keystore;
    this.#path = options.path;
    this.#name = options.name;
    this.#now = options.now ?? (() => new Date());
  }

  async #keyOf(): Promise<Uint8Array> {
    if (this.#key !== undefined) return this.#key;
    const file = await readCheckpointFile(this.#path);
    if (file.sealedKey !== undefined) {
      this.#key = await this.#keystore.unwrap(file.sealedKey, keyContext(this.#name));
      this.#last = file.checkpoints.at(-1)?.seq ?? -1;
      return this.#key;
    }
    const key = new Uint8Array(randomBytes(32));
    const sealed = await this.#keystore.wrap(key, keyContext(this.#name));
    await mkdir(dirname(this.#path), { recursive: true });
    await appendFile(this.#path, `${JSON.stringify({ sealedKey: toHex(sealed) })}\n`, { mode: 0o600, flag: 'wx' });
    this.#key = key;
    return key;
  }

  /** Sign and append the current head (nothing when it did not move since the last checkpoint). */
  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    const key = await this.#keyOf();
    const head = await this.#log.head();
    if (head.seq === this.#last) return undefined;
    const c = { seq: head.seq, hash: toHex(head.hash).toLowerCase(), at: this.#now().toISOString() };
    const checkpoint = { ...c, mac: macOf(key, this.#name, c) };
    await appendFile(this.#path, `${JSON.stringify(checkpoint)}\n`);
    this.#last = head.seq;
    return checkpoint;
  }
}

export interface CheckpointVerification extends AuditVerification {
  /** Checkpoints read and checked. */
  readonly checkpoints: number;
  /** Whether their signatures were checked (the keystore was given). */
  readonly signed: boolean;
}

/**
 * Verify the chain against every checkpoint in `path`: each signature (when `keystore` is given), then that the
 * chain holds each checkpoint's hash at its seq. The first failure names the checkpoint (line of the file).
 */
export async function verifyCheckpoints(db: Database, path: string, name: string, keystore?: KeyStore): Promise<CheckpointVerification> {
  const file = await readCheckpointFile(path);
  const base = await verifyAuditLog(db);
  const result = (v: AuditVerification): CheckpointVerification => ({ ...v, checkpoints: file.checkpoints.length, signed: keystore !== undefined });
  if (!base.ok) return result(base);
  const fail = (firstBadSeq: number, reason: string) => result({ ...base, ok: false, firstBadSeq, reason });
  if (file.malformed.length > 0) return fail(base.count + 1, `checkpoint file line ${file.malformed[0]} is not a checkpoint`);
  if (file.sealedKey === undefined && file.checkpoints.length > 0) return fail(base.count + 1, 'the checkpoint file has no key line');
  const key = keystore !== undefined && file.sealedKey !== undefined ? await keystore.unwrap(file.sealedKey, keyContext(name)) : undefined;
  try {
    for (const [i, c] of file.checkpoints.entries()) {
      const label = `checkpoint ${i + 1} (seq ${c.seq}, ${c.at})`;
      if (key !== undefined && !equalConstantTime(fromHex(c.mac), fromHex(macOf(key, name, c)))) return fail(c.seq, `${label}: its signature does not verify`);
      if (c.seq > base.count) {
        return fail(base.count + 1, `${label}: the log ends at ${base.count} — records ${base.count + 1}..${c.seq} were cut off the end`);
      }
      if (c.seq === 0) continue;
      const v = await verifyAuditLog(db, { anchor: { seq: c.seq, hash: fromHex(c.hash) } });
      if (!v.ok) return fail(v.firstBadSeq ?? c.seq, `${label}: ${v.reason}`);
    }
  } finally {
    key?.fill(0);
  }
  return result(base);
}
