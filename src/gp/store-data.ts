/**
 * STORE DATA (GP Card Specification 2.3.1 §11.11): P1 (Table 11-89: b8 last block, b7-b6 encryption,
 * b5-b4 data structure, b1 ISO case 4), P2 block number (§11.11.2.2), DGI coding (§11.1.12, length per
 * [Scripting Lang] Annex B: one byte '00'–'FE', or 'FF' and two bytes), and splitting of long data over several
 * commands (§11.11.2.3: a structure may be cut anywhere). Also the eUICC "get EID" request of SGP.22
 * (ES10c.GetEID: STORE DATA of 'BF3E' with tag list '5C 01 5A').
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { concat } from '../core/bytes.ts';
import { encodeTlv, findTag, parseTlv } from '../core/tlv.ts';
import { GpError } from './errors.ts';
import { Reader, byteOf } from './reader.ts';

/** P1 bits (Table 11-89). */
export const StoreDataP1 = Object.freeze({
  LAST_BLOCK: 0x80,
  ENCRYPTION_MASK: 0x60,
  ENC_NO_INFO: 0x00,
  ENC_APPLICATION_DEPENDENT: 0x20,
  ENC_ENCRYPTED: 0x60,
  STRUCTURE_MASK: 0x18,
  STRUCT_NO_INFO: 0x00,
  STRUCT_DGI: 0x08,
  STRUCT_BER_TLV: 0x10,
  ISO_CASE_4: 0x01,
  RFU_MASK: 0x06,
} as const);

export interface StoreDataOptions {
  /** b5-b4: data structure (default `none`). */
  readonly format?: 'none' | 'dgi' | 'ber';
  /** b7-b6: encryption information (default `none`). */
  readonly encryption?: 'none' | 'application' | 'encrypted';
  /** b1: ISO case 4, response data may come back (adds Le '00'). */
  readonly responseExpected?: boolean;
  readonly cla?: number;
}

/** The card's view of one STORE DATA command. */
export interface StoreDataCommand {
  readonly last: boolean;
  readonly blockNumber: number;
  readonly format: 'none' | 'dgi' | 'ber';
  readonly encryption: 'none' | 'application' | 'encrypted';
  readonly responseExpected: boolean;
  readonly data: Uint8Array;
}

/** A DGI data structure. */
export interface Dgi {
  /** Two-byte Data Grouping Identifier, e.g. 0x8113. */
  readonly dgi: number;
  readonly value: Uint8Array;
}

function p1Of(last: boolean, o: StoreDataOptions): number {
  const fmt = o.format ?? 'none';
  const enc = o.encryption ?? 'none';
  return (
    (last ? StoreDataP1.LAST_BLOCK : 0) |
    (enc === 'encrypted' ? StoreDataP1.ENC_ENCRYPTED : enc === 'application' ? StoreDataP1.ENC_APPLICATION_DEPENDENT : 0) |
    (fmt === 'dgi' ? StoreDataP1.STRUCT_DGI : fmt === 'ber' ? StoreDataP1.STRUCT_BER_TLV : 0) |
    (o.responseExpected ? StoreDataP1.ISO_CASE_4 : 0)
  );
}

/** Build one STORE DATA: `80 E2 P1 P2 Lc data [00]`. */
export function buildStoreData(data: Uint8Array, blockNumber: number, last: boolean, options: StoreDataOptions = {}): CommandApdu {
  if (data.length === 0 || data.length > 255) throw new RangeError(`STORE DATA data of ${data.length} bytes (1..255)`);
  return command(
    byteOf(options.cla ?? 0x80, 'cla'),
    0xe2,
    p1Of(last, options),
    byteOf(blockNumber, 'blockNumber'),
    data,
    options.responseExpected ? 256 : undefined,
  );
}

/**
 * Split `data` into STORE DATA commands of at most `blockSize` bytes, numbered from `firstBlock`, the last with
 * P1 b8 set. Structures may be cut anywhere (§11.11.2.3).
 */
export function buildStoreDataBlocks(
  data: Uint8Array,
  options: StoreDataOptions & { blockSize?: number; firstBlock?: number } = {},
): CommandApdu[] {
  const size = options.blockSize ?? 239;
  if (!Number.isInteger(size) || size < 1 || size > 255) throw new RangeError(`block size ${size} not in 1..255`);
  const first = options.firstBlock ?? 0;
  const n = Math.max(1, Math.ceil(data.length / size));
  if (first + n - 1 > 0xff) throw new RangeError('STORE DATA block number would pass FF');
  const out: CommandApdu[] = [];
  for (let i = 0; i < n; i++) out.push(buildStoreData(data.slice(i * size, (i + 1) * size), first + i, i === n - 1, options));
  return out;
}

