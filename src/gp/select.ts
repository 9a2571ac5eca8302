/**
 * SELECT [by name] (GP Card Specification 2.3.1 §11.9: P1 '04', P2 '00' first / '02' next occurrence,
 * Tables 11-79..11-81) and the File Control Information of Security Domains (Table 11-82: '6F' { '84' AID,
 * 'A5' { '73' SD management data, '9F6E' production life cycle data, '9F65' max command data length } }).
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { concat } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import { encodeTlv, encodeParsed, findTag, parseTlv } from '../core/tlv.ts';
import { assertAid, checkAid } from './aid.ts';
import { GpError } from './errors.ts';
import { byteOf } from './reader.ts';

export interface SelectRequest {
  /** AID or a partial AID; empty selects the ISD / default application (case 2, §11.9.2.3). */
  readonly aid: Uint8Array;
  /** P2 '02': next occurrence. */
  readonly next: boolean;
}

/** FCI of a Security Domain (Table 11-82). */
export interface Fci {
  readonly aid: Uint8Array;
  /** '73' Security Domain Management Data, the whole TLV (see `parseCardRecognitionData`). */
  readonly securityDomainManagementData?: Uint8Array;
  /** '9F6E' Application production life cycle data. */
  readonly productionLifeCycleData?: Uint8Array;
  /** '9F65' maximum length of data field in command message. */
  readonly maxCommandLength?: number;
  /** Other objects inside 'A5', encoded, in order. */
  readonly otherProprietary?: Uint8Array;
}

/** Build SELECT by name: `00 A4 04 00|02 Lc aid 00`, or `00 A4 04 00 00` with an empty AID. */
export function buildSelect(aid: Uint8Array, options: { next?: boolean; cla?: number } = {}): CommandApdu {
  if (aid.length > 16) throw new RangeError('AID longer than 16 bytes');
  return command(byteOf(options.cla ?? 0x00, 'cla'), 0xa4, 0x04, options.next ? 0x02 : 0x00, aid, 256);
}

/**
 * Card side: P1 must be '04' and P2 '00' or '02' (other ISO options are not the OPEN's: 6A86); the AID is 0 or
 * 5..16 bytes (a partial AID of 1..4 bytes is accepted as a prefix, as ISO 7816-4 allows).
 */
export function parseSelectCommand(cmd: CommandApdu): SelectRequest {
  if (cmd.p1 !== 0x04) throw new GpError('BAD_P1P2', `SELECT P1 ${cmd.p1.toString(16)} is not by name`);
  if (cmd.p2 !== 0x00 && cmd.p2 !== 0x02) throw new GpError('BAD_P1P2', `SELECT P2 ${cmd.p2.toString(16)}`);
  if (cmd.data.length > 16) throw new GpError('BAD_AID', 'AID longer than 16 bytes');
  return { aid: cmd.data, next: cmd.p2 === 0x02 };
}

/** Host side: parse an FCI; '6F' with '84' is required; 'A5' is optional here (some applets omit it). */
export function parseFci(data: Uint8Array): Fci {
  const t = parseTlv(data);
  if (t.tag !== 0x6f) throw new CodecError('BAD_TAG', `expected '6F', got ${t.tag.toString(16)}`, 0);
  const aid = findTag(t.children, 0x84);
  if (!aid) throw new GpError('BAD_DATA', "FCI without '84'");
  checkAid(aid.value);
  const a5 = findTag(t.children, 0xa5);
  const c = a5?.children ?? [];
  const sd = findTag(c, 0x73);
  const lc = findTag(c, 0x9f6e);
  const max = findTag(c, 0x9f65);
  let maxCommandLength: number | undefined;
  if (max) {
    if (max.value.length < 1 || max.value.length > 2) throw new GpError('BAD_DATA', "'9F65' must be 1 or 2 bytes");
    maxCommandLength = max.value.reduce((a, b) => a * 256 + b, 0);
  }
  const others = c.filter((x) => x.tag !== 0x73 && x.tag !== 0x9f6e && x.tag !== 0x9f65).map(encodeParsed);
  return {
    aid: aid.value,
    ...(sd ? { securityDomainManagementData: encodeParsed(sd) } : {}),
    ...(lc ? { productionLifeCycleData: lc.value } : {}),
    ...(maxCommandLength !== undefined ? { maxCommandLength } : {}),
    ...(others.length ? { otherProprietary: concat(...others) } : {}),
  };
}

/** Card side: encode an FCI: `6F { 84 aid, A5 { [73 …] [9F6E …] 9F65 max [other] } }`. */
export function encodeFci(f: Fci): Uint8Array {
  const a5: Uint8Array[] = [];
  if (f.securityDomainManagementData) a5.push(f.securityDomainManagementData);
  if (f.productionLifeCycleData) a5.push(encodeTlv(0x9f6e, f.productionLifeCycleData));
  const max = f.maxCommandLength ?? 0xff;
  if (!Number.isInteger(max) || max < 0 || max > 0xffff) throw new RangeError('maxCommandLength: 0..65535');
  a5.push(encodeTlv(0x9f65, max <= 0xff ? Uint8Array.of(max) : Uint8Array.of(max >> 8, max & 0xff)));
  if (f.otherProprietary) a5.push(f.otherProprietary);
  return encodeTlv(0x6f, concat(encodeTlv(0x84, assertAid(f.aid, 'aid')), encodeTlv(0xa5, concat(...a5))));
}
