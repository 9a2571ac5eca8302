/**
 * PUT KEY (GP Card Specification 2.3.1 §11.8): P1 = KVN to replace ('00' = add) with b8 = more commands
 * (Table 11-65), P2 = first key identifier with b8 = multiple keys (Table 11-66); data = new KVN then one key data
 * field per key (Table 11-67) in the basic (Table 11-68) or extended (Table 11-69) format; Key Component Blocks per
 * Tables 11-70/11-71 (an encrypted AES key is sent with its length first, GP Amendment D: '88' L '10' <16> '03' KCV);
 * response = new KVN followed by the KCVs (§11.8.3.1).
 *
 * Encryption under the DEK is a callback so this layer does not depend on a secure channel.
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { concat, equalConstantTime } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import { encodeLength } from '../core/tlv.ts';
import { GpError } from './errors.ts';
import { KCV_LENGTH, kcvFor } from './kcv.ts';
import { KeyType, isSecretKeyType } from './keys.ts';
import { Reader, byteOf, lv1 } from './reader.ts';

/** Encrypt a secret key component (already padded by the callback as its cipher needs) under the DEK. */
export type EncryptKey = (plain: Uint8Array, type: number) => Uint8Array;
/** Decrypt an encrypted key component block under the DEK (result may still carry padding). */
export type DecryptKey = (encrypted: Uint8Array, type: number) => Uint8Array;

/** One key component: its type (Table 11-16) and its clear value. */
export interface PutKeyComponent {
  readonly type: number;
  readonly value: Uint8Array;
}

/** One key data field. */
export interface PutKeyKey {
  readonly components: readonly PutKeyComponent[];
  /** Key check value; computed for DES/AES when absent, empty for other types. */
  readonly kcv?: Uint8Array;
  /** Use the extended format (Table 11-69) — implied by `usage`/`access`. */
  readonly extended?: boolean;
  /** Key usage qualifier bytes (§11.1.9), extended format. */
  readonly usage?: Uint8Array;
  /** Key access bytes (§11.1.10), extended format. */
  readonly access?: Uint8Array;
}

export interface PutKeyRequest {
  /** P1: version of the key set to replace, or 0 to add a new one. */
  readonly replaceKvn: number;
  /** New key version number, 1..127. */
  readonly newKvn: number;
  /** Key identifier of the first key (P2 b7..b1). */
  readonly keyId: number;
  readonly keys: readonly PutKeyKey[];
  /** P1 b8: more PUT KEY commands follow. */
  readonly more?: boolean;
  readonly cla?: number;
}

/** A parsed key data field on the card, components decrypted, KCV verified. */
export interface PutKeyCommandKey extends PutKeyKey {
  readonly keyId: number;
  readonly kcv: Uint8Array;
}

/** The card's view of a PUT KEY command. */
export interface PutKeyCommand {
  readonly replaceKvn: number;
  readonly newKvn: number;
  readonly keyId: number;
  readonly multiple: boolean;
  readonly more: boolean;
  readonly keys: readonly PutKeyCommandKey[];
}

/** PUT KEY response data. */
export interface PutKeyResponse {
  readonly kvn: number;
  readonly kcvs: readonly Uint8Array[];
}

function isExtended(k: PutKeyKey): boolean {
  return k.extended === true || k.usage !== undefined || k.access !== undefined;
}

function kcvOf(k: PutKeyKey): Uint8Array {
  if (k.kcv) return k.kcv;
  const c = k.components[0]!;
  return k.components.length === 1 ? kcvFor(c.type, c.value) : new Uint8Array(0);
}

function encodeComponent(c: PutKeyComponent, extended: boolean, encryptKey: EncryptKey): Uint8Array {
  const type = extended ? Uint8Array.of(0xff, byteOf(c.type, 'type')) : Uint8Array.of(byteOf(c.type, 'type'));
  if (!extended && c.type === 0xff) throw new RangeError("key type 'FF' needs the extended format");
  let block: Uint8Array;
  if (isSecretKeyType(c.type)) {
    const enc = encryptKey(c.value, c.type);
    // Table 11-70 (length first) when padding was added, and always for AES (Amendment D); else Table 11-71.
    block = enc.length !== c.value.length || c.type === KeyType.AES ? concat(encodeLength(c.value.length), enc) : enc;
  } else {
    block = c.value;
  }
  return concat(type, encodeLength(block.length), block);
}

