/**
 * INSTALL handled by a Security Domain (GPCS 2.3.1 §11.5; processes §9.3 loading/installation/make selectable,
 * §9.4 extradition and registry update, §7.3.2 personalisation).
 *
 * Card content management needs Authorized Management (the ISD has it). Delegated Management tokens and
 * receipts are not supported: a token in the command is refused with 6A80 (§11.5.2.3.1 — "an error status
 * shall be returned if a … Token is present"), and an SD with only Delegated Management gets 6985.
 * The response data is the single byte '00' (no confirmation, §11.5.3.1). 'More commands' chaining (P1.b8) is
 * not supported: 6A86 (§11.1.5.1).
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import {
  encodeConfirmationResponse,
  parseInstallCommand,
  parseInstallParameters,
  parseSdInstallParameters,
  type InstallCommand,
  type InstallForExtradition,
  type InstallForInstall,
  type InstallForLoad,
  type InstallForMakeSelectable,
  type InstallForPersonalization,
  type InstallForRegistryUpdate,
  type InstallParameters,
} from '../../gp/index.ts';
import { canTransitionApp, canTransitionSd } from '../../gp/index.ts';
import { appletContext, appletFor } from '../applets/run.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, SwError, check } from '../errors.ts';
import { SSD_MODULE_AID, keySetRecords } from '../profile.ts';
import { canSee, findApp, findElf, hasPrivilege, isInHierarchy, isd } from '../registry.ts';
import type { AppRecord, CardState, SdScp } from '../state.ts';
import { speaksScp } from './secure-channel.ts';
import { checkedPrivileges, claimUniquePrivileges, restoreUniquePrivileges } from './privilege-rules.ts';
import { scp02 } from '../../scp/index.ts';

const DONE: ResponseApdu = { data: encodeConfirmationResponse(), sw: SW.OK };

function requireAuthorizedManagement(ctx: SdCommandContext): void {
  check(hasPrivilege(ctx.sd, 'AuthorizedManagement'), SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'card content management needs Authorized Management');
}

function noToken(token: Uint8Array | undefined): void {
  check(token === undefined || token.length === 0, SW.INCORRECT_DATA, 'tokens (Delegated Management) are not supported');
}

function aidInUse(state: CardState, aid: string): boolean {
  return findApp(state, aid) !== undefined || findElf(state, aid) !== undefined;
}

export function install(ctx: SdCommandContext): ResponseApdu {
  const c = ctx.command;
  check((c.p1 & 0x80) === 0, SW.INCORRECT_P1P2, 'INSTALL chaining is not supported');
  check(c.p2 === 0x00, SW.INCORRECT_P1P2, 'combined load, install and make selectable is not supported');
  const cmd: InstallCommand = parseInstallCommand(c);
  switch (cmd.kind) {
    case 'load':
      return forLoad(ctx, cmd);
    case 'install':
      return forInstall(ctx, cmd);
    case 'makeSelectable':
      return forMakeSelectable(ctx, cmd);
    case 'extradition':
      return forExtradition(ctx, cmd);
    case 'registryUpdate':
      return forRegistryUpdate(ctx, cmd);
    case 'personalization':
      return forPersonalization(ctx, cmd);
  }
}

/** INSTALL [for load]: remember what LOAD will bring (§9.3.5). Nothing persistent changes yet. */
function forLoad(ctx: SdCommandContext, cmd: InstallForLoad): ResponseApdu {
  requireAuthorizedManagement(ctx);
  noToken(cmd.token);
  const elf = toHex(cmd.loadFileAid);
  check(!aidInUse(ctx.state, elf), SW.INCORRECT_DATA, `AID ${elf} already in use`);
  let sd = ctx.sd.aid;
  if (cmd.sdAid && cmd.sdAid.length) {
    sd = toHex(cmd.sdAid);
    const target = findApp(ctx.state, sd);
    check(target?.securityDomain !== undefined, SW.REFERENCED_DATA_NOT_FOUND, `no Security Domain ${sd}`);
    check(sd === ctx.sd.aid || isInHierarchy(ctx.state, ctx.sd.aid, sd), SW.REFERENCED_DATA_NOT_FOUND, 'SD outside this hierarchy');
  }
  const hash = cmd.loadFileDataBlockHash ?? new Uint8Array(0);
  check([0, 20, 32, 48, 64].includes(hash.length), SW.INCORRECT_DATA, 'unknown Load File Data Block Hash length');
  if (cmd.parameters) parseInstallParametersOr6A80(cmd.parameters, true);
  ctx.channel.load = { elf, sd, hash, reassembly: undefined };
  return DONE;
}

function parseInstallParametersOr6A80(bytes: Uint8Array, load = false): InstallParameters {
  try {
    return parseInstallParameters(bytes);
  } catch {
    throw new SwError(SW.INCORRECT_DATA, load ? 'bad load parameters' : 'bad install parameters');
  }
}

