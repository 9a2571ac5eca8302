/**
 * Transparent handling of the two "try again" statuses of ISO/IEC 7816-4 §5.6 and ISO/IEC 7816-3 §12.2:
 * - 61xx: xx more response bytes are available, fetched with GET RESPONSE (INS C0, §11.1.5),
 *   issued on the logical channel of the original command, repeated and concatenated;
 * - 6Cxx: wrong Le, the same command is sent again with Le = xx.
 */
import { concat } from '../core/bytes.ts';
import type { CardChannel } from './channel.ts';
import { decodeCommand, encodeCommand } from './command.ts';
import { ApduError } from './errors.ts';
import { channelFromCla, claForChannel } from './logical-channel.ts';

export interface GetResponseOptions {
  /** Class byte for GET RESPONSE before the logical channel of the original command is applied; default 00. */
  readonly cla?: number;
  /** Maximum number of GET RESPONSE commands for one command; default 256 (64 KiB of data). */
  readonly maxRounds?: number;
}

/** INS of GET RESPONSE. */
export const INS_GET_RESPONSE = 0xc0;

function statusOf(r: Uint8Array): [number, number] {
  if (r.length < 2) return [-1, -1];
  return [r[r.length - 2]!, r[r.length - 1]!];
}

/** The same command with Le = `le`; undefined when the command cannot be parsed. */
function withLe(command: Uint8Array, le: number): Uint8Array | undefined {
  try {
    const c = decodeCommand(command);
    return encodeCommand({ ...c, le });
  } catch {
    return undefined;
  }
}

function originalChannel(cla: number): number {
  try {
    return channelFromCla(cla);
  } catch {
    return 0;
  }
}

/** A channel that resolves 61xx and 6Cxx before returning the response. */
export function withGetResponse(channel: CardChannel, options: GetResponseOptions = {}): CardChannel {
  const baseCla = options.cla ?? 0x00;
  const maxRounds = options.maxRounds ?? 256;
  if (!Number.isInteger(maxRounds) || maxRounds < 0) throw new RangeError(`maxRounds: ${maxRounds}`);

  /** Send once; on 6Cxx send again with the corrected Le (once). */
  async function send(command: Uint8Array): Promise<Uint8Array> {
    const r = await channel.transmit(command);
    const [s1, s2] = statusOf(r);
    if (s1 !== 0x6c) return r;
    const retry = withLe(command, s2 === 0 ? 256 : s2);
    return retry === undefined ? r : channel.transmit(retry);
  }

  const wrapped: CardChannel = {
    async transmit(command: Uint8Array): Promise<Uint8Array> {
      let r = await send(command);
      let [s1, s2] = statusOf(r);
      if (s1 !== 0x61) return r;
      const cla = claForChannel(baseCla, command.length > 0 ? originalChannel(command[0]!) : 0);
      const parts: Uint8Array[] = [];
      let rounds = 0;
      while (s1 === 0x61) {
        if (rounds >= maxRounds) throw new ApduError('GET_RESPONSE_LIMIT', (s1 << 8) | s2, command[1], `more than ${maxRounds} GET RESPONSE rounds`);
        rounds++;
        parts.push(r.subarray(0, r.length - 2));
        r = await send(Uint8Array.of(cla, INS_GET_RESPONSE, 0x00, 0x00, s2));
        [s1, s2] = statusOf(r);
      }
      parts.push(r);
      return concat(...parts);
    },
  };
  if (channel.close !== undefined) wrapped.close = () => channel.close!();
  return wrapped;
}
