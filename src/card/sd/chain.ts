/**
 * ISO/IEC 7816-4 §5.1.1.1 command chaining received by a Security Domain: a long command arrives as short
 * commands with CLA b5 (0x10) set on all but the last. Inside a secure channel each piece is a command of its
 * own for the protocol (GPCS 2.3.1 §10.8; Amendment D §6.2.4; Amendment F SCP03 messaging): it carries its own
 * C-MAC (computed over its CLA with b5), is unwrapped alone — the MAC chaining value moves on with every piece
 * — and its 9000 is wrapped like any response. The SD collects the plain data and processes the whole command
 * when the last piece arrives. A piece with another INS/P1/P2, or any other command, in the middle of a chain
 * ends it: 6883 (last command of the chain expected). More than 65535 bytes: 6700.
 */
import { concat } from '../../core/bytes.ts';
import type { CommandApdu } from '../../apdu/command.ts';
import type { ChannelState } from '../channels.ts';
import { SW } from '../errors.ts';

export const CLA_CHAINING = 0x10;
export const SW_LAST_COMMAND_EXPECTED = 0x6883;
const MAX_CHAIN = 65535;

/** The piece was kept (answer 9000), the chain ended in error (answer `sw`), or the whole command is here. */
export type ChainStep = { readonly kind: 'more' } | { readonly kind: 'refused'; readonly sw: number } | { readonly kind: 'command'; readonly command: CommandApdu };

/** Feed the (plain) command `piece` received on `channel` into its chain. */
export function chainStep(channel: ChannelState, piece: CommandApdu): ChainStep {
  // b5 is the chaining bit in the first and in the further interindustry classes alike.
  const chaining = (piece.cla & CLA_CHAINING) !== 0;
  const open = channel.chain;
  if (open !== undefined && (open.ins !== piece.ins || open.p1 !== piece.p1 || open.p2 !== piece.p2)) {
    channel.chain = undefined;
    return { kind: 'refused', sw: SW_LAST_COMMAND_EXPECTED };
  }
  if (chaining) {
    if (piece.le !== undefined) {
      channel.chain = undefined;
      return { kind: 'refused', sw: SW.WRONG_LENGTH };
    }
    const chain = open ?? { ins: piece.ins, p1: piece.p1, p2: piece.p2, parts: [], length: 0 };
    chain.length += piece.data.length;
    if (chain.length > MAX_CHAIN) {
      channel.chain = undefined;
      return { kind: 'refused', sw: SW.WRONG_LENGTH };
    }
    chain.parts.push(piece.data.slice());
    channel.chain = chain;
    return { kind: 'more' };
  }
  if (open === undefined) return { kind: 'command', command: piece };
  channel.chain = undefined;
  const data = concat(...open.parts, piece.data);
  if (data.length > MAX_CHAIN) return { kind: 'refused', sw: SW.WRONG_LENGTH };
  return { kind: 'command', command: { ...piece, data } };
}
