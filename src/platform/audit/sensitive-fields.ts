/**
 * The audit log must never hold key material. Every field name in an entry's `details` (at any depth)
 * is split into words (camelCase, snake_case, kebab-case, digits) and REFUSED when a word
 *   - contains `key`, `secret`, `plaintext`, `passw` or `passphrase`, or
 *   - is one of `pin`, `pins`, `seed`, `dek`, `kek`, `psk`, `otp`, `private`, `cvv`, `cvc`,
 * unless its LAST word says it is metadata about a key, not the key:
 *   `kcv`/`kcvs` (key check values — the way to show which key moved), `id`, `ids`, `kvn`, `kvns`,
 *   `version`, `versions`, `type`, `types`, `usage`, `index`, `length`, `bits`, `count`, `label`, `ref`,
 *   `alg`, `algorithm`, `name`, `names`, `status`, `state`, `tries`, `retries`, `attempts`, `expiry`,
 *   `expires`, `at`, `fingerprint`.
 * A KCV field's value must look like a KCV: a hex string of 1..8 bytes (or null, or an array of those), or
 * a key set's KCVs as an object whose members are such KCVs plus an integer `kvn` (e.g.
 * `{ kvn: 48, enc: "8A737F", mac: "DE0C54", dek: "77393E" }` — the member names are key roles there, and
 * the values cannot hold a key), so that a key cannot be smuggled in under the name `kcv`.
 *
 * Allowed: `kvn`, `keyVersion`, `newKeyKcvs`, `kekId`, `pinTries`. Refused: `keys`, `newKey`, `isdKeys`,
 * `sessionKey`, `secret`, `plaintext`, `pin`, `keyData`, `keyKcv: "<32 hex digits>"`.
 * Log KCVs, key versions and ids instead.
 */
const METADATA = new Set([
  'kcv', 'kcvs', 'id', 'ids', 'kvn', 'kvns', 'version', 'versions', 'type', 'types', 'usage', 'index', 'length',
  'bits', 'count', 'label', 'ref', 'alg', 'algorithm', 'name', 'names', 'status', 'state', 'tries', 'retries',
  'attempts', 'expiry', 'expires', 'at', 'fingerprint',
]);
const SENSITIVE_WORDS = new Set(['pin', 'pins', 'seed', 'dek', 'kek', 'psk', 'otp', 'private', 'cvv', 'cvc']);
const SENSITIVE_PARTS = ['key', 'secret', 'plaintext', 'passw', 'passphrase'];
const KCV_VALUE = /^(?:[0-9A-Fa-f]{2}){1,8}$/;

export function fieldWords(name: string): string[] {
  return name
    .replace(/([A-Z])([A-Z]+)s(?=[A-Z0-9_\-]|$)/g, (_m, a: string, b: string) => `${a}${b.toLowerCase()}s`) // KCVs → Kcvs
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Why `name` with `value` may not be audited, or undefined when it may. */
export function forbiddenField(name: string, value: unknown): string | undefined {
  const words = fieldWords(name);
  const last = words[words.length - 1];
  if (last === 'kcv' || last === 'kcvs') {
    const ok = (v: unknown): boolean => v === null || (typeof v === 'string' && KCV_VALUE.test(v));
    const keySet = (v: unknown): boolean =>
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      Object.entries(v).every(([k, x]) => (k === 'kvn' ? Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xff : ok(x)));
    if (Array.isArray(value) ? value.every((v) => ok(v) || keySet(v)) : ok(value) || keySet(value)) return undefined;
    return 'a KCV field must hold a KCV (hex, 1..8 bytes)';
  }
  const sensitive = words.some((w) => SENSITIVE_WORDS.has(w) || SENSITIVE_PARTS.some((p) => w.includes(p)));
  if (!sensitive) return undefined;
  if (last !== undefined && METADATA.has(last)) return undefined;
  return 'the name says key material; log KCVs, key versions or ids instead';
}

/** The path of the first forbidden field in `details` and why, or undefined. */
export function findForbiddenField(details: unknown, path = 'details'): { path: string; reason: string } | undefined {
  if (Array.isArray(details)) {
    for (let i = 0; i < details.length; i++) {
      const f = findForbiddenField(details[i], `${path}[${i}]`);
      if (f) return f;
    }
    return undefined;
  }
  if (details === null || typeof details !== 'object') return undefined;
  for (const [k, v] of Object.entries(details)) {
    const reason = forbiddenField(k, v);
    if (reason !== undefined) return { path: `${path}.${k}`, reason };
    const words = fieldWords(k);
    if (['kcv', 'kcvs'].includes(words[words.length - 1] ?? '')) continue; // validated as KCVs above
    const f = findForbiddenField(v, `${path}.${k}`);
    if (f) return f;
  }
  return undefined;
}
