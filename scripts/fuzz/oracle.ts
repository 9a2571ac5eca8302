/**
 * The card fuzzer's oracle: what a GlobalPlatform card must never do, judged per command.
 *
 *  - `process()` must not throw and must answer at least SW1 SW2, with SW1 in '6X' (X ≠ 0) or '9X'
 *    (ISO/IEC 7816-4 §5.6).
 *  - A malformed command (see `malformedReason`) must be refused: no '90xx', '61xx' (normal processing) nor
 *    '62xx'/'63xx' (processed with a warning).
 *  - A command that fails (any other status word, including '6Cxx') leaves the persistent state as it was.
 *  - Every state the card commits can be loaded again (`parseState`).
 *
 * "Malformed" is only what the specifications make certainly invalid, whoever handles the command:
 *   ISO/IEC 7816-3 §12.1 length coding (whatever `decodeCommand` rejects); ISO/IEC 7816-4 §5.4.1 class 'FF'
 *   and the RFU classes '001x xxxx'; ISO/IEC 7816-4 §11.1.2 MANAGE CHANNEL (no data field, P1 '00'/'80',
 *   channel number ≤ 19); §7.6.1 GET RESPONSE (no data field, P1-P2 '0000'); §7.1.1 SELECT by DF name (name of
 *   at most 16 bytes); GPCS 2.3.1 §11.8 / Amendment D §7.1 INITIALIZE UPDATE (host challenge of 8 or 16 bytes)
 *   and EXTERNAL AUTHENTICATE (cryptogram and C-MAC: 16 or 24 bytes); §11.2 DELETE [P1 '00'] and §11.4 GET
 *   STATUS (BER-TLV data: a length running past Lc, ISO/IEC 7816-4 '6A85'; for GET STATUS only the mandatory
 *   '4F' object, as §11.4.2.3 has the rest ignored when not supported); §11.5 INSTALL (a sequence of
 *   length-prefixed fields: a length running past Lc); §11.8.2.3 PUT KEY (key data fields: a length running
 *   past Lc, a missing KCV length); §11.10 SET STATUS for an application (an AID of 5–16 bytes).
 * Walks stop without judging at anything the rules above do not settle (long-form or indefinite lengths,
 * padding bytes, the extended PUT KEY format), so a rule never fires on a legal encoding.
 */
import { decodeCommand, type CommandApdu } from '../../src/apdu/command.ts';

/** Processed (normal or with a warning): '9000', '61xx', '62xx', '63xx'. */
export function isProcessed(sw: number): boolean {
  const s1 = sw >> 8;
  return sw === 0x9000 || s1 === 0x61 || s1 === 0x62 || s1 === 0x63;
}

/** SW1 '6X' (X ≠ 0) or '9X', ISO/IEC 7816-4 §5.6. */
export function isValidSw1(sw1: number): boolean {
  return (sw1 >= 0x61 && sw1 <= 0x6f) || (sw1 & 0xf0) === 0x90;
}

/** Why the class byte is invalid, or undefined. */
export function invalidClass(cla: number): string | undefined {
  if (cla === 0xff) return "class 'FF' is invalid (ISO/IEC 7816-4 §5.4.1)";
  if ((cla & 0xe0) === 0x20) return "class '001x xxxx' is RFU (ISO/IEC 7816-4 §5.4.1)";
  return undefined;
}

/** A BER length at `o`: `[length, size]`, 'truncated', or undefined for forms the rules do not judge. */
function berLength(d: Uint8Array, o: number): [number, number] | 'truncated' | undefined {
  if (o >= d.length) return 'truncated';
  const b = d[o]!;
  if (b < 0x80) return [b, 1];
  const n = b & 0x7f;
  if (n === 0 || n > 3) return undefined;
  if (o + n >= d.length) return 'truncated';
  let v = 0;
  for (let i = 1; i <= n; i++) v = v * 256 + d[o + i]!;
  return [v, 1 + n];
}

/** Top-level BER-TLV objects (or only the first, `firstOnly`) whose tag, length or value run past the end of `d`. */
export function tlvOverrun(d: Uint8Array, firstOnly = false): string | undefined {
  let o = 0;
  while (o < d.length) {
    if (firstOnly && o > 0) return undefined;
    const first = d[o]!;
    if (first === 0x00 || first === 0xff) {
      o++; // ISO/IEC 7816-4 §5.2.2.1: padding between objects is allowed
      continue;
    }
    const at = o;
    o++;
    if ((first & 0x1f) === 0x1f) {
      while (o < d.length && (d[o]! & 0x80) !== 0) o++;
      if (o >= d.length) return `tag at offset ${at} runs past the data field`;
      o++;
    }
    const l = berLength(d, o);
    if (l === undefined) return undefined;
    if (l === 'truncated') return `length of the object at offset ${at} runs past the data field`;
    o += l[1];
    if (o + l[0] > d.length) return `object at offset ${at} declares ${l[0]} bytes, ${d.length - o} remain`;
    o += l[0];
  }
  return undefined;
}

/** INSTALL data: length-prefixed fields (GPCS 2.3.1 Tables 11-43..11-48); one-byte lengths only. */
export function lvOverrun(d: Uint8Array): string | undefined {
  let o = 0;
  while (o < d.length) {
    const n = d[o]!;
    if (n >= 0x80) return undefined;
    if (o + 1 + n > d.length) return `field at offset ${o} declares ${n} bytes, ${d.length - o - 1} remain`;
    o += 1 + n;
  }
  return undefined;
}

