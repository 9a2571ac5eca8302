/**
 * SCP10 session keys, control reference templates and security level (GPCS 2.2.1 Appendix F.3.1, F.1.5.2,
 * Tables F-11, F-12, F-32).
 *
 * Session data = 'D3 01' level ‖ CRT ‖ CRT … where a CRT is 'B4' (CCT: C-MAC/R-MAC) or 'B8' (CT: C-ENC/R-ENC
 * or DEK) holding '95' key usage qualifier, optional '80' key type, and with key transport 'D1' session key and
 * '91' initial ICV sequence counter (8 bytes).
 * Choices where the spec is open: session keys are 16 bytes (double-length 3DES; 24-byte keys are refused with
 * 6A80 because the B.1.2.2 MAC is defined for double-length keys); '91' is required in a B4 CRT and optional
 * in B8; the '80' key type is accepted and ignored (sensitive data is always 3DES-ECB); the KDF counter of
 * F.3.1.3 is 4 bytes big-endian ("32 bit" in the bullet list; the "32 byte" wording is taken as a typo).
 */
import { concat, xor } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { encodeTlv, parseTlvs, type Tlv } from '../../core/tlv.ts';
import { sha1 } from '../../crypto/index.ts';

export const CRT_CCT = 0xb4;
export const CRT_CT = 0xb8;
/** Key usage qualifiers ('95'). */
export const KeyUsage = Object.freeze({ COMMANDS: 0x10, RESPONSES: 0x20, BOTH: 0x30, SENSITIVE_RESPONSES: 0x40, SENSITIVE_COMMANDS: 0x80, SENSITIVE_BOTH: 0xc0 } as const);

/** Security level bits SCP10 uses (GPCS §10.4 coding): C-MAC 01, C-ENC 02, R-MAC 10, R-ENC 20. */
export const SCP10_LEVEL_BITS = 0x33;

export interface Crt {
  readonly tag: typeof CRT_CCT | typeof CRT_CT;
  readonly usage: number;
  /** 16-byte session key (key transport only). */
  readonly key?: Uint8Array;
  /** 8-byte initial ICV sequence counter (key transport only). */
  readonly counter?: Uint8Array;
}

export interface SessionData {
  readonly level: number;
  readonly crts: readonly Crt[];
}

export function encodeCrt(c: Crt): Uint8Array {
  return encodeTlv(c.tag, concat(encodeTlv(0x95, Uint8Array.of(c.usage)), c.key ? encodeTlv(0xd1, c.key) : new Uint8Array(0), c.counter ? encodeTlv(0x91, c.counter) : new Uint8Array(0)));
}

export function encodeSessionData(d: SessionData): Uint8Array {
  return concat(Uint8Array.of(0xd3, 0x01, d.level), ...d.crts.map(encodeCrt));
}

/**
 * Parse 'D3 01 level' ‖ CRTs; `withKeys` says whether 'D1'/'91' are expected (key transport) or forbidden
 * (key agreement). Returns `null` on anything malformed or a level the CRTs cannot serve.
 */
export function parseSessionData(bytes: Uint8Array, withKeys: boolean): SessionData | null {
  let list: Tlv[];
  try {
    list = parseTlvs(bytes);
  } catch (e) {
    if (e instanceof CodecError) return null;
    throw e;
  }
  const first = list[0];
  if (first === undefined || first.tag !== 0xd3 || first.value.length !== 1 || list.length < 2) return null;
  const level = first.value[0]!;
  const crts: Crt[] = [];
  for (const t of list.slice(1)) {
    if ((t.tag !== CRT_CCT && t.tag !== CRT_CT) || t.children === undefined) return null;
    let usage: number | undefined;
    let key: Uint8Array | undefined;
    let counter: Uint8Array | undefined;
    for (const c of t.children) {
      if (c.tag === 0x95 && c.value.length === 1 && usage === undefined) usage = c.value[0]!;
      else if (c.tag === 0x80 && c.value.length <= 1) continue;
      else if (c.tag === 0xd1 && c.value.length === 16 && key === undefined) key = c.value;
      else if (c.tag === 0x91 && c.value.length === 8 && counter === undefined) counter = c.value;
      else return null;
    }
    if (usage === undefined) return null;
    const ok = t.tag === CRT_CCT ? usage === 0x10 || usage === 0x20 || usage === 0x30 : [0x10, 0x20, 0x30, 0x40, 0x80, 0xc0].includes(usage);
    if (!ok) return null;
    if (withKeys) {
      if (key === undefined || (t.tag === CRT_CCT && counter === undefined)) return null;
    } else if (key !== undefined || counter !== undefined) return null;
    crts.push({ tag: t.tag, usage, ...(key ? { key } : {}), ...(counter ? { counter } : {}) });
  }
  const d = { level, crts };
  return levelServed(d) ? d : null;
}

