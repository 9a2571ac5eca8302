/**
 * Secret redaction for logs. Key material never reaches a log line; key check values (KCVs) and
 * key identifiers do, so that an operator can still tell which key was used.
 *
 * Rules, applied to any JSON-like value:
 * - a field whose name looks secret (`key`, `secret`, `psk`, `kek`, `dek`, `password`, `passphrase`, `token`,
 *   `pin`, `cryptogram`, `privateKey`, …) is replaced by `[redacted]`; when its value is an object or array,
 *   everything inside is redacted too except the identifying fields below;
 * - the static and session keys of a key set, named as the specs name them (`enc`, `mac`, `rmac`, `dek`,
 *   `sEnc`, `sMac`, `sRmac`, `sDek`), are secret too;
 * - identifying fields are kept wherever they are: `kcv`/`kcvs`, `kvn`, `kid`, `keyVersion(Number)`,
 *   `keyId(entifier)`, `keyType`, `keyUsage`, `keyLength`, `idempotencyKey`; inside a `kcv`/`kcvs` object every
 *   member is a check value (`kcvs: { kvn, enc, mac, dek }`) and is kept;
 * - bytes (Uint8Array/Buffer) are never printed, only their length: `<12 bytes>`.
 */

export const REDACTED = '[redacted]';

const SECRET_NAME = /(key|secret|psk|kek|dek|passw|passphrase|token|pin$|^pin|cryptogram|credential|seed|mnemonic|^s?_?(enc|mac|rmac)$)/i;
const CHECK_VALUES = /^kcvs?$/i;
const KEEP_NAME =
  /^(kcvs?|kvn|kid|key_?version(_?number)?|key_?id(entifier)?|key_?type|key_?usage|key_?length|key_?set_?version|idempotency_?key|pin_?(tries|retries|attempts)_?(left|remaining)?)$/i;
const MAX_DEPTH = 12;

/** Is this field name treated as secret? (exported for tests and for the audit log) */
export function isSecretName(name: string): boolean {
  return !KEEP_NAME.test(name) && SECRET_NAME.test(name);
}

/** A copy of `value` safe to log. Never throws; cycles and very deep values are cut. */
export function redactSecrets(value: unknown): unknown {
  return walk(value, false, 0, new WeakSet());
}

/** A `kcvs` object or array: check values only; primitives kept, bytes shown by length. */
function checkValues(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (depth >= 3) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => checkValues(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, checkValues(v, depth + 1)]));
}

function walk(value: unknown, secret: boolean, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || value === undefined) return value;
  if (value instanceof Uint8Array) return secret ? REDACTED : `<${value.length} bytes>`;
  if (typeof value !== 'object') {
    if (secret) return REDACTED;
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, secret, depth + 1, seen));
    if (value instanceof Date) return secret ? REDACTED : value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(value)) {
      if (CHECK_VALUES.test(name)) out[name] = checkValues(v, 0);
      else if (KEEP_NAME.test(name)) out[name] = walk(v, false, depth + 1, seen);
      else if (secret || SECRET_NAME.test(name)) {
        out[name] = v !== null && typeof v === 'object' && !(v instanceof Uint8Array) ? walk(v, true, depth + 1, seen) : REDACTED;
      } else out[name] = walk(v, false, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
