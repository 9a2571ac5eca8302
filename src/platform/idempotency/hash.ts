/** The request fingerprint an Idempotency-Key is bound to: SHA-256 over method, route (with path parameters and query), peer and body (canonical JSON). */
import { createHash } from 'node:crypto';

export interface RequestFingerprint {
  readonly method: string;
  /** The route pattern (`/cards/:iccid/ssds`), not the raw URL. */
  readonly route: string;
  /** Path parameters of this request (so the same key on another card is a different request). */
  readonly params: unknown;
  readonly query: unknown;
  readonly peer: string;
  readonly body: unknown;
}

export function requestHash(f: RequestFingerprint): string {
  return createHash('sha256').update(canonicalJson([f.method.toUpperCase(), f.route, f.params ?? null, f.query ?? null, f.peer, f.body ?? null])).digest('hex');
}

/** JSON with object keys sorted; bytes as `{"$bytes":"<hex>"}`. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Uint8Array) return `{"$bytes":"${Buffer.from(value).toString('hex')}"}`;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}
