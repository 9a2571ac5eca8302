/**
 * GET STATUS (GP Card Specification 2.3.1 §11.4): command (Tables 11-32..11-35), GlobalPlatform Registry data
 * in the TLV format (P2.b2 = 1, Tables 11-36/11-37) and the deprecated legacy format (P2.b2 = 0, 2.2.1
 * Tables 11-36/11-37: length, AID, life cycle, privileges [, modules]), and the '63 10' paging (Table 11-38).
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { CodecError } from '../core/errors.ts';
import { concat } from '../core/bytes.ts';
import { encodeTlv, findAll, findTag, parseTlvs, type Tlv } from '../core/tlv.ts';
import { assertAid, checkAid } from './aid.ts';
import { GpError } from './errors.ts';
import { decodePrivileges, encodePrivileges, type Privileges } from './privileges.ts';
import { Reader, byteOf } from './reader.ts';

/** P1 values (Table 11-33). */
export const GetStatusScope = Object.freeze({
  ISD: 0x80,
  APPLICATIONS: 0x40,
  LOAD_FILES: 0x20,
  LOAD_FILES_AND_MODULES: 0x10,
} as const);

/** Tags of the registry data (Tables 11-36, 11-37). */
export const RegistryTag = Object.freeze({
  TEMPLATE: 0xe3,
  AID: 0x4f,
  LIFE_CYCLE: 0x9f70,
  PRIVILEGES: 0xc5,
  IMPLICIT_SELECTION: 0xcf,
  LOAD_FILE_AID: 0xc4,
  LOAD_FILE_VERSION: 0xce,
  MODULE_AID: 0x84,
  ASSOCIATED_SD: 0xcc,
  TAG_LIST: 0x5c,
} as const);

export interface GetStatusRequest {
  /** P1: one of `GetStatusScope`. */
  readonly scope: number;
  /** Search AID (tag '4F'): empty = everything, a prefix (e.g. a RID) matches all AIDs that start with it. */
  readonly aid: Uint8Array;
  /** P2.b1: get next occurrence(s). */
  readonly next?: boolean;
  /** P2.b2: `tlv` (default) or the deprecated `legacy` format. */
  readonly format?: 'tlv' | 'legacy';
  /** Tag list ('5C'), e.g. [0x4F, 0x9F70, 0xC5]. */
  readonly tagList?: readonly number[];
}

/** One GlobalPlatform Registry entry as reported by GET STATUS. */
export interface RegistryEntry {
  readonly aid: Uint8Array;
  readonly lifeCycle: number;
  /** Privileges ('C5'); absent for load files. */
  readonly privileges?: Privileges;
  /** Implicit selection parameters ('CF'). */
  readonly implicitSelection?: readonly number[];
  /** Application's Executable Load File AID ('C4'). */
  readonly loadFileAid?: Uint8Array;
  /** Executable Load File version ('CE'). */
  readonly loadFileVersion?: Uint8Array;
  /** Executable Module AIDs ('84'). */
  readonly moduleAids?: readonly Uint8Array[];
  /** Associated Security Domain's AID ('CC'). */
  readonly associatedSd?: Uint8Array;
}

const SCOPES = new Set<number>(Object.values(GetStatusScope));

function tagBytes(tag: number): Uint8Array {
  return tag > 0xff ? Uint8Array.of(tag >> 8, tag & 0xff) : Uint8Array.of(tag);
}

/** Build GET STATUS: `80 F2 P1 P2 Lc 4F len aid [5C len tags] 00`. */
export function buildGetStatus(req: GetStatusRequest, cla = 0x80): CommandApdu {
  if (!SCOPES.has(req.scope)) throw new RangeError(`GET STATUS scope ${req.scope} is not one of 80/40/20/10`);
  if (req.aid.length > 16) throw new RangeError('GET STATUS search AID longer than 16 bytes');
  const p2 = (req.format === 'legacy' ? 0 : 0x02) | (req.next ? 0x01 : 0);
  const parts = [encodeTlv(RegistryTag.AID, req.aid)];
  if (req.tagList) parts.push(encodeTlv(RegistryTag.TAG_LIST, concat(...req.tagList.map(tagBytes))));
  return command(byteOf(cla, 'cla'), 0xf2, req.scope, p2, concat(...parts), 256);
}

function splitTagList(value: Uint8Array): number[] {
  const tags: number[] = [];
  let o = 0;
  while (o < value.length) {
    let tag = value[o++]!;
    if ((tag & 0x1f) === 0x1f) {
      do {
        if (o >= value.length) throw new CodecError('TRUNCATED', 'tag list: multi-byte tag cut short', o);
        tag = tag * 256 + value[o]!;
      } while ((value[o++]! & 0x80) !== 0);
    }
    tags.push(tag);
  }
  return tags;
}

/**
 * Card side: parse a GET STATUS command. P1 other than 80/40/20/10, RFU bits of P2, or 'get next' for the ISD
 * throw `GpError('BAD_P1P2')` (6A86); data without the leading '4F' throws `GpError('BAD_DATA')` (6A80).
 * Other well-formed search criteria are ignored as the spec requires (§11.4.2.3); malformed ones throw 6A80.
 */
