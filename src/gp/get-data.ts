/**
 * GET DATA (GP Card Specification 2.3.1 §11.3) and the data objects it returns: Key Information Template 'E0'
 * (§11.3.3.1.1, Tables 11-28/11-29), Card Recognition Data '66'/'73' (Appendix H.2/H.3, Tables H-1..H-4),
 * CPLC '9F7F' (the Card Production Life Cycle data of the GP 2.1.1/Visa layout, 42 bytes), IIN '42', CIN '45',
 * sequence counter 'C1' and others listed in §11.3.2.1.
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { concat } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import { encodeTlv, findAll, findTag, parseTlv, type Tlv } from '../core/tlv.ts';
import { GpError } from './errors.ts';
import type { KeyComponentInfo, KeyInfo } from './keys.ts';
import { Reader, byteOf } from './reader.ts';

/** Tags for P1-P2 of GET DATA (§11.3.2.1, §11.11.2.3). */
export const GetDataTag = Object.freeze({
  IIN: 0x42,
  CIN: 0x45,
  ISD_AID: 0x4f,
  CARD_DATA: 0x66,
  CARD_CAPABILITY: 0x67,
  SEQUENCE_COUNTER: 0xc1,
  CONFIRMATION_COUNTER: 0xc2,
  SECURITY_LEVEL: 0xd3,
  KEY_INFORMATION: 0xe0,
  APPLICATIONS: 0x2f00,
  SD_MANAGER_URL: 0x5f50,
  CPLC: 0x9f7f,
  EXTENDED_CARD_RESOURCES: 0xff21,
} as const);

/** Build GET DATA `CLA CA P1 P2 [Lc tagList] 00` for a one- or two-byte tag. */
export function buildGetData(tag: number, options: { cla?: number; ins?: 0xca | 0xcb; data?: Uint8Array } = {}): CommandApdu {
  if (!Number.isInteger(tag) || tag < 1 || tag > 0xffff) throw new RangeError(`GET DATA tag ${tag} is not 1..FFFF`);
  return command(byteOf(options.cla ?? 0x80, 'cla'), options.ins ?? 0xca, tag >> 8, tag & 0xff, options.data ?? new Uint8Array(0), 256);
}

/** Card side: the requested tag (P1 ‖ P2) and the command data (tag list), INS 'CA' or 'CB' only. */
export function parseGetDataCommand(cmd: CommandApdu): { tag: number; data: Uint8Array } {
  if (cmd.ins !== 0xca && cmd.ins !== 0xcb) throw new GpError('UNSUPPORTED', `INS ${cmd.ins.toString(16)} is not GET DATA`, 0x6d00);
  return { tag: (cmd.p1 << 8) | cmd.p2, data: cmd.data };
}

// ---------------------------------------------------------------------------------------------------------
// CPLC

/** CPLC fields in order with their lengths (42 bytes in all). */
export const CPLC_FIELDS = Object.freeze([
  ['icFabricator', 2],
  ['icType', 2],
  ['operatingSystemId', 2],
  ['operatingSystemReleaseDate', 2],
  ['operatingSystemReleaseLevel', 2],
  ['icFabricationDate', 2],
  ['icSerialNumber', 4],
  ['icBatchIdentifier', 2],
  ['icModuleFabricator', 2],
  ['icModulePackagingDate', 2],
  ['iccManufacturer', 2],
  ['icEmbeddingDate', 2],
  ['icPrePersonalizer', 2],
  ['icPrePersonalizationEquipmentDate', 2],
  ['icPrePersonalizationEquipmentId', 4],
  ['icPersonalizer', 2],
  ['icPersonalizationDate', 2],
  ['icPersonalizationEquipmentId', 4],
] as const);

export type CplcFieldName = (typeof CPLC_FIELDS)[number][0];
/** CPLC as raw field values (dates are YDDD BCD as the card stores them). */
export type Cplc = Readonly<Record<CplcFieldName, Uint8Array>>;

const CPLC_LENGTH = 42;

/**
 * Parse CPLC: the GET DATA response '9F7F' L value (GP CLA), or the 42-byte value alone (ISO CLA, §11.3.3.1).
 * A different length throws `GpError('BAD_DATA')`.
 */