/** Encode one key data field. */
function encodeKey(k: PutKeyKey, encryptKey: EncryptKey): Uint8Array {
  if (k.components.length === 0) throw new RangeError('a key needs at least one component');
  const ext = isExtended(k);
  const kcv = kcvOf(k);
  const parts = k.components.map((c) => encodeComponent(c, ext, encryptKey));
  parts.push(lv1(kcv, 'kcv'));
  if (ext) parts.push(lv1(k.usage ?? new Uint8Array(0), 'usage'), lv1(k.access ?? new Uint8Array(0), 'access'));
  return concat(...parts);
}

/**
 * Build PUT KEY: `80 D8 P1 P2 Lc newKvn keyData… 00`. Secret components go through `encryptKey`;
 * KCVs of DES/AES keys are computed when not given. Throws `RangeError` when the data exceeds 255 bytes.
 */
export function buildPutKey(req: PutKeyRequest, encryptKey: EncryptKey): CommandApdu {
  if (!Number.isInteger(req.replaceKvn) || req.replaceKvn < 0 || (req.replaceKvn > 0x7f && req.replaceKvn !== 0xff)) {
    // 00 adds a key set; 01..7F replaces one; FF replaces the initial key set (§11.8.2.1, §11.1.8).
    throw new RangeError('replaceKvn: 0..127 or 255');
  }
  if (!Number.isInteger(req.newKvn) || req.newKvn < 1 || req.newKvn > 0x7f) throw new RangeError('newKvn: 1..127');
  if (!Number.isInteger(req.keyId) || req.keyId < 0 || req.keyId > 0x7f) throw new RangeError('keyId: 0..127');
  if (req.keys.length === 0) throw new RangeError('PUT KEY needs at least one key');
  const data = concat(Uint8Array.of(req.newKvn), ...req.keys.map((k) => encodeKey(k, encryptKey)));
  if (data.length > 255) throw new RangeError(`PUT KEY data of ${data.length} bytes needs chaining`);
  const p1 = (req.more ? 0x80 : 0) | req.replaceKvn;
  const p2 = (req.keys.length > 1 ? 0x80 : 0) | req.keyId;
  return command(byteOf(req.cla ?? 0x80, 'cla'), 0xd8, p1, p2, data, 256);
}

function readBerLength(r: Reader, what: string): number {
  const at = r.offset;
  const l0 = r.u8(what);
  if (l0 <= 0x80) return l0;
  if (l0 === 0x81) return r.u8(what);
  if (l0 === 0x82) return (r.u8(what) << 8) | r.u8(what);
  throw new CodecError('BAD_LENGTH', `bad length byte ${l0.toString(16)} for ${what}`, at);
}

function dekBlock(type: number, dekBlockSize: number | undefined): number {
  return dekBlockSize ?? (type === KeyType.DES ? 8 : 16);
}

function decodeComponent(type: number, block: Uint8Array, decryptKey: DecryptKey, dekBlockSize: number | undefined): Uint8Array {
  if (!isSecretKeyType(type)) return block;
  const bs = dekBlock(type, dekBlockSize);
  if (block.length % bs === 0) {
    // Table 11-71: only the encrypted value.
    return decryptKey(block, type);
  }
  // Table 11-70: clear length, then the encrypted (padded) value.
  const r = new Reader(block);
  const n = readBerLength(r, 'length of key component value');
  const enc = r.take(r.remaining, 'encrypted key component');
  if (enc.length === 0 || enc.length % bs !== 0) throw new GpError('BAD_DATA', `encrypted key component of ${enc.length} bytes is not a multiple of ${bs}`);
  if (n === 0 || n > enc.length) throw new GpError('BAD_DATA', `key component length ${n} does not fit ${enc.length} encrypted bytes`);
  const plain = decryptKey(enc, type);
  const out = plain.slice(0, n);
  plain.fill(0);
  return out;
}

/**
 * Card side: parse PUT KEY, decrypt the secret components with `decryptKey`, and verify each KCV in constant
 * time. `dekBlockSize` (8 for SCP02's 3DES DEK, 16 for SCP03's AES DEK) decides between Tables 11-70 and 11-71;
 * by default 8 for DES keys and 16 otherwise.
 *
 * Errors: a KVN out of 01..7F, truncation, trailing bytes, several keys without P2 b8, a DES/AES key without
 * a KCV or of a length its type does not have → 6A80; a KCV that does not match → `GpError('KCV_MISMATCH')` (6982).
 */