/**
 * Card side: parse STORE DATA P1/P2. RFU codings (encryption '10', structure '11', b3-b2) throw
 * `GpError('BAD_P1P2')` (6A86); an empty data field throws `GpError('WRONG_LENGTH')`.
 */
export function parseStoreDataCommand(cmd: CommandApdu): StoreDataCommand {
  const p1 = cmd.p1;
  if ((p1 & StoreDataP1.RFU_MASK) !== 0) throw new GpError('BAD_P1P2', `STORE DATA P1 ${p1.toString(16)} has RFU bits set`);
  const enc = p1 & StoreDataP1.ENCRYPTION_MASK;
  const fmt = p1 & StoreDataP1.STRUCTURE_MASK;
  if (enc === 0x40) throw new GpError('BAD_P1P2', 'STORE DATA encryption indicator 10 is RFU');
  if (fmt === 0x18) throw new GpError('BAD_P1P2', 'STORE DATA structure indicator 11 is RFU');
  if (cmd.data.length === 0) throw new GpError('WRONG_LENGTH', 'STORE DATA without data');
  return {
    last: (p1 & StoreDataP1.LAST_BLOCK) !== 0,
    blockNumber: cmd.p2,
    format: fmt === StoreDataP1.STRUCT_DGI ? 'dgi' : fmt === StoreDataP1.STRUCT_BER_TLV ? 'ber' : 'none',
    encryption: enc === StoreDataP1.ENC_ENCRYPTED ? 'encrypted' : enc === StoreDataP1.ENC_APPLICATION_DEPENDENT ? 'application' : 'none',
    responseExpected: (p1 & StoreDataP1.ISO_CASE_4) !== 0,
    data: cmd.data,
  };
}

/** Encode one DGI: two-byte identifier, length ('00'–'FE' or 'FF' xx xx), value. */
export function encodeDgi(dgi: number, value: Uint8Array): Uint8Array {
  if (!Number.isInteger(dgi) || dgi < 0 || dgi > 0xffff) throw new RangeError(`DGI ${dgi} is not two bytes`);
  if (value.length > 0xffff) throw new RangeError('DGI value longer than 65535 bytes');
  const len = value.length < 0xff ? Uint8Array.of(value.length) : Uint8Array.of(0xff, value.length >> 8, value.length & 0xff);
  return concat(Uint8Array.of(dgi >> 8, dgi & 0xff), len, value);
}

/** Parse a sequence of complete DGIs; truncation or a bad length throws `CodecError` (6A80). */
export function parseDgis(bytes: Uint8Array): Dgi[] {
  const r = new Reader(bytes);
  const out: Dgi[] = [];
  while (r.remaining > 0) {
    const dgi = (r.u8('DGI') << 8) | r.u8('DGI');
    let n = r.u8('DGI length');
    if (n === 0xff) n = (r.u8('DGI length') << 8) | r.u8('DGI length');
    out.push({ dgi, value: r.take(n, `DGI ${dgi.toString(16).padStart(4, '0')}`) });
  }
  return out;
}

/** SGP.22 ES10c.GetEID: `80 E2 91 00 06 BF3E 03 5C 01 5A 00`. */
export function buildGetEid(cla = 0x80): CommandApdu {
  return buildStoreData(encodeTlv(0xbf3e, encodeTlv(0x5c, Uint8Array.of(0x5a))), 0, true, {
    format: 'ber',
    responseExpected: true,
    cla,
  });
}

/** Parse the EID response `BF3E 12 5A 10 <16-byte EID>`; anything else throws. */
export function parseEidResponse(data: Uint8Array): Uint8Array {
  const t = parseTlv(data);
  if (t.tag !== 0xbf3e) throw new GpError('BAD_DATA', `expected 'BF3E', got ${t.tag.toString(16)}`);
  const eid = findTag(t.children, 0x5a);
  if (!eid || eid.value.length !== 16) throw new GpError('BAD_DATA', "EID ('5A') must be 16 bytes");
  return eid.value;
}

/** Card side: encode the EID response. */
export function encodeEidResponse(eid: Uint8Array): Uint8Array {
  if (eid.length !== 16) throw new RangeError('EID is 16 bytes');
  return encodeTlv(0xbf3e, encodeTlv(0x5a, eid));
}
