/**
 * SCP02, the card's side, explicit initiation (GPCS 2.2.1 Appendix E): INITIALIZE UPDATE (E.5.1),
 * EXTERNAL AUTHENTICATE (E.5.2), then the open session (E.4.4–E.4.7) with the protocol rules of E.1.6.
 * The sequence counter is incremented only when the EXTERNAL AUTHENTICATE C-MAC verifies (E.1.2).
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
import type { StaticKeys } from '../keys.ts';
import { joinResponse, swOnly } from '../messaging.ts';
import { checkExternalAuthenticate, decodeOrNull } from '../card-checks.ts';
import { CardChannel } from '../session.ts';
import { cardCryptogram, pseudoRandomCardChallenge, verifyHostCryptogram } from './cryptogram.ts';
import { deriveSessionKeys, sequenceCounterBytes, usesOneBaseKey, type Scp02SessionKeys } from './kdf.ts';
import { isImplicitI, isSupportedI, Scp02SecureMessaging } from './wrap.ts';
import { C_MAC } from '../level.ts';
import type { CardSecureChannel } from '../channel.ts';

class Scp02Pending implements PendingExternalAuthenticate {
  readonly scp = 2 as const;
  readonly kvn: number;
  readonly i: number;
  readonly sequenceCounter: number;
  readonly hostChallenge: Uint8Array;
  readonly cardChallenge: Uint8Array;
  readonly sessionKeys: Scp02SessionKeys;
  used = false;
  constructor(kvn: number, i: number, sequenceCounter: number, hostChallenge: Uint8Array, cardChallenge: Uint8Array, sessionKeys: Scp02SessionKeys) {
    this.kvn = kvn;
    this.i = i;
    this.sequenceCounter = sequenceCounter;
    this.hostChallenge = hostChallenge;
    this.cardChallenge = cardChallenge;
    this.sessionKeys = sessionKeys;
  }
}

function refuse(sw: number, nextSequenceCounter: number): CardInitializeUpdateResult {
  return { response: swOnly(sw), pending: undefined, nextSequenceCounter, kvn: undefined };
}

/** Three 16-byte keys, or — with one Secure Channel base key ("i" b1 = 0, Table E-2) — the 16-byte base key `enc`. */
function isScp02KeySet(k: StaticKeys, i: number): boolean {
  if (usesOneBaseKey(i)) return k.enc?.length === 16;
  return k.enc?.length === 16 && k.mac?.length === 16 && k.dek?.length === 16;
}


/**
 * INITIALIZE UPDATE on the card. `ctx.i` must be an "i" this implementation runs (`isSupportedI`) — RangeError
 * otherwise (configuration mistake); an implicit-initiation "i" answers 6D00. Answers 6700 (length, host challenge not 8 bytes), 6E00 (CLA), 6D00 (INS), 6A86 (P2 not 00),
 * 6A88 (no such key version, or not three 16-byte keys), 6985 (sequence counter at its maximum 'FFFF'),
 * else Table E-8 and 9000. With "i" b7 the card challenge is the pseudo-random one of E.4.2.3 (from `ctx.aid`).
 */
export function cardInitializeUpdate(commandBytes: Uint8Array, ctx: CardHandshakeContext): CardInitializeUpdateResult {
  if (!isSupportedI(ctx.i)) throw new RangeError(`SCP02 i=${ctx.i.toString(16)} is not supported`);
  const counter = ctx.sequenceCounter;
  // An SD whose "i" names implicit initiation (b3 = 0) opens its sessions on the first C-MAC (E.1.2.2).
  if (isImplicitI(ctx.i)) return refuse(SW.INS_NOT_SUPPORTED, counter);
  const cmd = decodeOrNull(commandBytes);
  if (cmd === null) return refuse(SW.WRONG_LENGTH, counter);
  if (!((cmd.cla >= 0x80 && cmd.cla <= 0x83) || (cmd.cla >= 0xc0 && cmd.cla <= 0xcf))) return refuse(SW.CLA_NOT_SUPPORTED, counter);
  if (cmd.ins !== 0x50) return refuse(SW.INS_NOT_SUPPORTED, counter);
  if (cmd.p2 !== 0x00) return refuse(SW.INCORRECT_P1P2, counter);
  if (cmd.data.length !== 8) return refuse(SW.WRONG_LENGTH, counter);
  const found = ctx.lookupKeys(cmd.p1);
  if (found === undefined || !isScp02KeySet(found.keys, ctx.i)) return refuse(SW.REFERENCED_DATA_NOT_FOUND, counter);
  if (counter >= 0xffff) return refuse(SW.CONDITIONS_NOT_SATISFIED, counter);

  const sequence = sequenceCounterBytes(counter);
  const sessionKeys = deriveSessionKeys(found.keys, sequence, ctx.i);
  const cardChallenge = ctx.i & 0x40 ? pseudoRandomCardChallenge(sessionKeys.cmac, ctx.aid) : ctx.random(6);
  const hostChallenge = cmd.data.slice();
  const data = concat(
    ctx.kdd,
    Uint8Array.of(found.kvn, 0x02),
    sequence,
    cardChallenge,
    cardCryptogram(sessionKeys.enc, hostChallenge, sequence, cardChallenge),
  );
  return {
    response: joinResponse(data, SW.OK),
    pending: new Scp02Pending(found.kvn, ctx.i, counter, hostChallenge, cardChallenge, sessionKeys),
    nextSequenceCounter: counter,
    kvn: found.kvn,
  };
}

