/**
 * What host and card share in SCP11 (Amendment F v1.4): constants, the "i" bits (Table 4-1), SCP parameters
 * (Table 7-2), Key Usage Qualifier → security level (Tables 4-3, 4-4, §5.3.2), the 'A6' control reference
 * template and ePK.OCE.ECKA of MUTUAL / INTERNAL AUTHENTICATE (Tables 7-15, 7-21), the response
 * (Tables 7-18, 7-22), the receipt (Table 7-17) and the SCP03 secure messaging it starts (§5.3.2).
 */
import { concat } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { encodeTlv } from '../../core/tlv.ts';
import { aesCmac } from '../../crypto/aes.ts';
import { C_DECRYPTION, C_MAC, R_ENCRYPTION, R_MAC } from '../level.ts';
import { Scp03SecureMessaging } from '../scp03/wrap.ts';
import type { Scp11DerivedKeys } from './kdf.ts';
import { readTlv, readTlvs } from './tlv.ts';

export type Scp11Variant = '11a' | '11b' | '11c';

export const INS_PERFORM_SECURITY_OPERATION = 0x2a;
export const INS_MUTUAL_AUTHENTICATE = 0x82;
export const INS_INTERNAL_AUTHENTICATE = 0x88;

/** Key identifiers (§5.1). */
export const Scp11Kid = Object.freeze({
  CA_KLOC: 0x10,
  SCP11A: 0x11,
  DEK_SCP11A: 0x12,
  SCP11B: 0x13,
  DEK_SCP11B: 0x14,
  SCP11C: 0x15,
  DEK_SCP11C: 0x16,
  /** '20'–'2F': additional PK.CA-KLOC.ECDSA. */
  CA_KLOC_EXTRA_FIRST: 0x20,
  CA_KLOC_EXTRA_LAST: 0x2f,
} as const);

/** KID of SK.SD.ECKA for a variant. */
export function sdKeyKid(variant: Scp11Variant): number {
  return variant === '11a' ? Scp11Kid.SCP11A : variant === '11b' ? Scp11Kid.SCP11B : Scp11Kid.SCP11C;
}

/** "i" byte 1 bits (Table 4-1). */
export const Scp11I = Object.freeze({
  SCP11A: 0x01,
  SCP11B: 0x02,
  PERSISTENT_PK_OCE: 0x04,
  CERTIFICATE_CHAIN: 0x08,
  SCP11C: 0x10,
  SCP11C_AUTHORIZATIONS: 0x20,
  S16: 0x40,
} as const);

/** Key Usage Qualifier values (Table 7-15). */
export const KeyUsageQualifier = Object.freeze({
  C_MAC_R_MAC: 0x34,
  C_MAC_C_DEC_R_MAC_R_ENC: 0x3c,
  /** SCP11c only. */
  C_MAC_C_DEC: 0x1c,
  /** SCP11c only. */
  C_MAC_C_DEC_R_MAC: 0x74,
} as const);

/** GP API security level bits beyond secure messaging (GPCS §10.4.2). */
export const AUTHENTICATED = 0x80;
export const ANY_AUTHENTICATED = 0x40;

export const SCP11_ID = 0x11;
export const KEY_TYPE_AES = 0x88;

/** Secure messaging level (SCP03 P1 bits) of a Key Usage Qualifier, or `undefined` when not allowed for `variant`. */
export function levelOfKeyUsage(variant: Scp11Variant, kuq: number): number | undefined {
  switch (kuq) {
    case 0x34:
      return C_MAC | R_MAC;
    case 0x3c:
      return C_MAC | C_DECRYPTION | R_MAC | R_ENCRYPTION;
    case 0x1c:
      return variant === '11c' ? C_MAC | C_DECRYPTION : undefined;
    case 0x74:
      return variant === '11c' ? C_MAC | C_DECRYPTION | R_MAC : undefined;
    default:
      return undefined;
  }
}

/** SCP parameters byte (Table 7-2): b2b1 variant, b3 "include Host and Card ID". */
export function scpParameters(variant: Scp11Variant, withIds: boolean): number {
  return (variant === '11b' ? 0x00 : variant === '11a' ? 0x01 : 0x03) | (withIds ? 0x04 : 0);
}

/** Variant of an SCP parameters byte; `undefined` for RFU values. */
export function variantOfParameters(p: number): Scp11Variant | undefined {
  if (p & 0xf8) return undefined;
  const b = p & 0x03;
  return b === 0 ? '11b' : b === 1 ? '11a' : b === 3 ? '11c' : undefined;
}

/** The control reference template (key agreement) of Tables 7-15 / 7-21. */
export interface KeyAgreementCrt {
  readonly parameters: number;
  readonly keyUsage: number;
  readonly keyType: number;
  readonly keyLength: number;
  readonly hostId?: Uint8Array;
  readonly caKlccId?: Uint8Array;
}

export function encodeCrt(c: KeyAgreementCrt): Uint8Array {
  return encodeTlv(
    0xa6,
    concat(
      encodeTlv(0x90, Uint8Array.of(SCP11_ID, c.parameters)),
      encodeTlv(0x95, Uint8Array.of(c.keyUsage)),
      encodeTlv(0x80, Uint8Array.of(c.keyType)),
      encodeTlv(0x81, Uint8Array.of(c.keyLength)),
      c.hostId === undefined ? new Uint8Array(0) : encodeTlv(0x84, c.hostId),
      c.caKlccId === undefined ? new Uint8Array(0) : encodeTlv(0x42, c.caKlccId),
    ),
  );
}

