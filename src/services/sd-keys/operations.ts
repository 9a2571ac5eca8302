/**
 * What the issuer and provider platforms do with a security domain's keys, over any CardChannel
 * (OTA, terminal, PC/SC): open the SD, probe which key set it holds, deliver an initial key set through
 * the ISD, replace a key set. Each operation is one card exchange sequence; the flows that call them
 * record their step before each one and reconcile with `probeKeySet` after a cut (docs/architecture.md §5).
 */
import type { CardChannel } from '../../apdu/channel.ts';
import { ApduError } from '../../apdu/errors.ts';
import { concat } from '../../core/bytes.ts';
import { encodeTlv } from '../../core/tlv.ts';
import { beginPersonalization, putKeySet, storeData } from '../../gp/client.ts';
import { encodeDgi } from '../../gp/store-data.ts';
import { KeyType } from '../../gp/keys.ts';
import { SecureSession, type SessionObserver } from '../../scp/secure-session.ts';
import { SecureChannelError } from '../../scp/errors.ts';
import type { SdKeySet } from './key-set.ts';
import { kcvFor } from '../../gp/kcv.ts';

/** C-MAC + C-DECRYPTION + R-MAC: key material never crosses in clear, responses are authenticated. */
export const DEFAULT_LEVEL_SCP03 = 0x33;
export const DEFAULT_LEVEL_SCP02 = 0x03;

export function defaultLevel(scp: 2 | 3): number {
  return scp === 3 ? DEFAULT_LEVEL_SCP03 : DEFAULT_LEVEL_SCP02;
}

/**
 * SELECT the SD and open a secure channel with `set`. SELECT travels with INITIALIZE UPDATE, and
 * EXTERNAL AUTHENTICATE with the session's first commands (one script each over OTA or a terminal).
 */
export async function openSd(
  channel: CardChannel,
  sdAid: Uint8Array,
  set: SdKeySet,
  options: { readonly observer?: SessionObserver; readonly deferAuthentication?: boolean } = {},
): Promise<SecureSession> {
  return SecureSession.open(channel, {
    sdAid,
    keys: { enc: set.enc, mac: set.mac, dek: set.dek },
    kvn: set.kvn,
    scp: set.scp,
    level: defaultLevel(set.scp),
    deferAuthentication: options.deferAuthentication ?? true,
    ...(options.observer ? { observer: options.observer } : {}),
  });
}

export type ProbeResult = 'match' | 'absent' | 'mismatch' | 'no-sd';

/**
 * Ask the card whether the SD holds `set`: SELECT (6A82 → 'no-sd'), INITIALIZE UPDATE for its key version
 * (6A88 → 'absent'), the card cryptogram checked with its keys ('mismatch' when it does not verify,
 * 'match' when it does — only a card holding the keys can compute it). No EXTERNAL AUTHENTICATE is sent;
 * nothing on the card changes but sequence counters.
 */
export async function probeKeySet(channel: CardChannel, sdAid: Uint8Array, set: SdKeySet): Promise<ProbeResult> {
  try {
    const s = await openSd(channel, sdAid, set);
    await s.close();
    return 'match';
  } catch (e) {
    if (e instanceof SecureChannelError) {
      if (e.code === 'BAD_CARD_CRYPTOGRAM') return 'mismatch';
      if (e.code === 'BAD_STATUS' && e.sw === 0x6a88) return 'absent';
      if (e.code === 'BAD_STATUS' && e.sw === 0x6300) return 'mismatch';
    }
    if (e instanceof ApduError && e.sw === 0x6a82) return 'no-sd';
    throw e;
  }
}

/** The first of `candidates` the SD holds, or undefined. */
export async function findKeySet(channel: CardChannel, sdAid: Uint8Array, candidates: readonly SdKeySet[]): Promise<SdKeySet | undefined> {
  for (const c of candidates) if ((await probeKeySet(channel, sdAid, c)) === 'match') return c;
  return undefined;
}

/**
 * Key usage qualifiers of the SCP key set (GPCS 2.3.1 Table 11-17): Key-ENC secure messaging in command +
 * confidentiality ('18'), Key-MAC secure messaging in command + cryptographic checksum ('14'),
 * Key-DEK computation + confidentiality ('48').
 */
const KEY_USAGE = [0x18, 0x14, 0x48] as const;

/** DGI '00B9' key CRTs + one DGI '8113' per key (GPCS 2.3.1 §11.11.4.1), values encrypted by `encrypt`. */
export function keyLoadingDgis(set: SdKeySet, encrypt: (key: Uint8Array) => Uint8Array): Uint8Array {
  const type = set.scp === 3 ? KeyType.AES : KeyType.DES;
  const keys = [set.enc, set.mac, set.dek];
  const crts = keys.map((k, n) =>
    encodeTlv(
      0xb9,
      concat(
        encodeTlv(0x80, Uint8Array.of(type)),
        encodeTlv(0x81, Uint8Array.of(k.length)),
        encodeTlv(0x82, Uint8Array.of(n + 1)),
        encodeTlv(0x83, Uint8Array.of(set.kvn)),
        encodeTlv(0x84, kcvFor(type, k)),
        encodeTlv(0x95, Uint8Array.of(KEY_USAGE[n]!)),
      ),
    ),
  );
  return concat(encodeDgi(0x00b9, concat(...crts)), ...keys.map((k) => encodeDgi(0x8113, encrypt(k))));
}

/**
 * Deliver `set` as the initial key set of the SD `sdAid` through an open ISD session: INSTALL [for
 * personalization] of the SD, then STORE DATA (DGI, encrypted under the ISD session DEK).
 */
export async function deliverInitialKeys(isd: SecureSession, sdAid: Uint8Array, set: SdKeySet): Promise<void> {
  await beginPersonalization(isd, sdAid);
  await storeData(isd, keyLoadingDgis(set, (k) => isd.channel.encryptSensitiveData(k)), { format: 'dgi', encryption: 'encrypted' });
}

/**
 * Replace key set `current` with `next` in the SD (PUT KEY, P1 = current KVN; KCVs in the card's answer
 * checked). Opens its own session with `current`.
 */
export async function replaceKeySet(channel: CardChannel, sdAid: Uint8Array, current: SdKeySet, next: SdKeySet): Promise<void> {
  if (current.scp !== next.scp) throw new RangeError('a key set replacement keeps the protocol');
  const session = await openSd(channel, sdAid, current);
  try {
    await putKeySet(
      session,
      { replaceKvn: current.kvn, newKvn: next.kvn, keys: { type: next.scp === 3 ? 'aes' : 'des', enc: next.enc, mac: next.mac, dek: next.dek } },
      (k) => session.encryptKeyData(k),
    );
  } finally {
    await session.close();
  }
}