/** INSTALL [for install] and [for install and make selectable] (§9.3.6, §9.3.7). */
function forInstall(ctx: SdCommandContext, cmd: InstallForInstall): ResponseApdu {
  requireAuthorizedManagement(ctx);
  noToken(cmd.token);
  const { state } = ctx;
  check(cmd.loadFileAid !== undefined && cmd.moduleAid !== undefined, SW.INCORRECT_DATA, 'load file and module AIDs are needed');
  const elf = findElf(state, toHex(cmd.loadFileAid));
  check(elf !== undefined, SW.REFERENCED_DATA_NOT_FOUND, 'no such Executable Load File');
  const module = toHex(cmd.moduleAid);
  check(elf.modules.includes(module), SW.REFERENCED_DATA_NOT_FOUND, 'no such Executable Module');
  const aid = toHex(cmd.applicationAid);
  check(!aidInUse(state, aid), SW.INCORRECT_DATA, `AID ${aid} already in use`);
  const isSd = module === SSD_MODULE_AID;
  const privileges = checkedPrivileges(cmd.privileges, isSd);
  check(!privileges.set.has('CardReset') || cmd.makeSelectable, SW.INCORRECT_DATA, 'Card Reset needs make selectable');
  const params = parseInstallParametersOr6A80(cmd.parameters);
  check(params.applicationSpecific !== undefined, SW.INCORRECT_DATA, "install parameters need 'C9'");
  check(params.system?.restrict === undefined, SW.INCORRECT_DATA, 'restrict parameter not supported here');
  const implicit = [...(params.system?.implicitSelection ?? [])];
  check(implicit.every((p) => (p & 0x1f) <= 19), SW.INCORRECT_DATA, 'implicit selection channel out of range');
  check(implicit.length === 0 || cmd.makeSelectable, SW.INCORRECT_DATA, 'implicit selection needs make selectable');
  claimUniquePrivileges(state, aid, privileges.set);

  const app: AppRecord = {
    aid,
    elf: elf.aid,
    module,
    lifeCycle: cmd.makeSelectable ? 0x07 : 0x03,
    privileges: privileges.hex,
    sd: ctx.sd.aid,
    implicitSelection: implicit,
    installParams: toHex(params.applicationSpecific),
  };
  if (isSd) {
    let scp: SdScp = isd(state).securityDomain!.scp;
    let i = isd(state).securityDomain!.i;
    try {
      const sdParams = parseSdInstallParameters(params.applicationSpecific);
      if (sdParams.scp) {
        check(sdParams.scp.id === 2 || sdParams.scp.id === 3 || sdParams.scp.id === 0x10 || sdParams.scp.id === 0x11, SW.INCORRECT_DATA, 'unsupported secure channel protocol');
        // SCP10 (GPCS 2.2.1 Table F-1): i = 01 (key agreement) or 02 (key transport), one option per SD.
        check(sdParams.scp.id !== 0x10 || sdParams.scp.i === 0x01 || sdParams.scp.i === 0x02, SW.INCORRECT_DATA, "SCP10 'i' must be 01 or 02");
        // SCP02 (GPCS 2.2.1 Table E-1): the options this card runs (explicit/modified APDU or implicit/unmodified APDU).
        check(sdParams.scp.id !== 2 || scp02.isSupportedI(sdParams.scp.i), SW.INCORRECT_DATA, "unsupported SCP02 'i'");
        scp = sdParams.scp.id as SdScp;
        i = sdParams.scp.i;
      }
    } catch (e) {
      if (e instanceof SwError) throw e;
      throw new SwError(SW.INCORRECT_DATA, "Security Domain parameters in 'C9' are not BER-TLV");
    }
    const initial = state.ssdInitialKeys;
    // An SCP10 / SCP11 SD gets the initial key set for SCP03 (its first SCP10 or SCP11a/c session removes it,
    // scp10.ts / scp11.ts).
    const keys = initial && (scp !== 2 || initial.enc.length === 32)
      ? keySetRecords(0xff, scp === 2 ? 2 : 3, { enc: fromHex(initial.enc), mac: fromHex(initial.mac), dek: fromHex(initial.dek) })
      : [];
    app.securityDomain = { scp, i, keys, sequenceCounters: keys.length ? { '255': 0 } : {}, data: {} };
    check(speaksScp(app), SW.INCORRECT_DATA, 'this card does not implement that secure channel protocol');
  } else {
    const applet = appletFor(ctx.catalogue, app);
    applet.install(appletContext(app, ctx.channelNo, {}, ctx.random), { parameters: params.applicationSpecific, privileges: fromHex(privileges.hex) });
  }
  state.apps.push(app);
  return DONE;
}

