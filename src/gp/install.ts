/**
 * INSTALL (GP Card Specification 2.3.1 §11.5): P1 roles (Table 11-41), P2 (§11.5.2.2) and the LV-coded data fields
 * of Tables 11-42..11-47. Parameters and the response are in install-params.ts.
 * Lengths of the AIDs and privileges are one byte; lengths of parameters and tokens are BER (1–3 bytes, '80'
 * accepted for 128).
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { CodecError } from '../core/errors.ts';
import { concat } from '../core/bytes.ts';
import { assertAid, checkAid } from './aid.ts';
import { GpError } from './errors.ts';
import { decodePrivileges } from './privileges.ts';
import { Reader, byteOf, lv1, lvBer } from './reader.ts';

/** P1 (Table 11-41). `MORE` (b8) marks a segment that is not the last. */
export const InstallP1 = Object.freeze({
  LOAD: 0x02,
  INSTALL: 0x04,
  MAKE_SELECTABLE: 0x08,
  INSTALL_AND_MAKE_SELECTABLE: 0x0c,
  LOAD_INSTALL_AND_MAKE_SELECTABLE: 0x0e,
  EXTRADITION: 0x10,
  PERSONALIZATION: 0x20,
  REGISTRY_UPDATE: 0x40,
  MORE: 0x80,
} as const);

/** P2 (§11.5.2.2). */
export const InstallP2 = Object.freeze({ NONE: 0x00, COMBINED_BEGIN: 0x01, COMBINED_END: 0x03 } as const);

/** INSTALL [for load] (Table 11-42). */
export interface InstallForLoad {
  readonly kind: 'load';
  readonly loadFileAid: Uint8Array;
  /** Security Domain to associate with; empty/absent = the receiving SD. */
  readonly sdAid?: Uint8Array;
  readonly loadFileDataBlockHash?: Uint8Array;
  /** Load Parameters field (see `encodeLoadParameters`). */
  readonly parameters?: Uint8Array;
  readonly token?: Uint8Array;
}

/** INSTALL [for install] (Table 11-43), optionally combined with [for make selectable]. */
export interface InstallForInstall {
  readonly kind: 'install';
  /** P1 '0C' instead of '04'. */
  readonly makeSelectable: boolean;
  readonly loadFileAid?: Uint8Array;
  readonly moduleAid?: Uint8Array;
  readonly applicationAid: Uint8Array;
  /** 1 or 3 privilege bytes, as sent (see `encodePrivileges`). */
  readonly privileges: Uint8Array;
  /** Install Parameters field, at least 'C9 00' (see `encodeInstallParameters`). */
  readonly parameters: Uint8Array;
  readonly token?: Uint8Array;
}

/** INSTALL [for make selectable] (Table 11-44). */
export interface InstallForMakeSelectable {
  readonly kind: 'makeSelectable';
  readonly applicationAid: Uint8Array;
  readonly privileges: Uint8Array;
  readonly parameters?: Uint8Array;
  readonly token?: Uint8Array;
}

/** INSTALL [for extradition] (Table 11-45). */
export interface InstallForExtradition {
  readonly kind: 'extradition';
  readonly sdAid: Uint8Array;
  /** Application or Executable Load File to extradite. */
  readonly aid: Uint8Array;
  readonly parameters?: Uint8Array;
  readonly token?: Uint8Array;
}

/** INSTALL [for registry update] (Table 11-46). */
export interface InstallForRegistryUpdate {
  readonly kind: 'registryUpdate';
  readonly sdAid?: Uint8Array;
  readonly applicationAid?: Uint8Array;
  /** Empty/absent = privileges unchanged. */
  readonly privileges?: Uint8Array;
  readonly parameters?: Uint8Array;
  readonly token?: Uint8Array;
}

/** INSTALL [for personalization] (Table 11-47). */
export interface InstallForPersonalization {
  readonly kind: 'personalization';
  readonly applicationAid: Uint8Array;
}

export type InstallCommand =
  | InstallForLoad
  | InstallForInstall
  | InstallForMakeSelectable
  | InstallForExtradition
  | InstallForRegistryUpdate
  | InstallForPersonalization;

const EMPTY = new Uint8Array(0);