export function parseGetStatusCommand(cmd: CommandApdu): GetStatusRequest {
  if (!SCOPES.has(cmd.p1)) throw new GpError('BAD_P1P2', `GET STATUS P1 ${cmd.p1.toString(16)} not supported`);
  if ((cmd.p2 & 0xfc) !== 0) throw new GpError('BAD_P1P2', `GET STATUS P2 ${cmd.p2.toString(16)} has RFU bits set`);
  const next = (cmd.p2 & 0x01) !== 0;
  if (next && cmd.p1 === GetStatusScope.ISD) throw new GpError('BAD_P1P2', 'get next is not allowed for the ISD');
  // Search criteria other than '4F' and a tag list "shall be ignored when not supported" (§11.4.2.3) — but
  // only well-formed ones: a data field that is not BER-TLV is wrong data (6A80), never a success.
  const r = new Reader(cmd.data);
  if (r.remaining === 0 || r.u8('tag') !== RegistryTag.AID) throw new GpError('BAD_DATA', "GET STATUS data must start with '4F'");
  const aid = r.lv1('search AID');
  if (aid.length > 16) throw new GpError('BAD_DATA', 'GET STATUS search AID longer than 16 bytes');
  let tlvs: Tlv[];
  try {
    tlvs = parseTlvs(cmd.data.subarray(r.offset));
  } catch (e) {
    throw new GpError('BAD_DATA', `GET STATUS search criteria are not BER-TLV: ${(e as Error).message}`);
  }
  const tl = findTag(tlvs, RegistryTag.TAG_LIST);
  return {
    scope: cmd.p1,
    aid,
    next,
    format: (cmd.p2 & 0x02) !== 0 ? 'tlv' : 'legacy',
    ...(tl ? { tagList: splitTagList(tl.value) } : {}),
  };
}

/**
 * Encode one entry as an 'E3' template. With `tagList` only the listed objects are included (§11.4.3.1);
 * without it every field present on the entry.
 */
export function encodeRegistryEntry(entry: RegistryEntry, tagList?: readonly number[]): Uint8Array {
  assertAid(entry.aid, 'entry.aid');
  const want = (tag: number) => tagList === undefined || tagList.includes(tag);
  const parts: Uint8Array[] = [];
  if (want(RegistryTag.AID)) parts.push(encodeTlv(RegistryTag.AID, entry.aid));
  if (want(RegistryTag.LIFE_CYCLE)) parts.push(encodeTlv(RegistryTag.LIFE_CYCLE, Uint8Array.of(byteOf(entry.lifeCycle, 'lifeCycle'))));
  if (entry.privileges && want(RegistryTag.PRIVILEGES)) parts.push(encodeTlv(RegistryTag.PRIVILEGES, encodePrivileges(entry.privileges, 3)));
  if (entry.implicitSelection && want(RegistryTag.IMPLICIT_SELECTION)) {
    for (const p of entry.implicitSelection) parts.push(encodeTlv(RegistryTag.IMPLICIT_SELECTION, Uint8Array.of(byteOf(p, 'implicitSelection'))));
  }
  if (entry.loadFileAid && want(RegistryTag.LOAD_FILE_AID)) parts.push(encodeTlv(RegistryTag.LOAD_FILE_AID, entry.loadFileAid));
  if (entry.loadFileVersion && want(RegistryTag.LOAD_FILE_VERSION)) parts.push(encodeTlv(RegistryTag.LOAD_FILE_VERSION, entry.loadFileVersion));
  if (entry.moduleAids && want(RegistryTag.MODULE_AID)) for (const m of entry.moduleAids) parts.push(encodeTlv(RegistryTag.MODULE_AID, m));
  if (entry.associatedSd && want(RegistryTag.ASSOCIATED_SD)) parts.push(encodeTlv(RegistryTag.ASSOCIATED_SD, entry.associatedSd));
  return encodeTlv(RegistryTag.TEMPLATE, concat(...parts));
}

function one(t: Tlv, what: string): number {
  if (t.value.length !== 1) throw new GpError('BAD_DATA', `${what} must be 1 byte, got ${t.value.length}`);
  return t.value[0]!;
}