export interface ParsedAuthenticateData {
  readonly scpId: number;
  readonly crt: KeyAgreementCrt;
  /** The 'A6' TLV exactly as received (receipt input). */
  readonly crtBytes: Uint8Array;
  readonly ePkOce: Uint8Array;
}

/**
 * Strictly parse the MUTUAL / INTERNAL AUTHENTICATE data field: 'A6' { '90' (2) '95' (1) '80' (1) '81' (1)
 * ['84' (1–n)] ['42' (1–n)] } then '5F49', nothing else. Throws `CodecError` (the card answers 6A80).
 */
export function parseAuthenticateData(data: Uint8Array): ParsedAuthenticateData {
  const top = readTlvs(data);
  if (top.length !== 2 || top[0]!.tag !== 0xa6 || top[1]!.tag !== 0x5f49) {
    throw new CodecError('BAD_TAG', "data must be 'A6' followed by '5F49'", top[0]?.tag !== 0xa6 ? 0 : (top[1]?.start ?? data.length));
  }
  const crt = top[0]!;
  const children = readTlvs(data, crt.valueStart, crt.end);
  const want: readonly [number, number, number, boolean][] = [
    [0x90, 2, 2, false],
    [0x95, 1, 1, false],
    [0x80, 1, 1, false],
    [0x81, 1, 1, false],
    [0x84, 1, 255, true],
    [0x42, 1, 16, true],
  ];
  const got = new Map<number, Uint8Array>();
  let w = 0;
  for (const c of children) {
    while (w < want.length && want[w]![0] !== c.tag) {
      if (!want[w]![3]) throw new CodecError('BAD_TAG', `tag ${want[w]![0].toString(16).toUpperCase()} expected`, c.start);
      w++;
    }
    if (w === want.length) throw new CodecError('BAD_TAG', `unexpected tag ${c.tag.toString(16).toUpperCase()} in 'A6'`, c.start);
    const [, min, max] = want[w]!;
    if (c.value.length < min || c.value.length > max) throw new CodecError('BAD_LENGTH', `tag ${c.tag.toString(16).toUpperCase()} has ${c.value.length} bytes`, c.start);
    got.set(c.tag, c.value);
    w++;
  }
  for (const [tag, , , optional] of want) {
    if (!optional && !got.has(tag)) throw new CodecError('TRUNCATED', `tag ${tag.toString(16).toUpperCase()} missing in 'A6'`, crt.end);
  }
  const id = got.get(0x90)!;
  const hostId = got.get(0x84);
  const caKlccId = got.get(0x42);
  return {
    scpId: id[0]!,
    crt: {
      parameters: id[1]!,
      keyUsage: got.get(0x95)![0]!,
      keyType: got.get(0x80)![0]!,
      keyLength: got.get(0x81)![0]!,
      ...(hostId === undefined ? {} : { hostId }),
      ...(caKlccId === undefined ? {} : { caKlccId }),
    },
    crtBytes: data.slice(crt.start, crt.end),
    ePkOce: top[1]!.value,
  };
}

/** Response data: '5F49' ePK.SD.ECKA (SCP11c: PK.SD.ECKA) ‖ '86' receipt. */
export function encodeAuthenticateResponse(sdKey: Uint8Array, receipt: Uint8Array): Uint8Array {
  return concat(encodeTlv(0x5f49, sdKey), encodeTlv(0x86, receipt));
}

/** Strictly parse the response data (Tables 7-18 / 7-22). Throws `CodecError`. */
export function parseAuthenticateResponse(data: Uint8Array): { readonly sdKey: Uint8Array; readonly receipt: Uint8Array } {
  const first = readTlv(data, 0);
  if (first.tag !== 0x5f49) throw new CodecError('BAD_TAG', "'5F49' expected", 0);
  const second = readTlv(data, first.end);
  if (second.tag !== 0x86) throw new CodecError('BAD_TAG', "'86' expected", first.end);
  if (second.value.length !== 16) throw new CodecError('BAD_LENGTH', 'receipt must be 16 bytes', second.start);
  if (second.end !== data.length) throw new CodecError('TRAILING_DATA', 'bytes after the receipt', second.end);
  return { sdKey: first.value, receipt: second.value };
}

/** Receipt (Table 7-17): AES-CMAC(receipt key, 'A6' TLV ‖ '5F49' ePK.OCE.ECKA ‖ '5F49' ePK.SD.ECKA or PK.SD.ECKA). */
export function computeReceipt(receiptKey: Uint8Array, crtBytes: Uint8Array, ePkOce: Uint8Array, sdKey: Uint8Array): Uint8Array {
  return aesCmac(receiptKey, concat(crtBytes, encodeTlv(0x5f49, ePkOce), encodeTlv(0x5f49, sdKey)));
}

/** SCP03 secure messaging (Amendment D) started from the receipt as MAC chaining value (§5.3.2). */
export function startMessaging(keys: Scp11DerivedKeys, staticDek: Uint8Array | undefined, level: number, s16: boolean, receipt: Uint8Array): Scp03SecureMessaging {
  return new Scp03SecureMessaging({
    sessionKeys: { sEnc: keys.sEnc, sMac: keys.sMac, sRmac: keys.sRmac },
    dek: staticDek ?? keys.sDek,
    s16,
    level,
    initialChaining: receipt,
  });
}