function authFail(sw: number): CardExternalAuthenticateResult {
  return { response: swOnly(sw), channel: undefined, nextSequenceCounter: undefined };
}

/**
 * EXTERNAL AUTHENTICATE on the card. Answers 6700 (length), 6E00 (CLA without the GP proprietary bit),
 * 6D00 (INS), 6982 (no secure messaging indication or bad C-MAC),
 * 6A86 (P2 not 00, or a P1 Table E-11 does not allow; R-MAC levels need "i" b6), 6985 (pending state already
 * used), else 9000 with the open channel and `nextSequenceCounter` = counter + 1.
 * 6300 when the C-MAC verifies but the host cryptogram does not (Table E-12).
 */
export function cardExternalAuthenticate(pending: PendingExternalAuthenticate, protectedCommandBytes: Uint8Array): CardExternalAuthenticateResult {
  if (!(pending instanceof Scp02Pending)) throw new TypeError('cardExternalAuthenticate: pending state is not from SCP02 cardInitializeUpdate');
  const cmd = checkExternalAuthenticate(pending, protectedCommandBytes, 2, 16);
  if (typeof cmd === 'number') return authFail(cmd);
  const messaging = new Scp02SecureMessaging({ sessionKeys: pending.sessionKeys, i: pending.i, level: cmd.p1 });
  const macOk = messaging.verifyExternalAuthenticate(cmd);
  const cryptogramOk = verifyHostCryptogram(
    pending.sessionKeys.enc,
    pending.hostChallenge,
    sequenceCounterBytes(pending.sequenceCounter),
    pending.cardChallenge,
    cmd.data.subarray(0, 8),
  );
  if (!macOk || !cryptogramOk) {
    messaging.wipe();
    // A bad C-MAC is a secure messaging failure (6982); a correct MAC over a wrong host cryptogram
    // is "authentication of host cryptogram failed" (6300).
    return authFail(macOk ? SW.AUTHENTICATION_FAILED : SW.SECURITY_NOT_SATISFIED);
  }
  return {
    response: swOnly(SW.OK),
    channel: new CardChannel(2, pending.kvn, cmd.p1, messaging),
    nextSequenceCounter: pending.sequenceCounter + 1,
  };
}

/** Outcome of an implicit initiation attempt (E.1.2.2). */
export type CardImplicitOpenResult =
  | { readonly ok: true; readonly channel: CardSecureChannel; readonly plain: Uint8Array; readonly kvn: number; readonly nextSequenceCounter: number }
  | { readonly ok: false; readonly sw: number };

/**
 * Implicit Secure Channel initiation on the card (GPCS 2.2.1 E.1.2.2, E.3.3, E.4.3): the first command with a
 * C-MAC opens the session. The C-MAC session key comes from the default key set (`lookupKeys(0)`) and the
 * current sequence counter; the first ICV is the MAC over the selected application's AID (`ctx.aid`). On a
 * verified C-MAC the session is open at C-MAC level (E.1.5) and the counter is incremented (E.1.2);
 * otherwise 6982 and nothing changes. 6A88 without a usable key set, 6985 at the maximum counter.
 */
export function cardImplicitOpen(protectedCommand: Uint8Array, ctx: CardHandshakeContext): CardImplicitOpenResult {
  if (!isSupportedI(ctx.i) || !isImplicitI(ctx.i)) throw new RangeError(`SCP02 i=${ctx.i.toString(16)} is not an implicit initiation option`);
  const found = ctx.lookupKeys(0);
  if (found === undefined || !isScp02KeySet(found.keys, ctx.i)) return { ok: false, sw: SW.REFERENCED_DATA_NOT_FOUND };
  if (ctx.sequenceCounter >= 0xffff) return { ok: false, sw: SW.CONDITIONS_NOT_SATISFIED };
  const sessionKeys = deriveSessionKeys(found.keys, sequenceCounterBytes(ctx.sequenceCounter), ctx.i);
  const channel = new CardChannel(2, found.kvn, C_MAC, new Scp02SecureMessaging({ sessionKeys, i: ctx.i, level: C_MAC, aid: ctx.aid }));
  try {
    const plain = channel.unwrapCommand(protectedCommand);
    return { ok: true, channel, plain, kvn: found.kvn, nextSequenceCounter: ctx.sequenceCounter + 1 };
  } catch {
    return { ok: false, sw: SW.SECURITY_NOT_SATISFIED };
  }
}
