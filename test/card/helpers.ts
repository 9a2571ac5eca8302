/** Test helpers: talk to a `SimulatedCard` through the scp host side, as a GP tool would. */
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import { openSecureChannel, type HostSecureChannel } from '../../src/scp/index.ts';
import { createCard, type SimulatedCard } from '../../src/card/index.ts';
import type { CardProfileOptions } from '../../src/card/index.ts';
import {
  buildInstallForInstall,
  buildPutKey,
  encodeInstallParameters,
  encodePrivileges,
  encodeSdInstallParameters,
  kcvFor,
  type PrivilegeName,
} from '../../src/gp/index.ts';

export const KEY40 = fromHex('404142434445464748494A4B4C4D4E4F');
export const KEYS40 = { enc: KEY40, mac: KEY40, dek: KEY40 };
export const ISD = 'A000000151000000';

/** Deterministic randomness: a counter-based byte stream. */
export function counterRandom(seed = 1): (n: number) => Uint8Array {
  let x = seed;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out[i] = x >>> 24;
    }
    return out;
  };
}

export function newCard(options: CardProfileOptions = {}): SimulatedCard {
  const card = createCard({ random: counterRandom(), ...options });
  card.powerOn();
  return card;
}

/** Send raw hex, get `{ data hex, sw }`. */
export function raw(card: SimulatedCard, hex: string): { data: string; sw: number } {
  const r = decodeResponse(card.process(fromHex(hex)));
  return { data: toHex(r.data), sw: r.sw };
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

export async function open(
  card: SimulatedCard,
  level: number,
  options: { keys?: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array }; kvn?: number; scp?: 2 | 3; channel?: number; hostChallenge?: Uint8Array } = {},
): Promise<HostSecureChannel> {
  return openSecureChannel(async (apdu) => card.process(apdu), {
    keys: options.keys ?? KEYS40,
    level,
    ...(options.kvn !== undefined ? { kvn: options.kvn } : {}),
    ...(options.scp !== undefined ? { scp: options.scp } : {}),
    ...(options.channel !== undefined ? { logicalChannel: options.channel } : {}),
    hostChallenge: options.hostChallenge ?? fromHex('0102030405060708'),
  });
}

/** Send a plain command through the secure channel: `{ data hex, sw }` of the unwrapped response. */
export function sc(card: SimulatedCard, ch: HostSecureChannel, c: CommandApdu | string): { data: string; sw: number } {
  const plain = typeof c === 'string' ? fromHex(c) : encodeCommand(c);
  const r = decodeResponse(ch.unwrapResponse(card.process(ch.wrapCommand(plain))));
  return { data: toHex(r.data), sw: r.sw };
}


export const SSD_ELF = 'A0000001515350';
export const SSD_MODULE = 'A000000151535041';
export const SSD1 = 'A000000151535344534401';

/** INSTALL [for install and make selectable] of an SSD (SCP03 i=70 unless told). */
export function installSsd(aid: string, privileges: PrivilegeName[], scp?: { id: number; i: number }): CommandApdu {
  return buildInstallForInstall({
    makeSelectable: true,
    loadFileAid: fromHex(SSD_ELF),
    moduleAid: fromHex(SSD_MODULE),
    applicationAid: fromHex(aid),
    privileges: encodePrivileges(new Set(['SecurityDomain', ...privileges])),
    parameters: encodeInstallParameters({ applicationSpecific: scp ? encodeSdInstallParameters({ scp }) : new Uint8Array(0) }),
  });
}

/** PUT KEY of a full ENC/MAC/DEK set (P2 = 81), keys encrypted under the channel's DEK. */
export function putKeySet(ch: HostSecureChannel, replaceKvn: number, newKvn: number, keys: Uint8Array[], type = 0x88): CommandApdu {
  const c = buildPutKey(
    { replaceKvn: replaceKvn === 0xff ? 0 : replaceKvn, newKvn, keyId: 1, keys: keys.map((value) => ({ components: [{ type, value }], kcv: kcvFor(type, value) })) },
    (plain) => ch.encryptKeyData(plain),
  );
  return replaceKvn === 0xff ? { ...c, p1: 0xff } : c;
}
