/**
 * SCP02 explicit secure channel initiation, host side, sans-IO (GPCS 2.2.1 Appendix E.1.2.1, E.4.1–E.4.2,
 * E.5.1 INITIALIZE UPDATE, E.5.2 EXTERNAL AUTHENTICATE).
 *
 *   const iu = buildInitializeUpdate(kvn, hostChallenge)             // → card
 *   const parsed = parseInitializeUpdateResponse(responseData)        // ← card (data field, SW checked by caller)
 *   const session = beginHostSession(keys, hostChallenge, parsed, i)  // throws BAD_CARD_CRYPTOGRAM
 *   const ea = buildExternalAuthenticate(session, level)             // → card: ea.command
 *   const channel = createHostChannel(session, ea)                    // once the card answered 9000
 *
 * SCP02 cards do not send "i" in the response: the host passes the card's "i" (default '55'; '15' and '55'
 * behave the same on the host side: C-MAC on modified APDU with ICV encryption).
 */
import { assertBytes, assertInt, equalConstantTime } from '../../core/bytes.ts';
import { encodeCommand } from '../../apdu/command.ts';
import type { HostSecureChannel, ParsedInitializeUpdateResponse } from '../channel.ts';
import { SecureChannelError } from '../errors.ts';
import { assertScp02Keys, type StaticKeys } from '../keys.ts';
import { assertSecurityLevel } from '../level.ts';
import { claForChannel } from '../messaging.ts';
import { cardCryptogram, hostCryptogram } from './cryptogram.ts';
import { deriveSessionKeys, type Scp02SessionKeys } from './kdf.ts';
import { HostChannel } from '../session.ts';
import { isImplicitI, isSupportedI, Scp02SecureMessaging } from './wrap.ts';
import { sequenceCounterBytes } from './kdf.ts';
import { C_MAC } from '../level.ts';

export const INS_INITIALIZE_UPDATE = 0x50;
export const INS_EXTERNAL_AUTHENTICATE = 0x82;
/** The "i" assumed when the caller does not say (E.1.1: explicit, 3 keys, ICV encryption, pseudo-random challenge). */
export const DEFAULT_I = 0x55;

/** E.5.1.2: CLA 80 (or the logical channel's), INS 50, P1 = kvn, P2 = 00, 8-byte host challenge, Le 00. */
export function buildInitializeUpdate(kvn: number, hostChallenge: Uint8Array, logicalChannel = 0): Uint8Array {
  assertInt(kvn, 0, 0xff, 'kvn');
  assertBytes(hostChallenge, 8, 'hostChallenge');
  return encodeCommand({ cla: claForChannel(true, logicalChannel), ins: INS_INITIALIZE_UPDATE, p1: kvn, p2: 0, data: hostChallenge, le: 256 });
}

/** E.5.1.6 Table E-8: KDD (10) ‖ kvn ‖ '02' ‖ sequence counter (2) ‖ card challenge (6) ‖ card cryptogram (8). */
export function parseInitializeUpdateResponse(data: Uint8Array): ParsedInitializeUpdateResponse {
  assertBytes(data, undefined, 'data');
  if (data.length !== 28) throw new SecureChannelError('BAD_RESPONSE', `SCP02 INITIALIZE UPDATE response must be 28 bytes, got ${data.length}`);
  if (data[11] !== 0x02) {
    throw new SecureChannelError('BAD_RESPONSE', `INITIALIZE UPDATE response names SCP ${data[11]!.toString(16)}, not 02`);
  }
  return Object.freeze({
    scp: 2 as const,
    kdd: data.slice(0, 10),
    kvn: data[10]!,
    i: undefined,
    sequenceCounter: data.slice(12, 14),
    cardChallenge: data.slice(14, 20),
    cardCryptogram: data.slice(20, 28),
  });
}

/** Host state between the INITIALIZE UPDATE response and EXTERNAL AUTHENTICATE. */
export interface Scp02HostSession {
  readonly keys: StaticKeys;
  readonly iu: ParsedInitializeUpdateResponse;
  readonly hostChallenge: Uint8Array;
  readonly i: number;
  readonly sessionKeys: Scp02SessionKeys;
}

