/**
 * Host-side GlobalPlatform operations over any `CardChannel` (plain, or a secure session that wraps
 * each command): build the command, send it, check the status word, parse the answer.
 * The platforms (issuer, provider) and the CLI share these; they never see how APDUs travel.
 */
import { transmitScript, type CardChannel } from '../apdu/channel.ts';
import { encodeCommand, type CommandApdu } from '../apdu/command.ts';
import { decodeResponse, type ResponseApdu } from '../apdu/response.ts';
import { ApduError } from '../apdu/errors.ts';
import { concat, equalConstantTime } from '../core/bytes.ts';
import { kcvFor } from './kcv.ts';
import { buildGetStatus, parseGetStatusResponse, GetStatusScope, type RegistryEntry } from './registry.ts';
import { buildInstallForInstall, buildInstallForExtradition, buildInstallForPersonalization } from './install.ts';
import { encodeInstallParameters, encodeSdInstallParameters } from './install-params.ts';
import { buildDeleteCardContent, buildDeleteKey } from './delete.ts';
import { buildSetStatus, SetStatusScope } from './set-status.ts';
import { buildPutKey, parsePutKeyResponse, type PutKeyResponse } from './put-key.ts';
import { buildStoreDataBlocks, type StoreDataOptions } from './store-data.ts';
import { buildGetData } from './get-data.ts';
import { KeyType } from './keys.ts';
import { SSD_MODULE_AID, SSD_PACKAGE_AID } from './aid.ts';
import { encodePrivileges, type PrivilegeName } from './privileges.ts';
import { AppLifeCycle, SdLifeCycle } from './lifecycle.ts';

const SW_OK = 0x9000;
const SW_MORE = 0x6310;

/** Send one command and return the response; throws `ApduError` unless the SW is in `accept`. */
export async function send(channel: CardChannel, cmd: CommandApdu, accept: readonly number[] = [SW_OK]): Promise<ResponseApdu> {
  const r = decodeResponse(await channel.transmit(encodeCommand(cmd)));
  if (!accept.includes(r.sw)) throw new ApduError('STATUS', r.sw, cmd.ins);
  return r;
}

/** GET STATUS with paging ('6310' → get next), E3 format (GPCS 2.3.1 §11.4). */
export async function getStatus(channel: CardChannel, scope: number, aid: Uint8Array = new Uint8Array(0)): Promise<RegistryEntry[]> {
  const entries: RegistryEntry[] = [];
  let next = false;
  for (let page = 0; page < 256; page++) {
    const r = await send(channel, buildGetStatus({ scope, aid, next }), [SW_OK, SW_MORE, 0x6a88]);
    if (r.sw === 0x6a88) return entries; // referenced data not found: nothing in this scope
    entries.push(...parseGetStatusResponse(r.data));
    if (r.sw === SW_OK) return entries;
    next = true;
  }
  throw new ApduError('STATUS', SW_MORE, 0xf2, 'GET STATUS paging did not end');
}

/** The whole registry the current SD may see: ISD, applications and SDs, load files with modules. */
export async function listRegistry(channel: CardChannel): Promise<{
  isd: RegistryEntry[];
  applications: RegistryEntry[];
  loadFiles: RegistryEntry[];
}> {
  // An SSD without Global Registry may not report the ISD (the simulator answers 6A86, as many cards
  // do); the rest of what it may see is still listed.
  const isd = await getStatus(channel, GetStatusScope.ISD).catch((e: unknown) => {
    if (e instanceof ApduError && e.sw === 0x6a86) return [];
    throw e;
  });
  const applications = await getStatus(channel, GetStatusScope.APPLICATIONS);
  const loadFiles = await getStatus(channel, GetStatusScope.LOAD_FILES_AND_MODULES);
  return { isd, applications, loadFiles };
}

export interface CreateDomainRequest {
  readonly aid: Uint8Array;
  readonly privileges: Iterable<PrivilegeName>;
  /** SCP the new SD speaks ('81' in C9): e.g. { id: 3, i: 0x70 }. */
  readonly scp?: { readonly id: number; readonly i: number };
  readonly loadFileAid?: Uint8Array;
  readonly moduleAid?: Uint8Array;
}

/** INSTALL [for install and make selectable] of a Supplementary Security Domain (§11.5.2.3): the command. */
export function buildCreateSecurityDomain(req: CreateDomainRequest): CommandApdu {
  const privileges = new Set<PrivilegeName>(req.privileges);
  privileges.add('SecurityDomain');
  const c9 = req.scp ? encodeSdInstallParameters({ scp: req.scp }) : new Uint8Array(0);
  return buildInstallForInstall({
    makeSelectable: true,
    loadFileAid: req.loadFileAid ?? SSD_PACKAGE_AID,
    moduleAid: req.moduleAid ?? SSD_MODULE_AID,
    applicationAid: req.aid,
    privileges: encodePrivileges(privileges, 3),
    parameters: encodeInstallParameters({ applicationSpecific: c9 }),
  });
}

/** INSTALL [for install and make selectable] of a Supplementary Security Domain (§11.5.2.3). */
export async function createSecurityDomain(channel: CardChannel, req: CreateDomainRequest): Promise<void> {
  await send(channel, buildCreateSecurityDomain(req));
}

/**
 * Send `commands` as one script (see `transmitScript`) and check that every one was answered 9000;
 * throws `ApduError` with the status word and INS of the first that was not.
 */
export async function sendAll(channel: CardChannel, commands: readonly CommandApdu[]): Promise<ResponseApdu[]> {
  const raw = await transmitScript(channel, commands.map(encodeCommand));
  const responses = raw.map(decodeResponse);
  for (let n = 0; n < commands.length; n++) {
    const r = responses[n];
    if (r === undefined) throw new ApduError('STATUS', 0x6f00, commands[n]!.ins, 'the card did not execute this command of the script');
    if (r.sw !== SW_OK) throw new ApduError('STATUS', r.sw, commands[n]!.ins);
  }
  return responses;
}