function parseEntry(t: Tlv): RegistryEntry {
  if (t.tag !== RegistryTag.TEMPLATE) throw new CodecError('BAD_TAG', `expected 'E3', got ${t.tag.toString(16)}`, 0);
  const c = t.children ?? [];
  const aid = findTag(c, RegistryTag.AID);
  if (!aid) throw new GpError('BAD_DATA', "registry entry without '4F'");
  checkAid(aid.value);
  const lc = findTag(c, RegistryTag.LIFE_CYCLE);
  const priv = findTag(c, RegistryTag.PRIVILEGES);
  const cf = findAll(c, RegistryTag.IMPLICIT_SELECTION);
  const c4 = findTag(c, RegistryTag.LOAD_FILE_AID);
  const ce = findTag(c, RegistryTag.LOAD_FILE_VERSION);
  const mods = findAll(c, RegistryTag.MODULE_AID);
  const cc = findTag(c, RegistryTag.ASSOCIATED_SD);
  if (priv && priv.value.length !== 3) throw new GpError('BAD_PRIVILEGES', `'C5' must be 3 bytes, got ${priv.value.length}`);
  return {
    aid: aid.value,
    lifeCycle: lc ? one(lc, "'9F70'") : 0,
    ...(priv ? { privileges: decodePrivileges(priv.value) } : {}),
    ...(cf.length ? { implicitSelection: cf.map((x) => one(x, "'CF'")) } : {}),
    ...(c4 ? { loadFileAid: c4.value } : {}),
    ...(ce ? { loadFileVersion: ce.value } : {}),
    ...(mods.length ? { moduleAids: mods.map((m) => m.value) } : {}),
    ...(cc ? { associatedSd: cc.value } : {}),
  };
}

/**
 * Host side: parse the TLV-format response data (a sequence of 'E3' templates). Wrong tags, bad lengths,
 * missing AID or privileges not 3 bytes throw. A missing '9F70' (when a tag list left it out) reads as 0.
 */
export function parseGetStatusResponse(data: Uint8Array): RegistryEntry[] {
  return parseTlvs(data).map(parseEntry);
}

/** One page of GET STATUS output for the card. */
export interface GetStatusPage {
  /** Response data for this command. */
  readonly data: Uint8Array;
  /** True when entries remain: answer '63 10' and continue with `entries.slice(count)` on 'get next'. */
  readonly more: boolean;
  /** How many entries this page holds. */
  readonly count: number;
}

function page(encoded: readonly Uint8Array[], maxLength: number): GetStatusPage {
  let size = 0;
  let count = 0;
  for (const e of encoded) {
    if (size + e.length > maxLength) break;
    size += e.length;
    count++;
  }
  if (count === 0 && encoded.length > 0) throw new RangeError(`a registry entry of ${encoded[0]!.length} bytes does not fit ${maxLength}`);
  return { data: concat(...encoded.slice(0, count)), more: count < encoded.length, count };
}

/**
 * Card side: encode as many whole entries as fit `maxLength` bytes (default 256, §11.1.5).
 */
export function encodeGetStatusEntries(
  entries: readonly RegistryEntry[],
  maxLength = 256,
  tagList?: readonly number[],
): GetStatusPage {
  return page(entries.map((e) => encodeRegistryEntry(e, tagList)), maxLength);
}

/**
 * Host side: parse the deprecated format (P2.b2 = 0; GP 2.2.1 Tables 11-36 and 11-37). For P1 = '10' each entry
 * is followed by the number of modules and their length-prefixed AIDs. Privileges are one byte.
 */
export function parseLegacyGetStatusResponse(data: Uint8Array, scope: number): RegistryEntry[] {
  const r = new Reader(data);
  const out: RegistryEntry[] = [];
  while (r.remaining > 0) {
    const aid = checkAid(r.lv1('AID'));
    const lifeCycle = r.u8('life cycle state');
    if (scope === GetStatusScope.LOAD_FILES_AND_MODULES) {
      r.u8('privileges');
      const n = r.u8('number of modules');
      const moduleAids: Uint8Array[] = [];
      for (let i = 0; i < n; i++) moduleAids.push(r.lv1('module AID'));
      out.push({ aid, lifeCycle, moduleAids });
    } else if (scope === GetStatusScope.LOAD_FILES) {
      r.u8('privileges');
      out.push({ aid, lifeCycle });
    } else {
      out.push({ aid, lifeCycle, privileges: decodePrivileges(r.take(1, 'privileges')) });
    }
  }
  return out;
}

/** Card side: the deprecated format for `scope`, paged like `encodeGetStatusEntries`. */
export function encodeLegacyGetStatusEntries(
  entries: readonly RegistryEntry[],
  scope: number,
  maxLength = 256,
): GetStatusPage {
  const encoded = entries.map((e) => {
    const parts = [Uint8Array.of(assertAid(e.aid, 'entry.aid').length), e.aid, Uint8Array.of(byteOf(e.lifeCycle, 'lifeCycle'))];
    if (scope === GetStatusScope.LOAD_FILES || scope === GetStatusScope.LOAD_FILES_AND_MODULES) {
      parts.push(Uint8Array.of(0));
      if (scope === GetStatusScope.LOAD_FILES_AND_MODULES) {
        const mods = e.moduleAids ?? [];
        parts.push(Uint8Array.of(mods.length));
        for (const m of mods) parts.push(Uint8Array.of(m.length), m);
      }
    } else {
      const p = encodePrivileges(e.privileges ?? new Set(), 3);
      parts.push(p.subarray(0, 1));
    }
    return concat(...parts);
  });
  return page(encoded, maxLength);
}