function optAid(aid: Uint8Array | undefined, name: string): Uint8Array {
  if (!aid || aid.length === 0) return EMPTY;
  return assertAid(aid, name);
}

function privs(p: Uint8Array | undefined, allowEmpty: boolean): Uint8Array {
  const v = p ?? EMPTY;
  if (!(v.length === 1 || v.length === 3 || (allowEmpty && v.length === 0))) {
    throw new RangeError(`privileges: 1 or 3 bytes, got ${v.length}`);
  }
  return v;
}

/** Encode the data field of any INSTALL variant. */
function encodeInstallData(c: InstallCommand): Uint8Array {
  switch (c.kind) {
    case 'load':
      return concat(
        lv1(assertAid(c.loadFileAid, 'loadFileAid'), 'loadFileAid'),
        lv1(optAid(c.sdAid, 'sdAid'), 'sdAid'),
        lv1(c.loadFileDataBlockHash ?? EMPTY, 'loadFileDataBlockHash'),
        lvBer(c.parameters ?? EMPTY),
        lvBer(c.token ?? EMPTY),
      );
    case 'install':
      if (c.parameters.length < 2) throw new RangeError("install parameters are mandatory (at least 'C9 00')");
      return concat(
        lv1(optAid(c.loadFileAid, 'loadFileAid'), 'loadFileAid'),
        lv1(optAid(c.moduleAid, 'moduleAid'), 'moduleAid'),
        lv1(assertAid(c.applicationAid, 'applicationAid'), 'applicationAid'),
        lv1(privs(c.privileges, false), 'privileges'),
        lvBer(c.parameters),
        lvBer(c.token ?? EMPTY),
      );
    case 'makeSelectable':
      return concat(
        Uint8Array.of(0, 0),
        lv1(assertAid(c.applicationAid, 'applicationAid'), 'applicationAid'),
        lv1(privs(c.privileges, false), 'privileges'),
        lvBer(c.parameters ?? EMPTY),
        lvBer(c.token ?? EMPTY),
      );
    case 'extradition':
      return concat(
        lv1(assertAid(c.sdAid, 'sdAid'), 'sdAid'),
        Uint8Array.of(0),
        lv1(assertAid(c.aid, 'aid'), 'aid'),
        Uint8Array.of(0),
        lvBer(c.parameters ?? EMPTY),
        lvBer(c.token ?? EMPTY),
      );
    case 'registryUpdate':
      return concat(
        lv1(optAid(c.sdAid, 'sdAid'), 'sdAid'),
        Uint8Array.of(0),
        lv1(optAid(c.applicationAid, 'applicationAid'), 'applicationAid'),
        lv1(privs(c.privileges, true), 'privileges'),
        lvBer(c.parameters ?? EMPTY),
        lvBer(c.token ?? EMPTY),
      );
    case 'personalization':
      return concat(Uint8Array.of(0, 0), lv1(assertAid(c.applicationAid, 'applicationAid'), 'applicationAid'), Uint8Array.of(0, 0, 0));
  }
}

function p1Of(c: InstallCommand): number {
  switch (c.kind) {
    case 'load':
      return InstallP1.LOAD;
    case 'install':
      return c.makeSelectable ? InstallP1.INSTALL_AND_MAKE_SELECTABLE : InstallP1.INSTALL;
    case 'makeSelectable':
      return InstallP1.MAKE_SELECTABLE;
    case 'extradition':
      return InstallP1.EXTRADITION;
    case 'registryUpdate':
      return InstallP1.REGISTRY_UPDATE;
    case 'personalization':
      return InstallP1.PERSONALIZATION;
  }
}

/**
 * Build any INSTALL command: `80 E6 P1 P2 Lc data 00`. `p2` marks a combined load/install/make-selectable
 * sequence (`InstallP2`); `p1` overrides the role bits (e.g. `LOAD_INSTALL_AND_MAKE_SELECTABLE`).
 */
export function buildInstall(c: InstallCommand, options: { p1?: number; p2?: number; cla?: number } = {}): CommandApdu {
  const data = encodeInstallData(c);
  if (data.length > 255) throw new RangeError(`INSTALL data of ${data.length} bytes needs chaining (P1.b8)`);
  return command(byteOf(options.cla ?? 0x80, 'cla'), 0xe6, options.p1 ?? p1Of(c), options.p2 ?? 0, data, 256);
}