/** INSTALL [for make selectable] (§9.3.7): INSTALLED → SELECTABLE. */
function forMakeSelectable(ctx: SdCommandContext, cmd: InstallForMakeSelectable): ResponseApdu {
  requireAuthorizedManagement(ctx);
  noToken(cmd.token);
  const app = findApp(ctx.state, toHex(cmd.applicationAid));
  check(app !== undefined && app.aid !== ctx.state.isd && canSee(ctx.state, ctx.sd, app.aid), SW.REFERENCED_DATA_NOT_FOUND, 'no such application');
  const to = 0x07;
  const allowed = app.securityDomain ? canTransitionSd(app.lifeCycle, to, 'am') : canTransitionApp(app.lifeCycle, to, 'am');
  check(allowed, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'application is not in the INSTALLED state');
  let cardReset = false;
  try {
    cardReset = (cmd.privileges[0]! & 0x04) !== 0;
  } catch {
    cardReset = false;
  }
  if (cardReset) {
    // §11.5.2.3.3: only Card Reset counts here, assigned per §6.6.2 (refused while another application holds it).
    claimUniquePrivileges(ctx.state, app.aid, new Set(['CardReset']));
    const b = fromHex(app.privileges);
    b[0] = b[0]! | 0x04;
    app.privileges = toHex(b);
  }
  app.lifeCycle = to;
  return DONE;
}

/** INSTALL [for extradition] (§9.4.1): associate an application or load file with another SD. */
function forExtradition(ctx: SdCommandContext, cmd: InstallForExtradition): ResponseApdu {
  requireAuthorizedManagement(ctx);
  noToken(cmd.token);
  extradite(ctx, toHex(cmd.sdAid), toHex(cmd.aid));
  return DONE;
}

function extradite(ctx: SdCommandContext, sdAid: string, objectAid: string): void {
  const { state } = ctx;
  const target = findApp(state, sdAid);
  check(target?.securityDomain !== undefined, SW.REFERENCED_DATA_NOT_FOUND, `no Security Domain ${sdAid}`);
  check((target.lifeCycle & 0x80) === 0, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'target Security Domain is locked');
  check(objectAid !== state.isd, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'the ISD cannot be extradited');
  const app = findApp(state, objectAid);
  const elf = app ? undefined : findElf(state, objectAid);
  check(app !== undefined || elf !== undefined, SW.REFERENCED_DATA_NOT_FOUND, `no application or load file ${objectAid}`);
  check(isInHierarchy(state, ctx.sd.aid, objectAid), SW.REFERENCED_DATA_NOT_FOUND, 'not associated with this Security Domain');
  if (app) {
    if (sdAid === objectAid) {
      check(app.securityDomain !== undefined, SW.INCORRECT_DATA, 'only a Security Domain can be associated with itself');
    } else {
      check(!isInHierarchy(state, objectAid, sdAid), SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'would create an association cycle');
    }
    app.sd = sdAid;
  } else {
    // §9.4.1: "Check that the Security Domain to which an Executable Load File is being extradited does not
    // have the DAP Verification privilege".
    check(!hasPrivilege(target, 'DAPVerification'), SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'a load file cannot be extradited to a DAP Verification SD');
    elf!.sd = sdAid;
  }
}

/** INSTALL [for registry update] (§9.4.2): extradition and/or new privileges, all or nothing. */
function forRegistryUpdate(ctx: SdCommandContext, cmd: InstallForRegistryUpdate): ResponseApdu {
  requireAuthorizedManagement(ctx);
  noToken(cmd.token);
  check(cmd.applicationAid !== undefined && cmd.applicationAid.length > 0, SW.INCORRECT_DATA, 'restricting the OPEN is not supported');
  const aid = toHex(cmd.applicationAid);
  const app = findApp(ctx.state, aid);
  check(app !== undefined && aid !== ctx.state.isd && canSee(ctx.state, ctx.sd, aid), SW.REFERENCED_DATA_NOT_FOUND, 'no such application');
  if (cmd.parameters && cmd.parameters.length) {
    const p = parseInstallParametersOr6A80(cmd.parameters);
    check(p.system?.restrict === undefined, SW.INCORRECT_DATA, 'restrict parameter not supported');
    for (const cf of p.system?.implicitSelection ?? []) app.implicitSelection.push(cf);
  }
  if (cmd.privileges && cmd.privileges.length) {
    const privileges = checkedPrivileges(cmd.privileges, app.securityDomain !== undefined);
    claimUniquePrivileges(ctx.state, aid, privileges.set);
    app.privileges = privileges.hex;
    restoreUniquePrivileges(ctx.state); // a revoked Card Reset / Final Application returns to the ISD (§6.6.2)
  }
  if (cmd.sdAid && cmd.sdAid.length) extradite(ctx, toHex(cmd.sdAid), aid);
  return DONE;
}

/** INSTALL [for personalization] (§7.3.2, §11.11.1): the following STORE DATA go to the application. */
function forPersonalization(ctx: SdCommandContext, cmd: InstallForPersonalization): ResponseApdu {
  const aid = toHex(cmd.applicationAid);
  const app = findApp(ctx.state, aid);
  check(app !== undefined && app.sd === ctx.sd.aid && aid !== ctx.sd.aid, SW.REFERENCED_DATA_NOT_FOUND, 'no application associated with this Security Domain');
  check((app.lifeCycle & 0x80) === 0, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'application is locked');
  ctx.channel.personalization = { target: aid, nextBlock: 0 };
  ctx.channel.storeData = undefined;
  return DONE;
}
