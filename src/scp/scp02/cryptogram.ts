/**
 * SCP02 authentication cryptograms (GPCS 2.2.1 Appendix E.4.2): full triple-DES MAC (B.1.2.1, ISO 9797-1
 * MAC algorithm 1) with the S-ENC session key and a zero ICV over method-2 padded data —
 * card: host challenge ‖ sequence counter ‖ card challenge (E.4.2.1);
 * host: sequence counter ‖ card challenge ‖ host challenge (E.4.2.2).
 * Pseudo-random card challenge (E.4.2.3, "i" b7): the six leftmost bytes of the retail MAC
 * (B.1.2.2) of the padded AID under the C-MAC session key, zero ICV.
 */
import { assertBytes, concat, equalConstantTime } from '../../core/bytes.ts';
import { fullTripleDesMac, retailMac } from '../../crypto/des.ts';

function check(hostChallenge: Uint8Array, sequenceCounter: Uint8Array, cardChallenge: Uint8Array): void {
  assertBytes(hostChallenge, 8, 'hostChallenge');
  assertBytes(sequenceCounter, 2, 'sequenceCounter');
  assertBytes(cardChallenge, 6, 'cardChallenge');
}

export function cardCryptogram(sEnc: Uint8Array, hostChallenge: Uint8Array, sequenceCounter: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  check(hostChallenge, sequenceCounter, cardChallenge);
  return fullTripleDesMac(sEnc, concat(hostChallenge, sequenceCounter, cardChallenge));
}

export function hostCryptogram(sEnc: Uint8Array, hostChallenge: Uint8Array, sequenceCounter: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  check(hostChallenge, sequenceCounter, cardChallenge);
  return fullTripleDesMac(sEnc, concat(sequenceCounter, cardChallenge, hostChallenge));
}

export function verifyCardCryptogram(
  sEnc: Uint8Array,
  hostChallenge: Uint8Array,
  sequenceCounter: Uint8Array,
  cardChallenge: Uint8Array,
  received: Uint8Array,
): boolean {
  return equalConstantTime(cardCryptogram(sEnc, hostChallenge, sequenceCounter, cardChallenge), received);
}

export function verifyHostCryptogram(
  sEnc: Uint8Array,
  hostChallenge: Uint8Array,
  sequenceCounter: Uint8Array,
  cardChallenge: Uint8Array,
  received: Uint8Array,
): boolean {
  return equalConstantTime(hostCryptogram(sEnc, hostChallenge, sequenceCounter, cardChallenge), received);
}

/** E.4.2.3 pseudo-random card challenge from the C-MAC session key and the AID. */
export function pseudoRandomCardChallenge(cmacSessionKey: Uint8Array, aid: Uint8Array): Uint8Array {
  assertBytes(aid, { min: 5, max: 16 }, 'aid');
  return retailMac(cmacSessionKey, aid).slice(0, 6);
}