/** INSTALL [for load] (P1 '02'). */
export function buildInstallForLoad(c: Omit<InstallForLoad, 'kind'>, cla = 0x80): CommandApdu {
  return buildInstall({ kind: 'load', ...c }, { cla });
}

/** INSTALL [for install] (P1 '04'), or [for install and make selectable] (P1 '0C') when `makeSelectable`. */
export function buildInstallForInstall(c: Omit<InstallForInstall, 'kind'>, cla = 0x80): CommandApdu {
  return buildInstall({ kind: 'install', ...c }, { cla });
}

/** INSTALL [for make selectable] (P1 '08'). */
export function buildInstallForMakeSelectable(c: Omit<InstallForMakeSelectable, 'kind'>, cla = 0x80): CommandApdu {
  return buildInstall({ kind: 'makeSelectable', ...c }, { cla });
}

/** INSTALL [for extradition] (P1 '10'). */
export function buildInstallForExtradition(c: Omit<InstallForExtradition, 'kind'>, cla = 0x80): CommandApdu {
  return buildInstall({ kind: 'extradition', ...c }, { cla });
}

/** INSTALL [for registry update] (P1 '40'). */
export function buildInstallForRegistryUpdate(c: Omit<InstallForRegistryUpdate, 'kind'>, cla = 0x80): CommandApdu {
  return buildInstall({ kind: 'registryUpdate', ...c }, { cla });
}

/** INSTALL [for personalization] (P1 '20'). */
export function buildInstallForPersonalization(applicationAid: Uint8Array, cla = 0x80): CommandApdu {
  return buildInstall({ kind: 'personalization', applicationAid }, { cla });
}

function readAid(r: Reader, what: string, optional: boolean): Uint8Array | undefined {
  const v = r.lv1(what);
  if (v.length === 0) {
    if (optional) return undefined;
    throw new GpError('BAD_AID', `${what} is mandatory`);
  }
  return checkAid(v, what);
}

function readZero(r: Reader, what: string): void {
  const at = r.offset;
  if (r.u8(what) !== 0) throw new CodecError('BAD_VALUE', `${what} must be '00'`, at);
}

function readPrivileges(r: Reader, allowEmpty: boolean): Uint8Array | undefined {
  const p = r.lv1('privileges');
  if (p.length === 0 && allowEmpty) return undefined;
  decodePrivileges(p); // validates length and bit combinations
  return p;
}

function opt(v: Uint8Array): Uint8Array | undefined {
  return v.length === 0 ? undefined : v;
}

/**
 * Card side: parse an INSTALL command. P1 must name one role (or the allowed combinations 0C/0E, with b8 for
 * "more commands" — the caller concatenates chained segments before parsing the last one); P2 must be
 * 00/01/03. Any length inconsistency or trailing byte throws `CodecError`/`GpError` (6A80); bad P1/P2
 * throws `GpError('BAD_P1P2')` (6A86).
 */