export function parseCplc(data: Uint8Array): Cplc {
  let value = data;
  if (data.length >= 2 && data[0] === 0x9f && data[1] === 0x7f) {
    const t = parseTlv(data);
    value = t.value;
  }
  if (value.length !== CPLC_LENGTH) throw new GpError('BAD_DATA', `CPLC is ${CPLC_LENGTH} bytes, got ${value.length}`);
  const out: Record<string, Uint8Array> = {};
  let o = 0;
  for (const [name, len] of CPLC_FIELDS) {
    out[name] = value.slice(o, o + len);
    o += len;
  }
  return out as Cplc;
}

/** Encode CPLC as the '9F7F' TLV; every field must have its exact length. */
export function encodeCplc(cplc: Cplc): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, len] of CPLC_FIELDS) {
    const v = cplc[name];
    if (!(v instanceof Uint8Array) || v.length !== len) throw new RangeError(`CPLC ${name}: ${len} bytes expected`);
    parts.push(v);
  }
  return encodeTlv(0x9f7f, concat(...parts));
}

// ---------------------------------------------------------------------------------------------------------
// Card Recognition Data (Appendix H)

/** GlobalPlatform OID {1 2 840 114283} = '2A864886FC6B' (H.1.1). */
export const GP_OID: Uint8Array = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xfc, 0x6b);