/** INSTALL [for install] (and make selectable) of an application from a loaded load file. */
export async function installApplication(
  channel: CardChannel,
  req: {
    loadFileAid: Uint8Array;
    moduleAid: Uint8Array;
    aid: Uint8Array;
    privileges?: Iterable<PrivilegeName>;
    parameters?: Uint8Array;
    makeSelectable?: boolean;
  },
): Promise<void> {
  await send(
    channel,
    buildInstallForInstall({
      makeSelectable: req.makeSelectable ?? true,
      loadFileAid: req.loadFileAid,
      moduleAid: req.moduleAid,
      applicationAid: req.aid,
      privileges: encodePrivileges(req.privileges ?? [], 3),
      parameters: encodeInstallParameters({ applicationSpecific: req.parameters ?? new Uint8Array(0) }),
    }),
  );
}

/** INSTALL [for extradition]: associate `aid` with the security domain `sdAid` (§11.5.2.3.4). */
export async function extradite(channel: CardChannel, aid: Uint8Array, sdAid: Uint8Array): Promise<void> {
  await send(channel, buildInstallForExtradition({ sdAid, aid }));
}

/** DELETE [card content], optionally with related objects (§11.2). */
export async function deleteObject(channel: CardChannel, aid: Uint8Array, related = false): Promise<void> {
  await send(channel, buildDeleteCardContent(aid, { related }));
}

/** DELETE [key] by key version and/or key identifier. */
export async function deleteKey(channel: CardChannel, key: { kvn?: number; keyId?: number }): Promise<void> {
  await send(channel, buildDeleteKey(key));
}

/** SET STATUS lock / unlock of an application or SD (§11.10), keeping the other life-cycle bits. */
export async function setApplicationLock(channel: CardChannel, aid: Uint8Array, locked: boolean, withApplications = false): Promise<void> {
  const state = locked ? SdLifeCycle.LOCKED | AppLifeCycle.SELECTABLE : AppLifeCycle.SELECTABLE;
  await send(
    channel,
    buildSetStatus({ scope: withApplications ? SetStatusScope.SD_AND_APPLICATIONS : SetStatusScope.APPLICATION, state, aid }),
  );
}

/** SET STATUS of the card life cycle (ISD scope). */
export async function setCardLifeCycle(channel: CardChannel, state: number): Promise<void> {
  await send(channel, buildSetStatus({ scope: SetStatusScope.ISD, state }));
}

export interface KeySetToPut {
  /** 'aes' for SCP03 key sets, 'des' for SCP02 (3DES two-key). */
  readonly type: 'aes' | 'des';
  readonly enc: Uint8Array;
  readonly mac: Uint8Array;
  readonly dek: Uint8Array;
}

/**
 * PUT KEY of a whole key set (ENC, MAC, DEK with key identifiers 1, 2, 3) in one command (§11.8):
 * `replaceKvn` 0 adds a key set, otherwise the key set with that version is replaced. Key components
 * are encrypted by `encryptKey` (the open session's DEK rule); the card answers the KVN and the KCVs,
 * which are checked against the ones sent.
 */
export async function putKeySet(
  channel: CardChannel,
  req: { replaceKvn: number; newKvn: number; keys: KeySetToPut },
  encryptKey: (plain: Uint8Array) => Uint8Array,
): Promise<PutKeyResponse> {
  const type = req.keys.type === 'aes' ? KeyType.AES : KeyType.DES;
  const key = (value: Uint8Array) => ({ components: [{ type, value }] });
  const r = await send(
    channel,
    buildPutKey(
      { replaceKvn: req.replaceKvn, newKvn: req.newKvn, keyId: 1, keys: [key(req.keys.enc), key(req.keys.mac), key(req.keys.dek)] },
      (plain) => encryptKey(plain),
    ),
  );
  const response = parsePutKeyResponse(r.data);
  if (response.kvn !== req.newKvn) throw new ApduError('STATUS', r.sw, 0xd8, `card answered key version ${response.kvn}, not ${req.newKvn}`);
  // §11.8.3.1: the KCVs let the host verify the keys were loaded correctly.
  const sent = [req.keys.enc, req.keys.mac, req.keys.dek].map((v) => kcvFor(type, v));
  if (response.kcvs.length !== 3 || !sent.every((k, n) => equalConstantTime(k, response.kcvs[n]!))) {
    throw new ApduError('STATUS', r.sw, 0xd8, 'card answered key check values that differ from the keys sent');
  }
  return response;
}

/** STORE DATA of `data` in blocks to the currently selected SD or the application under personalisation (§11.11). */
export async function storeData(channel: CardChannel, data: Uint8Array, options: StoreDataOptions = {}): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for (const cmd of buildStoreDataBlocks(data, options)) out.push((await send(channel, cmd)).data);
  return concat(...out);
}

/** INSTALL [for personalization] of `aid`; STORE DATA commands that follow go to that application. */
export async function beginPersonalization(channel: CardChannel, aid: Uint8Array): Promise<void> {
  await send(channel, buildInstallForPersonalization(aid));
}

/** GET DATA of one tag; `undefined` when the card does not have it (6A88 / 6A82). */
export async function getData(channel: CardChannel, tag: number): Promise<Uint8Array | undefined> {
  const r = await send(channel, buildGetData(tag), [SW_OK, 0x6a88, 0x6a82, 0x6a86]);
  return r.sw === SW_OK ? r.data : undefined;
}
