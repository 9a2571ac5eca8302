/**
 * Canonical JSON for hashing: the JSON Canonicalization Scheme (RFC 8785) for the values the audit log
 * stores — object members sorted by UTF-16 code units, no whitespace, ECMAScript number and string
 * serialisation (which is what JCS prescribes). Refuses what JSON cannot represent exactly: non-finite
 * numbers, undefined, bigint, functions, symbols, byte arrays, class instances and cycles.
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };

export function canonicalJson(value: unknown): string {
  return write(value, new Set(), '$');
}

function write(v: unknown, seen: Set<object>, path: string): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${path}: ${v} is not representable in JSON`);
      return JSON.stringify(v);
    case 'object': {
      if (v === null) return 'null';
      if (seen.has(v)) throw new TypeError(`${path}: cycle`);
      seen.add(v);
      let out: string;
      if (Array.isArray(v)) {
        out = `[${v.map((x, i) => write(x, seen, `${path}[${i}]`)).join(',')}]`;
      } else {
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) throw new TypeError(`${path}: only plain objects, arrays and JSON scalars`);
        const keys = Object.keys(v).sort();
        out = `{${keys.map((k) => `${JSON.stringify(k)}:${write((v as Record<string, unknown>)[k], seen, `${path}.${k}`)}`).join(',')}}`;
      }
      seen.delete(v);
      return out;
    }
    default:
      throw new TypeError(`${path}: a ${typeof v} is not representable in JSON`);
  }
}