export function parseInstallCommand(cmd: CommandApdu): InstallCommand {
  const role = cmd.p1 & 0x7f;
  if (cmd.p2 !== 0x00 && cmd.p2 !== 0x01 && cmd.p2 !== 0x03) throw new GpError('BAD_P1P2', `INSTALL P2 ${cmd.p2.toString(16)}`);
  const r = new Reader(cmd.data);
  let out: InstallCommand;
  // The first command of a combined load/install/make selectable sequence (P1 '0E', P2 '01') has the
  // [for load] data field, the last one (P2 '03') the [for install] data field (§11.5.2.3.1/2).
  const kind = role === InstallP1.LOAD_INSTALL_AND_MAKE_SELECTABLE && cmd.p2 === InstallP2.COMBINED_BEGIN ? InstallP1.LOAD : role;
  switch (kind) {
    case InstallP1.LOAD: {
      const loadFileAid = readAid(r, 'load file AID', false)!;
      const sdAid = readAid(r, 'security domain AID', true);
      const hash = r.lv1('load file data block hash');
      const parameters = r.lvBer('load parameters');
      const token = r.lvBer('load token');
      if (token.length > 0 && hash.length === 0) throw new GpError('BAD_DATA', 'a load token needs the load file data block hash');
      out = {
        kind: 'load',
        loadFileAid,
        ...(sdAid ? { sdAid } : {}),
        ...(hash.length ? { loadFileDataBlockHash: hash } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(token.length ? { token } : {}),
      };
      break;
    }
    case InstallP1.INSTALL:
    case InstallP1.INSTALL_AND_MAKE_SELECTABLE:
    case InstallP1.LOAD_INSTALL_AND_MAKE_SELECTABLE: {
      const loadFileAid = readAid(r, 'executable load file AID', true);
      const moduleAid = readAid(r, 'executable module AID', true);
      const applicationAid = readAid(r, 'application AID', false)!;
      const privileges = readPrivileges(r, false)!;
      const parameters = r.lvBer('install parameters');
      if (parameters.length < 2) throw new GpError('BAD_DATA', "install parameters are mandatory ('C9')");
      const token = r.lvBer('install token');
      out = {
        kind: 'install',
        makeSelectable: (role & InstallP1.MAKE_SELECTABLE) !== 0,
        ...(loadFileAid ? { loadFileAid } : {}),
        ...(moduleAid ? { moduleAid } : {}),
        applicationAid,
        privileges,
        parameters,
        ...(token.length ? { token } : {}),
      };
      break;
    }
    case InstallP1.MAKE_SELECTABLE: {
      readZero(r, 'length of data');
      readZero(r, 'length of data');
      const applicationAid = readAid(r, 'application AID', false)!;
      const privileges = readPrivileges(r, false)!;
      const parameters = opt(r.lvBer('make selectable parameters'));
      const token = opt(r.lvBer('make selectable token'));
      out = { kind: 'makeSelectable', applicationAid, privileges, ...(parameters ? { parameters } : {}), ...(token ? { token } : {}) };
      break;
    }
    case InstallP1.EXTRADITION: {
      const sdAid = readAid(r, 'security domain AID', false)!;
      readZero(r, 'length of data');
      const aid = readAid(r, 'application or load file AID', false)!;
      readZero(r, 'length');
      const parameters = opt(r.lvBer('extradition parameters'));
      const token = opt(r.lvBer('extradition token'));
      out = { kind: 'extradition', sdAid, aid, ...(parameters ? { parameters } : {}), ...(token ? { token } : {}) };
      break;
    }
    case InstallP1.REGISTRY_UPDATE: {
      const sdAid = readAid(r, 'security domain AID', true);
      readZero(r, 'length of data');
      const applicationAid = readAid(r, 'application AID', true);
      const privileges = readPrivileges(r, true);
      const parameters = opt(r.lvBer('registry update parameters'));
      const token = opt(r.lvBer('registry update token'));
      out = {
        kind: 'registryUpdate',
        ...(sdAid ? { sdAid } : {}),
        ...(applicationAid ? { applicationAid } : {}),
        ...(privileges ? { privileges } : {}),
        ...(parameters ? { parameters } : {}),
        ...(token ? { token } : {}),
      };
      break;
    }
    case InstallP1.PERSONALIZATION: {
      readZero(r, 'length of data');
      readZero(r, 'length of data');
      const applicationAid = readAid(r, 'application AID', false)!;
      readZero(r, 'length of data');
      readZero(r, 'length of data');
      readZero(r, 'length of data');
      out = { kind: 'personalization', applicationAid };
      break;
    }
    default:
      throw new GpError('BAD_P1P2', `INSTALL P1 ${cmd.p1.toString(16)} is not a supported combination`);
  }
  r.end('INSTALL data');
  return out;
}

// Kept here as well so that modules importing them from './install.ts' keep working.
export {
  encodeInstallParameters,
  parseInstallParameters,
  encodeLoadParameters,
  parseLoadParameters,
  encodeSdInstallParameters,
  parseSdInstallParameters,
  encodeConfirmationResponse,
  parseConfirmationResponse,
  type InstallParameters,
  type SystemParameters,
  type LoadParameters,
  type SdInstallParameters,
} from './install-params.ts';
