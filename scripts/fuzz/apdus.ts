/**
 * Well-formed commands for every instruction the simulated card knows, built with the gp builders
 * (GPCS 2.3.1 chapter 11; ISO/IEC 7816-4 SELECT, MANAGE CHANNEL, GET RESPONSE; SCP02/SCP03 handshake commands),
 * addressed to a logical channel. The fuzzer mutates them afterwards.
 */
import { command, decodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { concat, fromHex } from '../../src/core/bytes.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import {
  GetDataTag,
  GetStatusScope,
  buildDeleteCardContent,
  buildDeleteKey,
  buildGetData,
  buildGetStatus,
  buildInstallForExtradition,
  buildInstallForInstall,
  buildInstallForLoad,
  buildInstallForMakeSelectable,
  buildInstallForPersonalization,
  buildInstallForRegistryUpdate,
  buildLoadCommands,
  buildPutKey,
  buildSelect,
  buildSetStatus,
  buildStoreData,
  encodeDgi,
  encodeInstallParameters,
  encodeLoadFile,
  encodePrivileges,
  encodeSdInstallParameters,
  type PrivilegeName,
} from '../../src/gp/index.ts';
import { scp02, scp03 } from '../../src/scp/index.ts';
import { encodeLoadFileDataBlock } from '../../src/card/index.ts';
import type { Prng } from './prng.ts';

export const AIDS = Object.freeze({
  ISD: 'A000000151000000',
  SSD: 'A000000151535344534401',
  SSD2: 'A000000151535344534402',
  SSD_ELF: 'A0000001515350',
  SSD_MODULE: 'A000000151535041',
  ECHO_ELF: 'F04F50454E54534D',
  ECHO_MODULE: 'F04F50454E54534D01',
  ECHO1: 'F04F50454E54534D0101',
  ECHO2: 'F04F50454E54534D0102',
  ECHO3: 'F04F50454E54534D0103',
  NEW_ELF: 'F04655A5A5A501',
});

export const DEFAULT_KEY = fromHex('404142434445464748494A4B4C4D4E4F');

/** Instructions the generators cover (INS byte → name), for statistics. */
export const INSTRUCTIONS: Readonly<Record<number, string>> = Object.freeze({
  0xa4: 'SELECT',
  0x70: 'MANAGE CHANNEL',
  0xc0: 'GET RESPONSE',
  0x50: 'INITIALIZE UPDATE',
  0x82: 'EXTERNAL AUTHENTICATE',
  0xf2: 'GET STATUS',
  0xca: 'GET DATA',
  0xcb: 'GET DATA (CB)',
  0xe6: 'INSTALL',
  0xe8: 'LOAD',
  0xe4: 'DELETE',
  0xd8: 'PUT KEY',
  0xe2: 'STORE DATA',
  0xf0: 'SET STATUS',
  0x10: 'ECHO',
  0x20: 'INCREMENT',
  0x22: 'READ COUNTER',
});

export interface BuildContext {
  readonly rng: Prng;
  readonly scp: 2 | 3;
  /** Logical channel the command is addressed to. */
  readonly channel: number;
  /** Key encryption of the open session (PUT KEY); random bytes stand in without one. */
  readonly encryptKey?: (key: Uint8Array) => Uint8Array;
}

/** CLA for `channel`, keeping the proprietary bit of `cla` (GPCS 2.3.1 §11.1.4). */
export function claOn(cla: number, channel: number): number {
  const base = cla & 0x80;
  return channel < 4 ? base | channel : base | 0x40 | (channel - 4);
}

export function onChannel(c: CommandApdu, channel: number): CommandApdu {
  return { ...c, cla: claOn(c.cla, channel) };
}

function someAid(rng: Prng): Uint8Array {
  return rng.weighted<() => Uint8Array>([
    [10, () => fromHex(rng.pick(Object.values(AIDS)))],
    [2, () => fromHex('A000000151')],
    [2, () => fromHex('F04F50454E54534D')],
    [3, () => rng.bytes(rng.range(5, 16))],
  ])();
}

function privileges(rng: Prng, sd: boolean): Uint8Array {
  const names: PrivilegeName[] = ['AuthorizedManagement', 'TrustedPath', 'CardLock', 'CardTerminate', 'CardReset', 'GlobalRegistry', 'FinalApplication'];
  const chosen = new Set<PrivilegeName>(sd ? ['SecurityDomain'] : []);
  for (const n of names) if (rng.chance(0.15)) chosen.add(n);
  return rng.chance(0.1) ? rng.bytes(rng.pick([1, 3])) : encodePrivileges(chosen);
}

