/**
 * Command chaining, ISO/IEC 7816-4 §5.1.1.1: a command whose data does not fit one short APDU is
 * sent as a chain of short commands; every command but the last has CLA b5 (0x10) set and no Le.
 * Plus `transmitCommand`, which encodes, chains when needed, transmits and decodes.
 */
import type { CardChannel } from './channel.ts';
import { encodeCommand, type CommandApdu } from './command.ts';
import { CLA_CHAINING } from './logical-channel.ts';
import { SW } from './sw.ts';
import { decodeResponse, type ResponseApdu } from './response.ts';

/** Largest data field of a short command. */
export const SHORT_MAX_NC = 255;
/** Largest Ne of a short command (Le = 00). */
export const SHORT_MAX_NE = 256;

/**
 * Split `cmd` into a chain of short commands of at most `maxBlock` data bytes each.
 * A command that fits one short APDU is returned alone, unchanged. Le goes on the last block only;
 * an Ne above 256 becomes Le = 00 (256), the rest is fetched with GET RESPONSE (see `withGetResponse`).
 */
export function splitChained(cmd: CommandApdu, maxBlock: number = SHORT_MAX_NC): CommandApdu[] {
  if (!Number.isInteger(maxBlock) || maxBlock < 1 || maxBlock > SHORT_MAX_NC) throw new RangeError(`maxBlock: ${maxBlock} not in 1..255`);
  if ((cmd.cla & CLA_CHAINING) !== 0) throw new RangeError('cla already has the chaining bit set');
  const le = cmd.le === undefined ? undefined : Math.min(cmd.le, SHORT_MAX_NE);
  const last = (data: Uint8Array): CommandApdu => ({ cla: cmd.cla, ins: cmd.ins, p1: cmd.p1, p2: cmd.p2, data, ...(le === undefined ? {} : { le }) });
  if (cmd.data.length <= maxBlock) return [last(cmd.data)];
  const out: CommandApdu[] = [];
  let o = 0;
  while (cmd.data.length - o > maxBlock) {
    out.push({ cla: cmd.cla | CLA_CHAINING, ins: cmd.ins, p1: cmd.p1, p2: cmd.p2, data: cmd.data.subarray(o, o + maxBlock) });
    o += maxBlock;
  }
  out.push(last(cmd.data.subarray(o)));
  return out;
}

export interface TransmitOptions {
  /**
   * The card accepts extended-length APDUs (ATR/EF.ATR says so): long commands go out as one
   * extended APDU. Default false: long commands are chained, Ne > 256 becomes Le = 00.
   */
  readonly extendedLength?: boolean;
  /** Data bytes per chained block; default 255. */
  readonly maxBlock?: number;
}

/**
 * Encode, transmit and decode one command, chaining it when it does not fit a short APDU.
 * A chain stops at the first block the card does not answer with 9000, and that answer is returned.
 * Throws `CodecError` when the card's answer is shorter than SW1 SW2.
 */
export async function transmitCommand(channel: CardChannel, cmd: CommandApdu, options: TransmitOptions = {}): Promise<ResponseApdu> {
  const fitsShort = cmd.data.length <= SHORT_MAX_NC && (cmd.le === undefined || cmd.le <= SHORT_MAX_NE);
  if (cmd.extended === true || fitsShort || options.extendedLength === true) {
    return decodeResponse(await channel.transmit(encodeCommand(cmd)));
  }
  const blocks = splitChained(cmd, options.maxBlock);
  let resp: ResponseApdu | undefined;
  for (let i = 0; i < blocks.length; i++) {
    resp = decodeResponse(await channel.transmit(encodeCommand(blocks[i]!)));
    if (i < blocks.length - 1 && resp.sw !== SW.NO_ERROR) return resp;
  }
  return resp!;
}
