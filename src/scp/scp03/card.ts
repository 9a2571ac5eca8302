/**
 * SCP03, the card's side (Amendment D v1.2): INITIALIZE UPDATE (§7.1.1), EXTERNAL AUTHENTICATE (§7.1.2),
 * then the open session (§6.2.4–§6.2.8) with the protocol rules of §5.6 (a security error aborts the
 * session; later commands are refused with 6982 until a new INITIALIZE UPDATE).
 * Sans-IO: bytes in, bytes out; key lookup, sequence counter, randomness and AID come from the caller.
 */
import { concat } from '../../core/bytes.ts';
import type {
  CardExternalAuthenticateResult,
  CardHandshakeContext,
  CardInitializeUpdateResult,
  PendingExternalAuthenticate,
} from '../channel.ts';
import { SW } from '../errors.ts';
import { CardChannel } from '../session.ts';
import type { StaticKeys } from '../keys.ts';
import { joinResponse, swOnly } from '../messaging.ts';
import { checkExternalAuthenticate, decodeOrNull } from '../card-checks.ts';
import { cardCryptogram, handshakeContext, verifyHostCryptogram } from './cryptogram.ts';
import { deriveSessionKeys, pseudoRandomCardChallenge, sequenceCounterBytes, type Scp03SessionKeys } from './kdf.ts';
import { Scp03SecureMessaging } from './wrap.ts';

/** State between INITIALIZE UPDATE and EXTERNAL AUTHENTICATE; single use. */
class Scp03Pending implements PendingExternalAuthenticate {
  readonly scp = 3 as const;
  readonly kvn: number;
  readonly i: number;
  readonly s16: boolean;
  readonly context: Uint8Array;
  readonly sessionKeys: Scp03SessionKeys;
  readonly dek: Uint8Array;
  used = false;
  constructor(kvn: number, i: number, context: Uint8Array, sessionKeys: Scp03SessionKeys, dek: Uint8Array) {
    this.kvn = kvn;
    this.i = i;
    this.s16 = (i & 0x01) !== 0;
    this.context = context;
    this.sessionKeys = sessionKeys;
    this.dek = dek.slice();
  }
}

function refuse(sw: number, nextSequenceCounter: number): CardInitializeUpdateResult {
  return { response: swOnly(sw), pending: undefined, nextSequenceCounter, kvn: undefined };
}

function isScp03KeySet(k: StaticKeys): boolean {
  const n = k.enc?.length;
  return (n === 16 || n === 24 || n === 32) && k.mac?.length === n && k.dek?.length === n;
}


/**
 * INITIALIZE UPDATE on the card. Answers 6700 (bad length or host challenge length not matching S8/S16),
 * 6E00 (CLA), 6D00 (INS), 6A86 (P2 not 00), 6A88 (no such key version or incomplete key set),
 * 6985 (sequence counter exhausted, pseudo-random mode), else the Table 7-3 response and 9000.
 */
export function cardInitializeUpdate(commandBytes: Uint8Array, ctx: CardHandshakeContext): CardInitializeUpdateResult {
  const counter = ctx.sequenceCounter;
  const cmd = decodeOrNull(commandBytes);
  if (cmd === null) return refuse(SW.WRONG_LENGTH, counter);
  if (!((cmd.cla >= 0x80 && cmd.cla <= 0x83) || (cmd.cla >= 0xc0 && cmd.cla <= 0xcf))) return refuse(SW.CLA_NOT_SUPPORTED, counter);
  if (cmd.ins !== 0x50) return refuse(SW.INS_NOT_SUPPORTED, counter);
  if (cmd.p2 !== 0x00) return refuse(SW.INCORRECT_P1P2, counter);
  const s16 = (ctx.i & 0x01) !== 0;
  if (cmd.data.length !== (s16 ? 16 : 8)) return refuse(SW.WRONG_LENGTH, counter);
  const found = ctx.lookupKeys(cmd.p1);
  if (found === undefined || !isScp03KeySet(found.keys)) return refuse(SW.REFERENCED_DATA_NOT_FOUND, counter);

  let cardChallenge: Uint8Array;
  let sequence: Uint8Array | undefined;
  let next = counter;
  if (ctx.i & 0x10) {
    // §6.2.2.1: increment, then use the new value; at the maximum, "conditions of use not satisfied".
    if (counter >= 0xffffff) return refuse(SW.CONDITIONS_NOT_SATISFIED, counter);
    next = counter + 1;
    sequence = sequenceCounterBytes(next);
    cardChallenge = pseudoRandomCardChallenge(found.keys.enc, sequence, ctx.aid, s16);
  } else {
    cardChallenge = ctx.random(s16 ? 16 : 8);
  }
  const context = handshakeContext(cmd.data, cardChallenge);
  const sessionKeys = deriveSessionKeys(found.keys, context);
  const data = concat(
    ctx.kdd,
    Uint8Array.of(found.kvn, 0x03, ctx.i),
    cardChallenge,
    cardCryptogram(sessionKeys.sMac, context),
    sequence ?? new Uint8Array(0),
  );
  return {
    response: joinResponse(data, SW.OK),
    pending: new Scp03Pending(found.kvn, ctx.i, context, sessionKeys, found.keys.dek),
    nextSequenceCounter: next,
    kvn: found.kvn,
  };
}

function authFail(sw: number): CardExternalAuthenticateResult {
  return { response: swOnly(sw), channel: undefined, nextSequenceCounter: undefined };
}

/**
 * EXTERNAL AUTHENTICATE on the card. Answers 6700 (length), 6E00 (CLA without the GP proprietary bit),
 * 6D00 (INS), 6982 (no secure messaging indication or bad C-MAC),
 * 6A86 (P2 not 00, or a P1 security level Table 7-6 does not allow or "i" does not support),
 * 6985 (the pending state was already used), else 9000 with the open channel.
 * 6300 when the C-MAC verifies but the host cryptogram does not (Table 7-7).
 */
export function cardExternalAuthenticate(pending: PendingExternalAuthenticate, protectedCommandBytes: Uint8Array): CardExternalAuthenticateResult {
  if (!(pending instanceof Scp03Pending)) throw new TypeError('cardExternalAuthenticate: pending state is not from SCP03 cardInitializeUpdate');
  const n = pending.s16 ? 16 : 8;
  const cmd = checkExternalAuthenticate(pending, protectedCommandBytes, 3, 2 * n);
  if (typeof cmd === 'number') return authFail(cmd);
  const messaging = new Scp03SecureMessaging({ sessionKeys: pending.sessionKeys, dek: pending.dek, s16: pending.s16, level: cmd.p1 });
  const macOk = messaging.verifyExternalAuthenticate(cmd);
  const cryptogramOk = verifyHostCryptogram(pending.sessionKeys.sMac, pending.context, cmd.data.subarray(0, n));
  if (!macOk || !cryptogramOk) {
    messaging.wipe();
    // A bad C-MAC is a secure messaging failure (6982); a correct MAC over a wrong host cryptogram
    // is "authentication of host cryptogram failed" (6300).
    return authFail(macOk ? SW.AUTHENTICATION_FAILED : SW.SECURITY_NOT_SATISFIED);
  }
  return { response: swOnly(SW.OK), channel: new CardChannel(3, pending.kvn, cmd.p1, messaging), nextSequenceCounter: undefined };
}