/** Index of the CRT serving a function, or -1. */
export function findKey(crts: readonly Crt[], tag: number, usageBit: number): number {
  return crts.findIndex((c) => c.tag === tag && (c.usage & usageBit) !== 0);
}

/** Does every bit of the level have a key (and only SCP10 bits are set)? */
export function levelServed(d: SessionData): boolean {
  if ((d.level & ~SCP10_LEVEL_BITS) !== 0) return false;
  if (d.level & 0x01 && findKey(d.crts, CRT_CCT, 0x10) < 0) return false;
  if (d.level & 0x10 && findKey(d.crts, CRT_CCT, 0x20) < 0) return false;
  if (d.level & 0x02 && findKey(d.crts, CRT_CT, 0x10) < 0) return false;
  if (d.level & 0x20 && findKey(d.crts, CRT_CT, 0x20) < 0) return false;
  return true;
}

/** The CRTs the host proposes: one MAC key (B4, commands+responses), one ENC key (B8), one DEK (B8 'C0'). */
export function defaultCrts(random: (n: number) => Uint8Array, withKeys: boolean): Crt[] {
  const k = (c: Crt): Crt => (withKeys ? { ...c, key: random(16), ...(c.tag === CRT_CCT ? { counter: random(8) } : {}) } : c);
  return [k({ tag: CRT_CCT, usage: 0x30 }), k({ tag: CRT_CT, usage: 0x30 }), k({ tag: CRT_CT, usage: 0xc0 })];
}

/** A session key in use: key bytes and its ICV sequence counter. */
export interface SessionKey {
  readonly tag: number;
  readonly usage: number;
  readonly key: Uint8Array;
  readonly counter: Uint8Array;
}

/** Key transport: the keys as sent ('91' counter, or zeros for a B8 key without one). */
export function transportedKeys(d: SessionData): SessionKey[] {
  return d.crts.map((c) => ({ tag: c.tag, usage: c.usage, key: c.key!.slice(), counter: c.counter?.slice() ?? new Uint8Array(8) }));
}

/**
 * Key agreement (F.3.1.3, Table F-12): key = SHA-1(OES ⊕ CS ‖ counter(4))[0..16); counters 1/3 for the first and
 * later MAC (B4) keys, 2/4 for ENC (B8 '10'/'20'/'30') keys, 5/6 for data encryption (B8 '40'/'80'/'C0') keys.
 * ICV counter start = last 4 bytes of CS ‖ last 4 bytes of OES (F.2.3), the same for every key.
 */
export function agreedKeys(d: SessionData, cardSecret: Uint8Array, oceSecret: Uint8Array): SessionKey[] {
  const shared = xor(oceSecret, cardSecret);
  const seen = { mac: 0, enc: 0, dek: 0 };
  const icv = concat(cardSecret.subarray(28), oceSecret.subarray(28));
  const out = d.crts.map((c) => {
    const kind = c.tag === CRT_CCT ? 'mac' : c.usage & 0x30 ? 'enc' : 'dek';
    const base = kind === 'mac' ? 1 : kind === 'enc' ? 2 : 5;
    const n = kind === 'dek' ? (seen.dek++ === 0 ? 5 : 6) : seen[kind]++ === 0 ? base : base + 2;
    const key = sha1(shared, Uint8Array.of(0, 0, 0, n)).slice(0, 16);
    return { tag: c.tag, usage: c.usage, key, counter: icv.slice() };
  });
  shared.fill(0);
  return out;
}