export function parsePutKeyCommand(
  cmd: CommandApdu,
  decryptKey: DecryptKey,
  options: { dekBlockSize?: 8 | 16 } = {},
): PutKeyCommand {
  const r = new Reader(cmd.data);
  const newKvn = r.u8('new key version number');
  if (newKvn < 1 || newKvn > 0x7f) throw new GpError('BAD_DATA', `new KVN ${newKvn.toString(16)} not in 01..7F`);
  const keyId = cmd.p2 & 0x7f;
  const multiple = (cmd.p2 & 0x80) !== 0;
  const keys: PutKeyCommandKey[] = [];
  while (r.remaining > 0) {
    const extended = r.bytes[r.offset] === 0xff;
    const components: PutKeyComponent[] = [];
    // Key types are > '7F', so the first byte <= '7F' is the KCV length (§11.8.2.3.1).
    while (r.remaining > 0 && (extended ? r.bytes[r.offset] === 0xff : r.bytes[r.offset]! >= 0x80)) {
      if (extended) r.u8('extended key type marker');
      const type = r.u8('key type');
      if (!extended && type === 0xff) throw new GpError('BAD_DATA', "key type 'FF' inside a basic key data field");
      const len = readBerLength(r, 'length of key component block');
      if (len === 0) throw new GpError('BAD_DATA', 'empty key component block');
      const block = r.take(len, 'key component block');
      components.push({ type, value: decodeComponent(type, block, decryptKey, options.dekBlockSize) });
    }
    if (components.length === 0) throw new GpError('BAD_DATA', 'key data field without a key component');
    const kcv = r.lv1('key check value');
    let usage: Uint8Array | undefined;
    let access: Uint8Array | undefined;
    if (extended) {
      usage = r.lv1('key usage qualifier');
      access = r.lv1('key access');
    }
    if (components.length === 1 && (components[0]!.type === KeyType.DES || components[0]!.type === KeyType.AES)) {
      const c = components[0]!;
      if (kcv.length === 0) throw new GpError('BAD_DATA', 'a DES or AES key needs its key check value (B.6)');
      // Table 11-16: AES keys are 16, 24 or 32 bytes; DES keys 8, 16 or 24 — anything else is wrong data (6A80),
      // checked before the KCV computation that needs a valid key.
      const lengths = c.type === KeyType.AES ? [16, 24, 32] : [8, 16, 24];
      if (!lengths.includes(c.value.length)) throw new GpError('BAD_DATA', `key of type ${c.type.toString(16)} cannot be ${c.value.length} bytes`);
      const expected = kcvFor(c.type, c.value);
      if (!equalConstantTime(expected.slice(0, kcv.length), kcv) || kcv.length > KCV_LENGTH) {
        throw new GpError('KCV_MISMATCH', `key check value does not match key ${keyId + keys.length}`);
      }
    }
    keys.push({
      keyId: keyId + keys.length,
      components,
      kcv,
      ...(extended ? { extended: true } : {}),
      ...(usage && usage.length ? { usage } : {}),
      ...(access && access.length ? { access } : {}),
    });
  }
  if (keys.length === 0) throw new GpError('BAD_DATA', 'PUT KEY without key data');
  if (keys.length > 1 && !multiple) throw new GpError('BAD_DATA', 'several keys but P2 b8 (multiple keys) is not set');
  if (keyId + keys.length - 1 > 0x7f) throw new GpError('BAD_DATA', 'key identifiers run past 7F');
  return { replaceKvn: cmd.p1 & 0x7f, newKvn, keyId, multiple, more: (cmd.p1 & 0x80) !== 0, keys };
}

/** Card side: response data = KVN ‖ KCV1 ‖ KCV2 … (§11.8.3.1). */
export function encodePutKeyResponse(kvn: number, kcvs: readonly Uint8Array[]): Uint8Array {
  return concat(Uint8Array.of(byteOf(kvn, 'kvn')), ...kcvs);
}

/**
 * Host side: split the response into KVN and KCVs of `kcvLength` bytes (3 by default). A length that does not
 * divide throws `GpError('BAD_DATA')`. Compare the KCVs with `equalConstantTime` against what was sent.
 */
export function parsePutKeyResponse(data: Uint8Array, kcvLength = KCV_LENGTH): PutKeyResponse {
  if (data.length < 1) throw new GpError('BAD_DATA', 'PUT KEY response without KVN');
  const rest = data.length - 1;
  if (kcvLength <= 0 ? rest !== 0 : rest % kcvLength !== 0) {
    throw new GpError('BAD_DATA', `${rest} KCV bytes are not a multiple of ${kcvLength}`);
  }
  const kcvs: Uint8Array[] = [];
  for (let o = 1; o < data.length; o += kcvLength) kcvs.push(data.slice(o, o + kcvLength));
  return { kvn: data[0]!, kcvs };
}