/** Derive the session keys from the card's sequence counter (E.4.1) and verify the card cryptogram (E.4.2.1). */
export function beginHostSession(
  keys: StaticKeys,
  hostChallenge: Uint8Array,
  iu: ParsedInitializeUpdateResponse,
  i: number = DEFAULT_I,
): Scp02HostSession {
  if (i & 0x01) assertScp02Keys(keys);
  else assertBytes(keys.enc, 16, 'keys.enc');
  assertBytes(hostChallenge, 8, 'hostChallenge');
  if (iu.scp !== 2 || iu.sequenceCounter === undefined) throw new TypeError('beginHostSession: not an SCP02 INITIALIZE UPDATE response');
  if (!isSupportedI(i)) throw new SecureChannelError('UNSUPPORTED', `SCP02 i=${i.toString(16)} is not supported`);
  if (isImplicitI(i)) throw new SecureChannelError('UNSUPPORTED', `SCP02 i=${i.toString(16)} names implicit initiation: use openImplicitChannel`);
  const session: Scp02HostSession = Object.freeze({
    keys,
    iu,
    hostChallenge: hostChallenge.slice(),
    i,
    sessionKeys: deriveSessionKeys(keys, iu.sequenceCounter, i),
  });
  if (!verifyCardCryptogram(session)) {
    throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', 'card cryptogram does not verify: wrong keys, or not the expected card');
  }
  return session;
}

/** E.4.2.1, constant time. */
export function verifyCardCryptogram(session: Scp02HostSession): boolean {
  const { sessionKeys, hostChallenge, iu } = session;
  return equalConstantTime(cardCryptogram(sessionKeys.enc, hostChallenge, iu.sequenceCounter!, iu.cardChallenge), iu.cardCryptogram);
}

/** E.4.2.2 host cryptogram. */
export function computeHostCryptogram(session: Scp02HostSession): Uint8Array {
  const { sessionKeys, hostChallenge, iu } = session;
  return hostCryptogram(sessionKeys.enc, hostChallenge, iu.sequenceCounter!, iu.cardChallenge);
}

export interface Scp02ExternalAuthenticate {
  readonly command: Uint8Array;
  readonly level: number;
  /** @internal state carried to `createHostChannel`. */
  readonly messaging: Scp02SecureMessaging;
}

/** E.5.2: CLA 84, INS 82, P1 = security level (Table E-11), P2 = 00, host cryptogram ‖ C-MAC (zero ICV). */
export function buildExternalAuthenticate(session: Scp02HostSession, level: number, logicalChannel = 0): Scp02ExternalAuthenticate {
  assertSecurityLevel(2, level);
  const messaging = new Scp02SecureMessaging({ sessionKeys: session.sessionKeys, i: session.i, level });
  const command = messaging.externalAuthenticate(claForChannel(true, logicalChannel), computeHostCryptogram(session));
  return Object.freeze({ command, level, messaging });
}

/** The open channel, to use once the card answered 9000 to `ea.command`. */
export function createHostChannel(session: Scp02HostSession, ea: Scp02ExternalAuthenticate): HostSecureChannel {
  return new HostChannel(2, session.iu.kvn, session.i, ea.level, ea.messaging);
}

export interface Scp02ImplicitOptions {
  /** Key version number of the card's default key set (for the channel's record; not sent). */
  readonly kvn: number;
  /** The card's current sequence counter of that key set (GET DATA 'C1', GPCS 11.3.3.1). */
  readonly sequenceCounter: number;
  /** AID of the selected application (E.3.3: the first ICV is a MAC over it). */
  readonly aid: Uint8Array;
  /** An implicit-initiation "i": '0A', '0B', '1A', '1B' (Table E-1). */
  readonly i: number;
}

/**
 * Implicit Secure Channel initiation, host side (GPCS 2.2.1 E.1.2.2): no handshake — the session keys come from
 * the static key(s) and the card's sequence counter, and the first wrapped command's C-MAC (on the unmodified
 * APDU, first ICV = MAC over the AID) authenticates the host. Level C-MAC only (E.1.5).
 */
export function openImplicitChannel(keys: StaticKeys, o: Scp02ImplicitOptions): HostSecureChannel {
  assertInt(o.kvn, 0, 0xff, 'kvn');
  assertInt(o.sequenceCounter, 0, 0xfffe, 'sequenceCounter');
  assertBytes(o.aid, { min: 5, max: 16 }, 'aid');
  if (!isSupportedI(o.i) || !isImplicitI(o.i)) throw new SecureChannelError('UNSUPPORTED', `SCP02 i=${o.i.toString(16)} is not an implicit initiation option`);
  assertBytes(keys.enc, 16, 'keys.enc');
  if (o.i & 0x01) assertScp02Keys(keys);
  const sessionKeys = deriveSessionKeys(keys, sequenceCounterBytes(o.sequenceCounter), o.i);
  return new HostChannel(2, o.kvn, o.i, C_MAC, new Scp02SecureMessaging({ sessionKeys, i: o.i, level: C_MAC, aid: o.aid }));
}
