/**
 * INSTALL parameters (GP Card Specification 2.3.1 §11.5.2.3.7, Tables 11-48..11-53): System Specific Parameters
 * 'EF', Application Specific Parameters 'C9' (BER-TLV for a Security Domain), token CRT 'B6'; and the
 * confirmation response shared by INSTALL, LOAD and DELETE (Tables 11-25, 11-54, 11-59).
 */
import { concat } from '../core/bytes.ts';
import { encodeLength, encodeTlv, findAll, findTag, parseTlvs, type Tlv } from '../core/tlv.ts';
import { GpError } from './errors.ts';
import { Reader, byteOf } from './reader.ts';

// ---------------------------------------------------------------------------------------------------------
// Parameters (§11.5.2.3.7)

function memValue(n: number, name: string): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${name}: ${n} out of range`);
  // 2 bytes up to 32767, 4 bytes above (§11.5.2.3.7).
  return n <= 32767 ? Uint8Array.of(n >> 8, n & 0xff) : Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function readMem(t: Tlv | undefined, what: string): number | undefined {
  if (!t) return undefined;
  const v = t.value;
  if (v.length === 2) return (v[0]! << 8) | v[1]!;
  if (v.length === 4) return ((v[0]! << 24) >>> 0) + ((v[1]! << 16) | (v[2]! << 8) | v[3]!);
  throw new GpError('BAD_DATA', `${what} must be 2 or 4 bytes, got ${v.length}`);
}

/** System Specific Parameters ('EF'), Tables 11-48, 11-49, 11-50, 11-52. */
export interface SystemParameters {
  /** 'C6' Non-volatile code minimum memory requirement (load). */
  readonly nonVolatileCodeMin?: number;
  /** 'C7' Volatile data minimum (load) / Volatile memory quota (install). */
  readonly volatileMemory?: number;
  /** 'C8' Non-volatile data minimum (load) / Non-volatile memory quota (install). */
  readonly nonVolatileMemory?: number;
  /** 'CD' Load File Data Block format id. */
  readonly loadFileDataBlockFormat?: number;
  /** 'DD' Load File Data Block parameters. */
  readonly loadFileDataBlockParameters?: Uint8Array;
  /** 'CB' Global Service Parameters (two bytes each). */
  readonly globalServiceParameters?: Uint8Array;
  /** 'D7' Volatile reserved memory. */
  readonly volatileReserved?: number;
  /** 'D8' Non-volatile reserved memory. */
  readonly nonVolatileReserved?: number;
  /** 'CA' [TS 102 226] specific parameter. */
  readonly ts102226?: Uint8Array;
  /** 'CF' Implicit selection parameters (Table 11-15). */
  readonly implicitSelection?: readonly number[];
  /** 'D9' Restrict parameter (Table 11-53). */
  readonly restrict?: number;
}

function encodeSystem(s: SystemParameters): Uint8Array {
  const parts: Uint8Array[] = [];
  if (s.nonVolatileCodeMin !== undefined) parts.push(encodeTlv(0xc6, memValue(s.nonVolatileCodeMin, 'nonVolatileCodeMin')));
  if (s.volatileMemory !== undefined) parts.push(encodeTlv(0xc7, memValue(s.volatileMemory, 'volatileMemory')));
  if (s.nonVolatileMemory !== undefined) parts.push(encodeTlv(0xc8, memValue(s.nonVolatileMemory, 'nonVolatileMemory')));
  if (s.loadFileDataBlockFormat !== undefined) parts.push(encodeTlv(0xcd, Uint8Array.of(byteOf(s.loadFileDataBlockFormat, 'format'))));
  if (s.loadFileDataBlockParameters) parts.push(encodeTlv(0xdd, s.loadFileDataBlockParameters));
  if (s.globalServiceParameters) parts.push(encodeTlv(0xcb, s.globalServiceParameters));
  if (s.volatileReserved !== undefined) parts.push(encodeTlv(0xd7, memValue(s.volatileReserved, 'volatileReserved')));
  if (s.nonVolatileReserved !== undefined) parts.push(encodeTlv(0xd8, memValue(s.nonVolatileReserved, 'nonVolatileReserved')));
  if (s.ts102226) parts.push(encodeTlv(0xca, s.ts102226));
  for (const p of s.implicitSelection ?? []) parts.push(encodeTlv(0xcf, Uint8Array.of(byteOf(p, 'implicitSelection'))));
  if (s.restrict !== undefined) parts.push(encodeTlv(0xd9, Uint8Array.of(byteOf(s.restrict, 'restrict'))));
  return encodeTlv(0xef, concat(...parts));
}

function parseSystem(t: Tlv): SystemParameters {
  const c = t.children ?? [];
  const one = (tag: number, what: string): number | undefined => {
    const x = findTag(c, tag);
    if (!x) return undefined;
    if (x.value.length !== 1) throw new GpError('BAD_DATA', `${what} must be 1 byte`);
    return x.value[0]!;
  };
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined) out[k] = v;
  };
  put('nonVolatileCodeMin', readMem(findTag(c, 0xc6), "'C6'"));
  put('volatileMemory', readMem(findTag(c, 0xc7), "'C7'"));
  put('nonVolatileMemory', readMem(findTag(c, 0xc8), "'C8'"));
  put('loadFileDataBlockFormat', one(0xcd, "'CD'"));
  put('loadFileDataBlockParameters', findTag(c, 0xdd)?.value);
  const cb = findTag(c, 0xcb);
  if (cb && (cb.value.length < 2 || cb.value.length % 2 !== 0)) throw new GpError('BAD_DATA', "'CB' holds two-byte service parameters");
  put('globalServiceParameters', cb?.value);
  put('volatileReserved', readMem(findTag(c, 0xd7), "'D7'"));
  put('nonVolatileReserved', readMem(findTag(c, 0xd8), "'D8'"));
  put('ts102226', findTag(c, 0xca)?.value);
  const cf = findAll(c, 0xcf).map((x) => {
    if (x.value.length !== 1) throw new GpError('BAD_DATA', "'CF' must be 1 byte");
    return x.value[0]!;
  });
  if (cf.length) out['implicitSelection'] = cf;
  put('restrict', one(0xd9, "'D9'"));
  return out as SystemParameters;
}

/** Token CRT ('B6') as raw value bytes (children '42', '45', '5F20', '93'). */
function crt(params: { readonly tokenCrt?: Uint8Array }): Uint8Array[] {
  return params.tokenCrt ? [encodeTlv(0xb6, params.tokenCrt)] : [];
}

/** Install / make selectable / registry update / extradition parameters (Tables 11-49..11-52). */
export interface InstallParameters {
  /** 'C9' Application Specific Parameters; mandatory for INSTALL [for install] (encoded as 'C9 00' when absent). */
  readonly applicationSpecific?: Uint8Array;
  /** 'EF' System Specific Parameters. */
  readonly system?: SystemParameters;
  /** 'EA' [TS 102 226] specific template (value bytes). */
  readonly ts102226Template?: Uint8Array;
  /** 'B6' Control Reference Template for Digital Signature (value bytes). */
  readonly tokenCrt?: Uint8Array;
}

/**
 * Encode an Install Parameters field. `forInstall` (default true) always emits 'C9' (mandatory for
 * INSTALL [for install], Table 11-49); set false for make selectable / registry update / extradition.
 */
export function encodeInstallParameters(p: InstallParameters, forInstall = true): Uint8Array {
  const parts: Uint8Array[] = [];
  if (p.applicationSpecific || forInstall) parts.push(encodeTlv(0xc9, p.applicationSpecific ?? new Uint8Array(0)));
  if (p.system) parts.push(encodeSystem(p.system));
  if (p.ts102226Template) parts.push(encodeTlv(0xea, p.ts102226Template));
  parts.push(...crt(p));
  return concat(...parts);
}

/** Parse an Install Parameters field (unknown tags are ignored; malformed TLV throws). */
export function parseInstallParameters(bytes: Uint8Array): InstallParameters {
  const tlvs = parseTlvs(bytes);
  const c9 = findTag(tlvs, 0xc9);
  const ef = findTag(tlvs, 0xef);
  const ea = findTag(tlvs, 0xea);
  const b6 = findTag(tlvs, 0xb6);
  return {
    ...(c9 ? { applicationSpecific: c9.value } : {}),
    ...(ef ? { system: parseSystem(ef) } : {}),
    ...(ea ? { ts102226Template: ea.value } : {}),
    ...(b6 ? { tokenCrt: b6.value } : {}),
  };
}

/** Load Parameters (Table 11-48). */
export interface LoadParameters {
  readonly system?: SystemParameters;
  readonly tokenCrt?: Uint8Array;
}

/** Encode a Load Parameters field ('EF' with 'C6'/'C7'/'C8'/'CD'/'DD', 'B6'). */
export function encodeLoadParameters(p: LoadParameters): Uint8Array {
  return concat(...(p.system ? [encodeSystem(p.system)] : []), ...crt(p));
}

/** Parse a Load Parameters field. */
export function parseLoadParameters(bytes: Uint8Array): LoadParameters {
  const tlvs = parseTlvs(bytes);
  const ef = findTag(tlvs, 0xef);
  const b6 = findTag(tlvs, 0xb6);
  return { ...(ef ? { system: parseSystem(ef) } : {}), ...(b6 ? { tokenCrt: b6.value } : {}) };
}

/**
 * Security Domain install parameters: the BER-TLV content of 'C9' when the application installed is a Security
 * Domain (§11.5.2.3.7: tags are assigned by GlobalPlatform configuration documents; '70'–'7E' and 'F0'–'FE'
 * are proprietary). The one assigned here is the Secure Channel Protocol: tag '81' = SCP identifier ‖ "i"
 * parameter (e.g. '81 02 03 70' for SCP03 i=70, '81 02 02 55' for SCP02 i=55). Other objects pass through.
 */
export interface SdInstallParameters {
  readonly scp?: { readonly id: number; readonly i: number };
  /** Further BER-TLV objects, already encoded, appended as they are. */
  readonly other?: Uint8Array;
}

/** Encode the 'C9' value for a Security Domain (not the 'C9' header itself). */
export function encodeSdInstallParameters(p: SdInstallParameters): Uint8Array {
  const parts: Uint8Array[] = [];
  if (p.scp) parts.push(encodeTlv(0x81, Uint8Array.of(byteOf(p.scp.id, 'scp.id'), byteOf(p.scp.i, 'scp.i'))));
  if (p.other) parts.push(p.other);
  return concat(...parts);
}

/** Parse the 'C9' value of a Security Domain install; the objects other than '81' come back in `other`. */
export function parseSdInstallParameters(c9: Uint8Array): SdInstallParameters {
  const tlvs = parseTlvs(c9);
  const scp = findTag(tlvs, 0x81);
  if (scp && scp.value.length !== 2) throw new GpError('BAD_DATA', "'81' (SCP) must be 2 bytes: SCP id and i");
  const rest = tlvs.filter((t) => t.tag !== 0x81);
  const other = concat(...rest.map((t) => encodeTlv(t.tag, t.value)));
  return { ...(scp ? { scp: { id: scp.value[0]!, i: scp.value[1]! } } : {}), ...(other.length ? { other } : {}) };
}

/**
 * Response of INSTALL / LOAD / DELETE (Tables 11-25, 11-54, 11-59): BER length then confirmation (§11.1.6);
 * no confirmation is the single byte '00'.
 */
export function encodeConfirmationResponse(confirmation: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (confirmation.length > 0xff) throw new RangeError('confirmation longer than 255 bytes');
  return concat(encodeLength(confirmation.length), confirmation);
}

/** Parse such a response; returns the confirmation bytes (empty for '00'). */
export function parseConfirmationResponse(data: Uint8Array): Uint8Array {
  const r = new Reader(data);
  const v = r.lvBer('confirmation');
  r.end('confirmation');
  return v;
}
