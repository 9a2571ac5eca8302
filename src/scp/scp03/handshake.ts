/**
 * SCP03 explicit secure channel initiation, host side, sans-IO (Amendment D v1.2 §5.2, §6.2.1–§6.2.3,
 * §7.1.1 INITIALIZE UPDATE, §7.1.2 EXTERNAL AUTHENTICATE).
 *
 *   const iu = buildInitializeUpdate(kvn, hostChallenge)          // → card
 *   const parsed = parseInitializeUpdateResponse(responseData)     // ← card (data field, SW checked by caller)
 *   const session = beginHostSession(keys, hostChallenge, parsed)  // throws BAD_CARD_CRYPTOGRAM
 *   const ea = buildExternalAuthenticate(session, level)          // → card: ea.command
 *   const channel = createHostChannel(session, ea)                 // once the card answered 9000
 */
import { assertBytes, assertInt, equalConstantTime } from '../../core/bytes.ts';
import { encodeCommand } from '../../apdu/command.ts';
import type { HostSecureChannel, ParsedInitializeUpdateResponse } from '../channel.ts';
import { SecureChannelError } from '../errors.ts';
import { assertScp03Keys, type StaticKeys } from '../keys.ts';
import { assertSecurityLevel } from '../level.ts';
import { claForChannel } from '../messaging.ts';
import { cardCryptogram, handshakeContext, hostCryptogram } from './cryptogram.ts';
import { deriveSessionKeys, type Scp03SessionKeys } from './kdf.ts';
import { HostChannel } from '../session.ts';
import { Scp03SecureMessaging } from './wrap.ts';

export const INS_INITIALIZE_UPDATE = 0x50;
export const INS_EXTERNAL_AUTHENTICATE = 0x82;

/** §7.1.1.2: CLA 80 (or the logical channel's), INS 50, P1 = kvn, P2 = 00, host challenge (8 or 16 bytes), Le 00. */
export function buildInitializeUpdate(kvn: number, hostChallenge: Uint8Array, logicalChannel = 0): Uint8Array {
  assertInt(kvn, 0, 0xff, 'kvn');
  assertBytes(hostChallenge, [8, 16], 'hostChallenge');
  return encodeCommand({ cla: claForChannel(true, logicalChannel), ins: INS_INITIALIZE_UPDATE, p1: kvn, p2: 0, data: hostChallenge, le: 256 });
}

/**
 * §7.1.1.6 Table 7-3: KDD (10) ‖ key information (kvn, '03', i) ‖ card challenge (8/16) ‖ card cryptogram
 * (8/16) ‖ sequence counter (3, only with pseudo-random challenges). Takes the data field (no SW).
 */
export function parseInitializeUpdateResponse(data: Uint8Array): ParsedInitializeUpdateResponse {
  assertBytes(data, undefined, 'data');
  if (data.length < 13) throw new SecureChannelError('BAD_RESPONSE', `INITIALIZE UPDATE response too short (${data.length} bytes)`);
  if (data[11] !== 0x03) {
    throw new SecureChannelError('BAD_RESPONSE', `INITIALIZE UPDATE response names SCP ${data[11]!.toString(16)}, not 03`);
  }
  const i = data[12]!;
  const n = i & 0x01 ? 16 : 8;
  const pseudoRandom = (i & 0x10) !== 0;
  const expected = 13 + 2 * n + (pseudoRandom ? 3 : 0);
  if (data.length !== expected) {
    throw new SecureChannelError('BAD_RESPONSE', `INITIALIZE UPDATE response for i=${i.toString(16)} must be ${expected} bytes, got ${data.length}`);
  }
  return Object.freeze({
    scp: 3 as const,
    kdd: data.slice(0, 10),
    kvn: data[10]!,
    i,
    cardChallenge: data.slice(13, 13 + n),
    cardCryptogram: data.slice(13 + n, 13 + 2 * n),
    sequenceCounter: pseudoRandom ? data.slice(13 + 2 * n, 16 + 2 * n) : undefined,
  });
}

/** Host state between the INITIALIZE UPDATE response and EXTERNAL AUTHENTICATE. */
export interface Scp03HostSession {
  readonly keys: StaticKeys;
  readonly iu: ParsedInitializeUpdateResponse;
  readonly hostChallenge: Uint8Array;
  readonly s16: boolean;
  /** host challenge ‖ card challenge */
  readonly context: Uint8Array;
  readonly sessionKeys: Scp03SessionKeys;
}

/** Derive the session keys (§6.2.1) and verify the card cryptogram (§6.2.2.2) in constant time. */
export function beginHostSession(keys: StaticKeys, hostChallenge: Uint8Array, iu: ParsedInitializeUpdateResponse): Scp03HostSession {
  assertScp03Keys(keys);
  if (iu.scp !== 3 || iu.i === undefined) throw new TypeError('beginHostSession: not an SCP03 INITIALIZE UPDATE response');
  if (hostChallenge.length !== iu.cardChallenge.length) {
    throw new SecureChannelError(
      'BAD_RESPONSE',
      `card answered ${iu.i & 1 ? 'S16' : 'S8'} mode to a ${hostChallenge.length}-byte host challenge`,
    );
  }
  const context = handshakeContext(hostChallenge, iu.cardChallenge);
  const sessionKeys = deriveSessionKeys(keys, context);
  const session: Scp03HostSession = Object.freeze({
    keys,
    iu,
    hostChallenge: hostChallenge.slice(),
    s16: hostChallenge.length === 16,
    context,
    sessionKeys,
  });
  if (!verifyCardCryptogram(session)) {
    throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', 'card cryptogram does not verify: wrong keys, or not the expected card');
  }
  return session;
}

/** §6.2.2.2, constant time. */
export function verifyCardCryptogram(session: Scp03HostSession): boolean {
  return equalConstantTime(cardCryptogram(session.sessionKeys.sMac, session.context), session.iu.cardCryptogram);
}

/** §6.2.2.3 host cryptogram. */
export function computeHostCryptogram(session: Scp03HostSession): Uint8Array {
  return hostCryptogram(session.sessionKeys.sMac, session.context);
}

/** The EXTERNAL AUTHENTICATE command and the messaging state it starts (its C-MAC is the first chaining value). */
export interface Scp03ExternalAuthenticate {
  readonly command: Uint8Array;
  readonly level: number;
  /** @internal state carried to `createHostChannel`. */
  readonly messaging: Scp03SecureMessaging;
}

/** §7.1.2: CLA 84, INS 82, P1 = security level, P2 = 00, host cryptogram ‖ C-MAC. */
export function buildExternalAuthenticate(session: Scp03HostSession, level: number, logicalChannel = 0): Scp03ExternalAuthenticate {
  assertSecurityLevel(3, level);
  const messaging = new Scp03SecureMessaging({ sessionKeys: session.sessionKeys, dek: session.keys.dek, s16: session.s16, level });
  const command = messaging.externalAuthenticate(claForChannel(true, logicalChannel), computeHostCryptogram(session));
  return Object.freeze({ command, level, messaging });
}

/** The open channel, to use once the card answered 9000 to `ea.command`. */
export function createHostChannel(session: Scp03HostSession, ea: Scp03ExternalAuthenticate): HostSecureChannel {
  return new HostChannel(3, session.iu.kvn, session.iu.i!, ea.level, ea.messaging);
}
