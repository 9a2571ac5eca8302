/** A tiny CardPort for transport tests: fixed ATR, SELECT answered 9000, a call log. */
import type { CardPort } from '../../src/transport/card-port.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';

export const FAKE_ATR = fromHex('3B8A80010031C173C8400000900090');

export interface FakeCard extends CardPort {
  readonly calls: string[];
}

/** SELECT (INS A4) -> 9000; GET DATA 9F7F -> 4 bytes + 9000; INS 0xEE throws; anything else -> 6D00. */
export function fakeCard(): FakeCard {
  const calls: string[] = [];
  return {
    calls,
    powerOn() {
      calls.push('powerOn');
      return FAKE_ATR.slice();
    },
    reset() {
      calls.push('reset');
      return FAKE_ATR.slice();
    },
    powerOff() {
      calls.push('powerOff');
    },
    process(command: Uint8Array) {
      calls.push(`process ${toHex(command)}`);
      if (command[1] === 0xa4) return fromHex('9000');
      if (command[1] === 0xca && command[2] === 0x9f && command[3] === 0x7f) return fromHex('010203049000');
      if (command[1] === 0xee) throw new Error('card bug');
      return fromHex('6D00');
    },
  };
}