function encodeArcs(arcs: readonly number[]): Uint8Array {
  const out: number[] = [];
  for (const a of arcs) {
    if (!Number.isInteger(a) || a < 0 || a > 0x0fffffff) throw new RangeError(`OID arc ${a}`);
    const bytes = [a & 0x7f];
    let v = a >>> 7;
    while (v > 0) {
      bytes.unshift((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(...bytes);
  }
  return concat(GP_OID, Uint8Array.from(out));
}

/** Arcs after the GP OID, or undefined when the OID is not under GlobalPlatform. */
function decodeArcs(oid: Uint8Array): number[] | undefined {
  if (oid.length < GP_OID.length) return undefined;
  for (let i = 0; i < GP_OID.length; i++) if (oid[i] !== GP_OID[i]) return undefined;
  const arcs: number[] = [];
  let v = 0;
  let pending = false;
  for (let i = GP_OID.length; i < oid.length; i++) {
    const b = oid[i]!;
    v = v * 128 + (b & 0x7f);
    pending = (b & 0x80) !== 0;
    if (!pending) {
      arcs.push(v);
      v = 0;
    }
  }
  if (pending) throw new GpError('BAD_DATA', 'OID ends inside an arc');
  return arcs;
}

/** Card Recognition Data / Security Domain Management Data. */
export interface CardRecognitionData {
  /** Version arcs of {globalPlatform 2 v}, e.g. [2, 3] for 2.3 or [2, 2, 1] for 2.2.1. */
  readonly gpVersion?: readonly number[];
  /** {globalPlatform 3}: card identified by IIN and CIN. */
  readonly cardIdentificationScheme?: boolean;
  /** Each {globalPlatform 4 scp i}. */
  readonly scp: readonly { readonly id: number; readonly i: number }[];
  /** '65' card configuration details (value). */
  readonly cardConfiguration?: Uint8Array;
  /** '66' card / chip details (value). */
  readonly chipDetails?: Uint8Array;
  /** '67' trust point certificate information (value). */
  readonly trustPointCertificateInfo?: Uint8Array;
  /** '68' certificate information (value). */
  readonly certificateInfo?: Uint8Array;
}

function oidIn(t: Tlv, what: string): Tlv[] {
  const oids = findAll(t.children, 0x06);
  if (oids.length === 0) throw new GpError('BAD_DATA', `${what} without an OID`);
  return oids;
}

/**
 * Parse Card Recognition Data: the GET DATA '66' response ('66' { '73' … }) or a bare '73' template (as in the
 * SELECT FCI). Both formats of Tables H-1/H-2 (one '64' per OID, or one '64' with several OIDs). The '73'
 * template must begin with {globalPlatform 1}.
 */
export function parseCardRecognitionData(data: Uint8Array): CardRecognitionData {
  let t = parseTlv(data);
  if (t.tag === 0x66) {
    const inner = findTag(t.children, 0x73);
    if (!inner) throw new GpError('BAD_DATA', "Card Data without '73'");
    t = inner;
  }
  if (t.tag !== 0x73) throw new CodecError('BAD_TAG', `expected '66' or '73', got ${t.tag.toString(16)}`, 0);
  const c = t.children ?? [];
  const first = c[0];
  const firstArcs = first && first.tag === 0x06 ? decodeArcs(first.value) : undefined;
  if (!firstArcs || firstArcs.length !== 1 || firstArcs[0] !== 1) {
    throw new GpError('BAD_DATA', "Card Recognition Data must start with OID {globalPlatform 1}");
  }
  const out: {
    gpVersion?: number[];
    cardIdentificationScheme?: boolean;
    scp: { id: number; i: number }[];
    cardConfiguration?: Uint8Array;
    chipDetails?: Uint8Array;
    trustPointCertificateInfo?: Uint8Array;
    certificateInfo?: Uint8Array;
  } = { scp: [] };
  for (const x of c.slice(1)) {
    if (x.tag === 0x60) {
      const arcs = decodeArcs(oidIn(x, "'60'")[0]!.value);
      if (!arcs || arcs[0] !== 2) throw new GpError('BAD_DATA', "'60' must hold {globalPlatform 2 v}");
      out.gpVersion = arcs.slice(1);
    } else if (x.tag === 0x63) {
      const arcs = decodeArcs(oidIn(x, "'63'")[0]!.value);
      if (!arcs || arcs[0] !== 3) throw new GpError('BAD_DATA', "'63' must hold {globalPlatform 3}");
      out.cardIdentificationScheme = true;
    } else if (x.tag === 0x64) {
      for (const o of oidIn(x, "'64'")) {
        const arcs = decodeArcs(o.value);
        if (!arcs || arcs[0] !== 4 || arcs.length !== 3) throw new GpError('BAD_DATA', "'64' must hold {globalPlatform 4 scp i}");
        out.scp.push({ id: arcs[1]!, i: arcs[2]! });
      }
    } else if (x.tag === 0x65) out.cardConfiguration = x.value;
    else if (x.tag === 0x66) out.chipDetails = x.value;
    else if (x.tag === 0x67) out.trustPointCertificateInfo = x.value;
    else if (x.tag === 0x68) out.certificateInfo = x.value;
    // other application tags are RFU: ignored.
  }
  return out;
}

/**
 * Encode Card Recognition Data. `template` 0x66 (default) wraps '73' in '66' (GET DATA), 0x73 gives the bare
 * Security Domain Management Data of the FCI. `format` 1 (default) puts each SCP OID in its own '64', format 2 all
 * in one '64'.
 */
export function encodeCardRecognitionData(d: CardRecognitionData, options: { template?: 0x66 | 0x73; format?: 1 | 2 } = {}): Uint8Array {
  const oid = (arcs: number[]) => encodeTlv(0x06, encodeArcs(arcs));
  const parts: Uint8Array[] = [oid([1])];
  if (d.gpVersion) parts.push(encodeTlv(0x60, oid([2, ...d.gpVersion])));
  if (d.cardIdentificationScheme) parts.push(encodeTlv(0x63, oid([3])));
  if (d.scp.length) {
    const oids = d.scp.map((s) => oid([4, byteOf(s.id, 'scp.id'), byteOf(s.i, 'scp.i')]));
    if ((options.format ?? 1) === 2) parts.push(encodeTlv(0x64, concat(...oids)));
    else for (const o of oids) parts.push(encodeTlv(0x64, o));
  }
  if (d.cardConfiguration) parts.push(encodeTlv(0x65, d.cardConfiguration));
  if (d.chipDetails) parts.push(encodeTlv(0x66, d.chipDetails));
  if (d.trustPointCertificateInfo) parts.push(encodeTlv(0x67, d.trustPointCertificateInfo));
  if (d.certificateInfo) parts.push(encodeTlv(0x68, d.certificateInfo));
  const t73 = encodeTlv(0x73, concat(...parts));
  return (options.template ?? 0x66) === 0x66 ? encodeTlv(0x66, t73) : t73;
}

// ---------------------------------------------------------------------------------------------------------
// Key Information Template 'E0'

function parseKeyInfoData(v: Uint8Array): KeyInfo {
  const r = new Reader(v);
  const keyId = r.u8('key identifier');
  const kvn = r.u8('key version number');
  const components: KeyComponentInfo[] = [];
  if (r.remaining > 0 && r.bytes[r.offset] === 0xff) {
    while (r.remaining > 0 && r.bytes[r.offset] === 0xff) {
      r.u8('extended key type marker');
      const type = r.u8('key type');
      const length = (r.u8('key length') << 8) | r.u8('key length');
      components.push({ type, length });
    }
    const usage = r.lv1('key usage');
    const access = r.lv1('key access');
    if (usage.length > 1 || access.length > 1) throw new GpError('BAD_DATA', 'key usage and key access are 0 or 1 byte');
    r.end('key information data');
    if (components.length === 0) throw new GpError('BAD_DATA', 'key information without a component');
    return {
      keyId,
      kvn,
      components,
      extended: true,
      ...(usage.length ? { usage: usage[0]! } : {}),
      ...(access.length ? { access: access[0]! } : {}),
    };
  }
  while (r.remaining > 0) {
    const type = r.u8('key type');
    components.push({ type, length: r.u8('key length') });
  }
  if (components.length === 0) throw new GpError('BAD_DATA', 'key information without a component');
  return { keyId, kvn, components };
}

/** Parse the Key Information Template 'E0' (GET DATA '00E0' response) into one `KeyInfo` per 'C0'. */
export function parseKeyInformationTemplate(data: Uint8Array): KeyInfo[] {
  const t = parseTlv(data);
  if (t.tag !== 0xe0) throw new CodecError('BAD_TAG', `expected 'E0', got ${t.tag.toString(16)}`, 0);
  const out: KeyInfo[] = [];
  for (const c of t.children ?? []) {
    if (c.tag !== 0xc0) throw new GpError('BAD_DATA', `unexpected tag ${c.tag.toString(16)} in 'E0'`);
    out.push(parseKeyInfoData(c.value));
  }
  return out;
}

/** Encode the Key Information Template; each key in the basic or (when `extended`) the extended structure. */
export function encodeKeyInformationTemplate(keys: readonly KeyInfo[]): Uint8Array {
  const entries = keys.map((k) => {
    const head = Uint8Array.of(byteOf(k.keyId, 'keyId'), byteOf(k.kvn, 'kvn'));
    if (k.components.length === 0) throw new RangeError('key information needs a component');
    if (k.extended) {
      const comps = k.components.map((c) => {
        if (c.length < 1 || c.length > 0x7fff) throw new RangeError(`extended key length ${c.length} not in 1..7FFF`);
        return Uint8Array.of(0xff, byteOf(c.type, 'type'), c.length >> 8, c.length & 0xff);
      });
      const usage = k.usage === undefined ? Uint8Array.of(0) : Uint8Array.of(1, byteOf(k.usage, 'usage'));
      const access = k.access === undefined ? Uint8Array.of(0) : Uint8Array.of(1, byteOf(k.access, 'access'));
      return encodeTlv(0xc0, concat(head, ...comps, usage, access));
    }
    // Basic: a length of 256 or more is reported as '00' (§11.3.3.1.1).
    const comps = k.components.map((c) => Uint8Array.of(byteOf(c.type, 'type'), c.length >= 256 ? 0 : byteOf(c.length, 'length')));
    return encodeTlv(0xc0, concat(head, ...comps));
  });
  return encodeTlv(0xe0, concat(...entries));
}

/** Used by tests and callers that just want the value of a simple tag ('42', '45', 'C1', …). */
export function parseSimpleDataObject(data: Uint8Array, tag: number): Uint8Array {
  const t = parseTlv(data);
  if (t.tag !== tag) throw new CodecError('BAD_TAG', `expected ${tag.toString(16)}, got ${t.tag.toString(16)}`, 0);
  return t.value;
}

