/**
 * SCP03 authentication cryptograms (Amendment D v1.2 §6.2.2.2 card, §6.2.2.3 host):
 * KDF(S-MAC, constant 00 / 01, L = challenge length, context = host challenge ‖ card challenge).
 */
import { concat, equalConstantTime } from '../../core/bytes.ts';
import { DerivationConstant, deriveData } from './kdf.ts';

/** The KDF context of session keys and cryptograms: host challenge ‖ card challenge. */
export function handshakeContext(hostChallenge: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  if (hostChallenge.length !== cardChallenge.length || (hostChallenge.length !== 8 && hostChallenge.length !== 16)) {
    throw new RangeError(`challenges must both be 8 (S8) or 16 (S16) bytes, got ${hostChallenge.length} and ${cardChallenge.length}`);
  }
  return concat(hostChallenge, cardChallenge);
}

/** §6.2.2.2 card cryptogram (8 bytes in S8 mode, 16 in S16 mode: the length of the challenges). */
export function cardCryptogram(sMac: Uint8Array, context: Uint8Array): Uint8Array {
  return deriveData(sMac, DerivationConstant.CARD_CRYPTOGRAM, (context.length / 2) * 8, context);
}

/** §6.2.2.3 host cryptogram. */
export function hostCryptogram(sMac: Uint8Array, context: Uint8Array): Uint8Array {
  return deriveData(sMac, DerivationConstant.HOST_CRYPTOGRAM, (context.length / 2) * 8, context);
}

/** Constant-time check of a received card cryptogram. */
export function verifyCardCryptogram(sMac: Uint8Array, context: Uint8Array, received: Uint8Array): boolean {
  return equalConstantTime(cardCryptogram(sMac, context), received);
}

/** Constant-time check of a received host cryptogram. */
export function verifyHostCryptogram(sMac: Uint8Array, context: Uint8Array, received: Uint8Array): boolean {
  return equalConstantTime(hostCryptogram(sMac, context), received);
}