function installParams(rng: Prng, sd: boolean): Uint8Array {
  if (rng.chance(0.1)) return rng.bytes(rng.range(0, 12));
  const c9 = sd ? encodeSdInstallParameters({ scp: rng.pick([{ id: 3, i: 0x70 }, { id: 2, i: 0x55 }, { id: rng.byte(), i: rng.byte() }]) }) : rng.chance(0.5) ? new Uint8Array(0) : rng.bytes(4);
  const implicit = rng.chance(0.15) ? { system: { implicitSelection: [rng.pick([0x80, 0x81, 0xc1, 0x45, rng.byte()])] } } : {};
  return encodeInstallParameters({ applicationSpecific: c9, ...implicit });
}

function install(ctx: BuildContext): CommandApdu {
  const { rng } = ctx;
  const sd = rng.chance(0.4);
  return rng.weighted<() => CommandApdu>([
    [4, () =>
      buildInstallForInstall({
        makeSelectable: rng.chance(0.8),
        loadFileAid: fromHex(sd ? AIDS.SSD_ELF : AIDS.ECHO_ELF),
        moduleAid: fromHex(sd ? AIDS.SSD_MODULE : AIDS.ECHO_MODULE),
        applicationAid: fromHex(sd ? rng.pick([AIDS.SSD, AIDS.SSD2]) : rng.pick([AIDS.ECHO1, AIDS.ECHO2, AIDS.ECHO3])),
        privileges: privileges(rng, sd),
        parameters: installParams(rng, sd),
      })],
    [2, () => buildInstallForLoad({ loadFileAid: rng.chance(0.8) ? fromHex(AIDS.NEW_ELF) : someAid(rng), ...(rng.chance(0.3) ? { sdAid: someAid(rng) } : {}), ...(rng.chance(0.3) ? { loadFileDataBlockHash: rng.bytes(rng.pick([20, 32, 7])) } : {}) })],
    [1, () => buildInstallForMakeSelectable({ applicationAid: someAid(rng), privileges: privileges(rng, false) })],
    [1, () => buildInstallForExtradition({ sdAid: fromHex(rng.pick([AIDS.SSD, AIDS.SSD2, AIDS.ISD])), aid: someAid(rng) })],
    [1, () => buildInstallForRegistryUpdate({ applicationAid: someAid(rng), ...(rng.chance(0.5) ? { privileges: privileges(rng, rng.chance(0.5)) } : {}), ...(rng.chance(0.3) ? { sdAid: someAid(rng) } : {}) })],
    [2, () => buildInstallForPersonalization(fromHex(rng.pick([AIDS.ECHO1, AIDS.ECHO2, AIDS.SSD])))],
  ])();
}

/** The LOAD blocks of a small Load File for a new load file (module code unknown to the catalogue). */
export function loadBlocks(rng: Prng): CommandApdu[] {
  const block = encodeLoadFileDataBlock({
    elf: fromHex(AIDS.NEW_ELF),
    version: Uint8Array.of(1, 0),
    modules: [fromHex(AIDS.NEW_ELF + '01')],
    ...(rng.chance(0.5) ? { code: rng.bytes(rng.range(1, 400)) } : {}),
  });
  return buildLoadCommands(encodeLoadFile({ loadFileDataBlock: block }), rng.pick([64, 128, 200]));
}

function putKey(ctx: BuildContext): CommandApdu {
  const { rng } = ctx;
  const aes = ctx.scp === 3;
  const type = aes ? 0x88 : 0x80;
  const value = () => (rng.chance(0.6) ? DEFAULT_KEY : rng.bytes(rng.pick(aes ? [16, 16, 24, 32] : [16, 16, 24])));
  const count = rng.pick([1, 3, 3]);
  const keys = Array.from({ length: count }, () => ({ components: [{ type: rng.chance(0.05) ? rng.pick([0x80, 0x88, 0xa1]) : type, value: value() }] }));
  const encrypt = ctx.encryptKey ?? ((k: Uint8Array) => rng.bytes(k.length % 16 === 0 ? k.length : k.length + 8 - (k.length % 8)));
  try {
    const c = buildPutKey(
      { replaceKvn: rng.pick([0, 0, 0x30, 0x20, 0x01]), newKvn: rng.pick([0x30, 0x31, 0x20, 0x21, 0x01, rng.range(1, 0x7f)]), keyId: rng.pick([1, 1, 2, 3]), keys },
      (k) => encrypt(k),
    );
    return rng.chance(0.15) ? { ...c, p1: 0xff } : c;
  } catch {
    return command(0x80, 0xd8, 0, 0x81, rng.bytes(rng.range(1, 60)), 256);
  }
}