/** PUT KEY data: KVN, then key type, length, key data, KCV length, KCV (GPCS 2.3.1 Table 11-70, basic format). */
export function putKeyOverrun(d: Uint8Array): string | undefined {
  if (d.length === 0) return 'PUT KEY without a data field';
  let o = 1;
  while (o < d.length) {
    const type = d[o]!;
    if (type === 0xff) return undefined; // extended format: not judged
    const l = berLength(d, o + 1);
    if (l === undefined) return undefined;
    if (l === 'truncated') return `key at offset ${o} has no length`;
    const end = o + 1 + l[1] + l[0];
    if (end > d.length) return `key at offset ${o} declares ${l[0]} bytes, ${d.length - o - 1 - l[1]} remain`;
    if (end >= d.length) return `key at offset ${o} has no KCV length`;
    const kcv = d[end]!;
    if (end + 1 + kcv > d.length) return `KCV at offset ${end} declares ${kcv} bytes, ${d.length - end - 1} remain`;
    o = end + 1 + kcv;
  }
  return undefined;
}

/** Why a decoded command is certainly malformed, or undefined. */
export function malformedCommand(c: CommandApdu): string | undefined {
  const cls = invalidClass(c.cla);
  if (cls) return cls;
  const n = c.data.length;
  // EXTERNAL AUTHENTICATE always carries its C-MAC: host cryptogram (8 or 16) ‖ C-MAC (8).
  if ((c.cla & 0x80) !== 0 && c.ins === 0x82) return n === 16 || n === 24 ? undefined : `EXTERNAL AUTHENTICATE with ${n} data bytes`;
  // Under secure messaging the data field holds a MAC and maybe ciphertext: its structure is judged on the
  // plaintext (before wrapping), never on the protected bytes.
  if (secureMessaging(c.cla)) return undefined;
  if ((c.cla & 0x80) === 0) {
    if (c.ins === 0x70) {
      if (n > 0) return 'MANAGE CHANNEL with a data field (ISO/IEC 7816-4 §11.1.2)';
      if (c.p1 !== 0x00 && c.p1 !== 0x80) return `MANAGE CHANNEL P1 ${hex2(c.p1)} (ISO/IEC 7816-4 §11.1.2)`;
      if (c.p2 > 19) return `MANAGE CHANNEL channel number ${c.p2} > 19`;
    }
    if (c.ins === 0xc0) {
      if (n > 0) return 'GET RESPONSE with a data field (ISO/IEC 7816-4 §7.6.1)';
      if (c.p1 !== 0 || c.p2 !== 0) return "GET RESPONSE with P1-P2 other than '0000' (ISO/IEC 7816-4 §7.6.1)";
    }
    if (c.ins === 0xa4 && c.p1 === 0x04 && n > 16) return `SELECT by name with a ${n}-byte name (ISO/IEC 7816-4 §7.1.1: at most 16)`;
    return undefined;
  }
  switch (c.ins) {
    case 0x50:
      return n === 8 || n === 16 ? undefined : `INITIALIZE UPDATE with a ${n}-byte host challenge`;
    case 0xe4:
      return c.p1 === 0x00 ? prefix('DELETE', tlvOverrun(c.data)) : undefined;
    case 0xf2:
      // Only the mandatory '4F' is judged: unsupported search criteria and tag lists "shall be ignored"
      // (§11.4.2.3), and the gp layer deliberately ignores a malformed remainder for interoperability.
      return c.data[0] === 0x4f ? prefix('GET STATUS', tlvOverrun(c.data)) : undefined;
    case 0xe6:
      return prefix('INSTALL', lvOverrun(c.data));
    case 0xd8:
      return prefix('PUT KEY', putKeyOverrun(c.data));
    case 0xf0:
      return (c.p1 === 0x40 || c.p1 === 0x60) && (n < 5 || n > 16) ? `SET STATUS for an application with a ${n}-byte AID` : undefined;
    default:
      return undefined;
  }
}

/** Why raw command bytes are certainly malformed, or undefined. */
export function malformedReason(bytes: Uint8Array): string | undefined {
  let c: CommandApdu;
  try {
    c = decodeCommand(bytes);
  } catch (e) {
    return `not an ISO/IEC 7816-3 command encoding: ${(e as Error).message}`;
  }
  return malformedCommand(c);
}

/**
 * Card content management the card must refuse outside an authenticated secure channel (GPCS 2.3.1 §9, §10:
 * DELETE, INSTALL, LOAD, PUT KEY need an authenticated session with the SD): proprietary class, one of those
 * instructions, sent as raw bytes (never a host-wrapped command).
 */
export function needsSecureChannel(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const cla = bytes[0]!;
  if ((cla & 0x80) === 0 || cla === 0xff) return false;
  return bytes[1] === 0xe4 || bytes[1] === 0xe6 || bytes[1] === 0xe8 || bytes[1] === 0xd8;
}

/** Secure messaging indicated in a class byte (GPCS 2.3.1 Tables 11-11/11-12). */
export function secureMessaging(cla: number): boolean {
  return cla & 0x40 ? (cla & 0x20) !== 0 : (cla & 0x0c) !== 0;
}

/** Logical channel coded in a valid class byte (GPCS 2.3.1 §11.1.4). */
export function channelOfClass(cla: number): number {
  return cla & 0x40 ? 4 + (cla & 0x0f) : cla & 0x03;
}

function prefix(what: string, reason: string | undefined): string | undefined {
  return reason === undefined ? undefined : `${what}: ${reason}`;
}

function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
