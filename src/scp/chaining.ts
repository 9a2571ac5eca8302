/**
 * Long commands over short APDUs inside a secure channel, host side: ISO/IEC 7816-4 §5.1.1.1 command chaining
 * (CLA b5) where every piece is wrapped as a command of its own (GPCS 2.3.1 §10.8; Amendment D §6.2.4 — the
 * C-MAC of each piece covers its CLA with b5 and chains on from the previous piece's MAC). The card answers
 * each non-final piece with a (wrapped) 9000 and the whole command with the last one.
 */
import { decodeCommand, encodeCommand } from '../apdu/command.ts';
import { splitChained } from '../apdu/chaining.ts';
import { decodeResponse } from '../apdu/response.ts';
import type { HostSecureChannel } from './channel.ts';
import { SecureChannelError } from './errors.ts';
import { maxShortCommandData } from './level.ts';

/** Largest plain data of one piece so that the wrapped piece still is a short APDU at the channel's level. */
export function chainBlockSize(channel: HostSecureChannel): number {
  return maxShortCommandData(channel.scp === 3 ? 3 : 2, channel.level);
}

/** The plain pieces of `plainApdu` (one piece when it fits a short APDU once wrapped). */
export function chainPieces(channel: HostSecureChannel, plainApdu: Uint8Array, maxBlock = chainBlockSize(channel)): Uint8Array[] {
  return splitChained(decodeCommand(plainApdu), maxBlock).map((c) => encodeCommand(c));
}

/**
 * Wrap, send and unwrap `plainApdu` as a chain of short commands. Every piece but the last must be answered
 * 9000 (else that answer is returned: the card ended the chain); the last piece's response is the result.
 */
export async function transmitChained(
  transmit: (apdu: Uint8Array) => Promise<Uint8Array>,
  channel: HostSecureChannel,
  plainApdu: Uint8Array,
  maxBlock?: number,
): Promise<Uint8Array> {
  const pieces = chainPieces(channel, plainApdu, maxBlock);
  for (let n = 0; n < pieces.length; n++) {
    const response = channel.unwrapResponse(await transmit(channel.wrapCommand(pieces[n]!)));
    if (n === pieces.length - 1) return response;
    const sw = decodeResponse(response).sw;
    if (sw !== 0x9000) return response;
    if (response.length !== 2) throw new SecureChannelError('BAD_RESPONSE', 'data in the answer to a chained piece', sw);
  }
  throw new RangeError('unreachable');
}
