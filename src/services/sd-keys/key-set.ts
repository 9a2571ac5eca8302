/**
 * Security-domain key sets as the platforms hold them: a key version number, the protocol the SD speaks,
 * and the three static keys (ENC, MAC, DEK; key identifiers 1, 2, 3). SCP03 key sets are AES-128,
 * SCP02 key sets two-key 3DES (GPCS 2.2.1 E.1.1, Amendment D §4.1).
 */
import { toHex, concat, fromHex, zeroize } from '../../core/bytes.ts';
import { systemRandom, type RandomSource } from '../../crypto/random.ts';
import { kcvAes, kcvDes } from '../../gp/kcv.ts';

export interface SdKeySet {
  readonly kvn: number;
  readonly scp: 2 | 3;
  readonly enc: Uint8Array;
  readonly mac: Uint8Array;
  readonly dek: Uint8Array;
}

/** KCVs of a key set, for logs, audit records and KCV checks (never the keys themselves). */
export interface KeySetKcvs {
  readonly kvn: number;
  readonly enc: string;
  readonly mac: string;
  readonly dek: string;
}

export function generateKeySet(kvn: number, scp: 2 | 3, random: RandomSource = systemRandom): SdKeySet {
  if (!Number.isInteger(kvn) || kvn < 1 || kvn > 0x7f) throw new RangeError(`key version ${kvn} not in 1..127`);
  return { kvn, scp, enc: random(16), mac: random(16), dek: random(16) };
}

export function keySetKcvs(set: SdKeySet): KeySetKcvs {
  const kcv = set.scp === 3 ? kcvAes : kcvDes;
  return { kvn: set.kvn, enc: toHex(kcv(set.enc)), mac: toHex(kcv(set.mac)), dek: toHex(kcv(set.dek)) };
}

/** The next key version in 1..127 (wrapping after 7F). */
export function nextKvn(kvn: number): number {
  return kvn >= 0x7f ? 1 : kvn + 1;
}

/** Serialised form for envelope encryption: kvn, scp, then the three 16-byte keys. */
export function encodeKeySet(set: SdKeySet): Uint8Array {
  return concat(Uint8Array.of(set.kvn, set.scp), set.enc, set.mac, set.dek);
}

export function decodeKeySet(bytes: Uint8Array): SdKeySet {
  if (bytes.length !== 50 || (bytes[1] !== 2 && bytes[1] !== 3)) throw new RangeError('not an encoded key set');
  return {
    kvn: bytes[0]!,
    scp: bytes[1] as 2 | 3,
    enc: bytes.slice(2, 18),
    mac: bytes.slice(18, 34),
    dek: bytes.slice(34, 50),
  };
}

export function wipeKeySet(set: SdKeySet): void {
  zeroize(set.enc, set.mac, set.dek);
}

/** A key set from hex (tests, CLI). */
export function keySetFromHex(kvn: number, scp: 2 | 3, enc: string, mac: string, dek: string): SdKeySet {
  return { kvn, scp, enc: fromHex(enc), mac: fromHex(mac), dek: fromHex(dek) };
}
