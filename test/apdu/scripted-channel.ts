/** A fake CardChannel that asserts the exact APDUs it receives and plays back scripted answers. */
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import type { CardChannel } from '../../src/apdu/channel.ts';

export interface ScriptedChannel extends CardChannel {
  readonly sent: string[];
  /** Assert every scripted exchange happened. */
  done(): void;
  closed: boolean;
}

/** `script` is a list of [expected C-APDU hex, R-APDU hex]. */
export function scriptedChannel(script: ReadonlyArray<readonly [string, string]>): ScriptedChannel {
  let i = 0;
  const sent: string[] = [];
  const ch: ScriptedChannel = {
    sent,
    closed: false,
    async transmit(command: Uint8Array): Promise<Uint8Array> {
      const got = toHex(command);
      sent.push(got);
      assert.ok(i < script.length, `unexpected extra command ${got}`);
      const [expected, answer] = script[i++]!;
      assert.equal(got, expected.replace(/\s/g, '').toUpperCase(), `command #${i}`);
      return fromHex(answer);
    },
    done() {
      assert.equal(i, script.length, `only ${i} of ${script.length} scripted commands were sent`);
    },
    async close() {
      ch.closed = true;
    },
  };
  return ch;
}