function storeData(ctx: BuildContext): CommandApdu {
  const { rng } = ctx;
  const format = rng.pick(['ber', 'dgi', 'none'] as const);
  const data =
    format === 'dgi'
      ? encodeDgi(rng.pick([0x0070, 0x8010, 0x00c9, rng.u32() & 0xffff]), rng.bytes(rng.range(1, 40)))
      : format === 'ber'
        ? concat(encodeTlv(rng.pick([0x5f20, 0x42, 0x45, 0x66, 0xc1, 0x9f7f]), rng.bytes(rng.range(0, 30))), rng.chance(0.3) ? encodeTlv(0xc2, rng.bytes(3)) : new Uint8Array(0))
        : rng.bytes(rng.range(1, 60));
  return buildStoreData(data, rng.chance(0.7) ? 0 : rng.byte(), rng.chance(0.8), { format, ...(rng.chance(0.1) ? { encryption: 'encrypted' as const } : {}) });
}

/** A well-formed command for a random instruction, on `ctx.channel`. */
export function wellFormed(ctx: BuildContext): { command: CommandApdu; ins: number } {
  const { rng } = ctx;
  const build = rng.weighted<() => CommandApdu>([
    [6, () => buildSelect(someAid(rng), { next: rng.chance(0.1) })],
    [2, () => (rng.chance(0.6) ? command(0x00, 0x70, 0x00, rng.chance(0.7) ? 0 : rng.range(1, 19), new Uint8Array(0), 1) : command(0x00, 0x70, 0x80, rng.range(0, 19)))],
    [1, () => command(0x00, 0xc0, 0x00, 0x00, new Uint8Array(0), rng.pick([256, rng.range(1, 255)]))],
    [3, () => {
      const s16 = ctx.scp === 3 && rng.chance(0.2);
      return decodeCommand((s16 || (ctx.scp === 3 && rng.chance(0.7)) ? scp03 : scp02).buildInitializeUpdate(rng.pick([0, 0, 0x30, 0x20, 0xff, rng.byte()]), rng.bytes(s16 ? 16 : 8)));
    }],
    [2, () => command(0x84, 0x82, rng.pick([0x00, 0x01, 0x03, 0x13, 0x33]), 0x00, rng.bytes(16))],
    [5, () => buildGetStatus({ scope: rng.pick(Object.values(GetStatusScope)), aid: rng.chance(0.7) ? new Uint8Array(0) : someAid(rng).slice(0, rng.range(1, 5)), next: rng.chance(0.2), format: rng.chance(0.85) ? 'tlv' : 'legacy', ...(rng.chance(0.2) ? { tagList: [0x4f, 0x9f70, 0xc5] } : {}) })],
    [5, () => buildGetData(rng.chance(0.85) ? rng.pick(Object.values(GetDataTag)) : rng.range(1, 0xffff), { cla: rng.pick([0x80, 0x00]), ...(rng.chance(0.1) ? { ins: 0xcb as const, data: encodeTlv(0x5c, Uint8Array.of(0x42)) } : {}) })],
    [6, () => install(ctx)],
    [2, () => rng.pick(loadBlocks(rng))],
    [3, () => (rng.chance(0.8) ? buildDeleteCardContent(someAid(rng), { related: rng.chance(0.3) }) : buildDeleteKey({ ...(rng.chance(0.7) ? { keyId: rng.range(1, 3) } : {}), kvn: rng.pick([0x30, 0x20, 0xff, 0x01]) }))],
    [3, () => putKey(ctx)],
    [3, () => storeData(ctx)],
    [3, () => buildSetStatus(rng.chance(0.2) ? { scope: 0x80, state: rng.pick([0x0f, 0x0f, 0x07, 0x07, 0x7f, 0xff, rng.byte()]) } : { scope: rng.pick([0x40, 0x60]), state: rng.pick([0x80, 0x00, 0x0f, 0x07, rng.byte()]), aid: someAid(rng) })],
    [4, () => command(rng.chance(0.9) ? 0x80 : 0x00, rng.pick([0x10, 0x20, 0x22, 0xca]), rng.chance(0.8) ? 0 : rng.byte(), rng.chance(0.5) ? 0 : rng.byte(), rng.chance(0.5) ? rng.bytes(rng.range(1, 40)) : new Uint8Array(0), rng.chance(0.7) ? 256 : undefined)],
  ]);
  let c: CommandApdu;
  try {
    c = build();
  } catch {
    // A builder refused a random choice (host-side validation): a bare proprietary command instead.
    c = command(0x80, rng.pick([0xe6, 0xe4, 0xd8, 0xf0, 0xe2]), rng.byte(), rng.byte(), rng.bytes(rng.range(1, 40)), 256);
  }
  return { command: onChannel(c, ctx.channel), ins: c.ins };
}
