/**
 * ECC keys of a Security Domain (GPCS 2.3.1 Table 11-16 key types 'B0' public / 'B1' private with 'F0' key
 * parameter reference; Amendment F v1.4 §5.1 key identifiers): SK.SD.ECKA (KID '11' SCP11a, '13' SCP11b,
 * '15' SCP11c) and the trust anchor PK.CA-KLOC.ECDSA (KID '10' or '20'–'2F').
 */
import { fromHex } from '../../core/bytes.ts';
import { curveByReference, publicKeyOf, type CurveName } from '../../crypto/index.ts';
import type { KeyRecord } from '../state.ts';

export const ECC_PUBLIC = 0xb0;
export const ECC_PRIVATE = 0xb1;
export const KEY_PARAMETER_REFERENCE = 0xf0;

/** KIDs of SK.SD.ECKA (Amendment F §5.1). */
export const SD_ECKA_KIDS: readonly number[] = [0x11, 0x13, 0x15];

/** Is `kid` the KID of a PK.CA-KLOC.ECDSA trust anchor ('10', '20'–'2F')? */
export function isTrustAnchorKid(kid: number): boolean {
  return kid === 0x10 || (kid >= 0x20 && kid <= 0x2f);
}

/** The curve of an ECC key record, or undefined for other keys / unknown references. */
export function curveOfRecord(k: KeyRecord): CurveName | undefined {
  if ((k.type !== ECC_PUBLIC && k.type !== ECC_PRIVATE) || k.param === undefined) return undefined;
  return curveByReference(k.param)?.name;
}

/** Byte length of a key value for an ECC key type on the curve with reference `param`; undefined if unknown. */
export function eccValueLength(type: number, param: number): number | undefined {
  const c = curveByReference(param);
  if (c === undefined) return undefined;
  return type === ECC_PUBLIC ? 2 * c.size + 1 : type === ECC_PRIVATE ? c.size : undefined;
}

/** The public point of an ECC key record (derived for a private key). */
export function publicPointOf(k: KeyRecord): Uint8Array {
  const curve = curveOfRecord(k);
  if (curve === undefined) throw new RangeError(`key ${k.kvn}/${k.kid} is not an ECC key`);
  return k.type === ECC_PUBLIC ? fromHex(k.value) : publicKeyOf(curve, fromHex(k.value));
}
