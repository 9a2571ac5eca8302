/**
 * Several commands wrapped before any response comes back (one OTA script): each response is checked with
 * its own command's MAC chaining value / R-ENC ICV (Amendment D §6.2.4–6.2.7) or stripped command (GPCS
 * E.4.5), in order. A response checked against the wrong command is rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { keysOf, openPair, scp02IFor } from './helpers.ts';

const PLAIN = ['80CA006600', '80E2900004DF010100', '80F28002024F0000', '80CA00E000'].map(fromHex);
const ANSWERS = ['6603010203', '9000', 'E30A4F08A0000001510000009F700107', '6A88'].map((h) => (h.length > 4 ? fromHex(h.slice(0, -4) + h.slice(-4)) : fromHex(h)));

function plainResponse(i: number): Uint8Array {
  // Data + 9000 for the data answers; the bare SW otherwise.
  const a = ANSWERS[i]!;
  return a.length > 2 ? Uint8Array.from([...a, 0x90, 0x00]) : a;
}

for (const [scp, i, level] of [
  [3, 0x70, 0x33],
  [3, 0x70, 0x13],
  [3, 0x70, 0x11],
  [2, scp02IFor(0x55, 0x13), 0x13],
  [2, 0x55, 0x03],
] as const) {
  test(`SCP0${scp} level ${level.toString(16)}: four commands wrapped first, responses unwrapped in order`, () => {
    const { host, card } = openPair(scp, { keys: keysOf(16), i, level });
    const wrapped = PLAIN.map((p) => host.wrapCommand(p));
    const responses = wrapped.map((w, n) => {
      assert.equal(toHex(card.unwrapCommand(w)), toHex(PLAIN[n]!));
      return card.wrapResponse(plainResponse(n));
    });
    assert.deepEqual(responses.map((r) => toHex(host.unwrapResponse(r))), PLAIN.map((_, n) => toHex(plainResponse(n))));
  });
}

test('SCP03 level 33: responses unwrapped out of order are rejected', () => {
  const { host, card } = openPair(3, { keys: keysOf(16), i: 0x70, level: 0x33 });
  const wrapped = PLAIN.slice(0, 2).map((p) => host.wrapCommand(p));
  const responses = wrapped.map((w, n) => {
    card.unwrapCommand(w);
    return card.wrapResponse(plainResponse(n));
  });
  assert.throws(() => host.unwrapResponse(responses[1]!), /R-MAC does not verify/);
});
