/**
 * The fuzzer can fail: deliberately broken cards (wrappers around the simulator) are caught by the oracle,
 * with a history that reproduces the finding; and the oracle's "malformed" rules fire exactly on the encodings
 * the specifications make invalid (ISO/IEC 7816-3 §12.1, 7816-4 §5.4.1/§7.1.1/§7.6.1/§11.1.2, GPCS 2.3.1 §11).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand } from '../../src/apdu/command.ts';
import { fromHex } from '../../src/core/bytes.ts';
import { fuzzCard, reproduceFinding, simulatorTarget, type FindingKind, type FuzzTarget, type TargetFactory } from '../../scripts/fuzz/card.ts';
import { isProcessed, lvOverrun, malformedReason, putKeyOverrun, tlvOverrun } from '../../scripts/fuzz/oracle.ts';

/** A simulator whose answers (and state) a `tamper` function may change. */
function broken(tamper: {
  process?: (bytes: Uint8Array, inner: (b: Uint8Array) => Uint8Array) => Uint8Array;
  serialize?: (json: string) => string;
}): TargetFactory {
  return (setup, json) => {
    const inner = simulatorTarget(setup, json);
    const target: FuzzTarget = {
      powerOn: () => inner.powerOn(),
      reset: () => inner.reset(),
      powerOff: () => inner.powerOff(),
      process: (b) => (tamper.process ? tamper.process(b, (x) => inner.process(x)) : inner.process(b)),
      serialize: () => (tamper.serialize ? tamper.serialize(inner.serialize()) : inner.serialize()),
    };
    return target;
  };
}

function sw(r: Uint8Array): number {
  return (r[r.length - 2]! << 8) | r[r.length - 1]!;
}

function caught(factory: TargetFactory, kind: FindingKind): void {
  const result = fuzzCard({ cases: 1500, seed: 7, target: factory });
  const f = result.failures.find((x) => x.kind === kind);
  assert.ok(f, `expected a '${kind}' finding; got ${JSON.stringify(result.failures.map((x) => x.kind))}`);
  assert.equal(f.seed, 7);
  assert.equal(f.history.at(-1), f.command);
  if (f.response !== undefined) assert.equal(reproduceFinding(f, factory).response, f.response);
}

test('oracle catches a card that answers 9000 to a command with a wrong Lc (ISO/IEC 7816-3 §12.1)', () => {
  caught(
    broken({
      process: (b, inner) => {
        try {
          decodeCommand(b);
        } catch {
          return fromHex('9000');
        }
        return inner(b);
      },
    }),
    'malformed-accepted',
  );
});

test('oracle catches a card that changes its persistent state on a failed command', () => {
  let failedOnce = false;
  caught(
    broken({
      process: (b, inner) => {
        const r = inner(b);
        if (sw(r) === 0x6a88) failedOnce = true; // "remembers" something when it refuses
        return r;
      },
      serialize: (json) => (failedOnce ? json.replace('"iccid":"98', '"iccid":"99') : json),
    }),
    'state-changed-on-failure',
  );
});

test('oracle catches a card that throws', () => {
  caught(
    broken({
      process: (b, inner) => {
        if (b.length === 7) throw new TypeError('boom');
        return inner(b);
      },
    }),
    'crash',
  );
});

test("oracle catches a caught crash: '6F00' is the simulator's answer to an untyped exception", () => {
  caught(broken({ process: (b, inner) => (b.length === 9 ? fromHex('6F00') : inner(b)) }), 'internal-error');
});

test('oracle catches a response without a status word', () => {
  caught(broken({ process: (b, inner) => (b.length === 0 ? Uint8Array.of(0x90) : inner(b)) }), 'short-response');
});

test("oracle catches an SW1 outside '6X'/'9X'", () => {
  caught(broken({ process: (b, inner) => (b.length === 3 ? fromHex('6000') : inner(b)) }), 'invalid-sw');
});

test('oracle catches INSTALL accepted outside a secure channel, and a command on a closed channel', () => {
  caught(
    broken({ process: (b, inner) => (b.length > 4 && b[1] === 0xe6 && (b[0]! & 0x8c) === 0x80 ? fromHex('009000') : inner(b)) }),
    'refusal-expected',
  );
  caught(broken({ process: (b, inner) => (b.length >= 4 && (b[0]! & 0x83) === 0x03 ? fromHex('9000') : inner(b)) }), 'refusal-expected');
});

test('oracle catches a card that skips the C-MAC check (corrupted wrapped commands accepted)', () => {
  // Answers 9000 to any secure-messaging command whose last byte was changed: a card that never checks MACs.
  const factory = broken({
    process: (b, inner) => {
      const r = inner(b);
      if ((b[0]! & 0x0c) === 0x04 && b[1] !== 0x82 && sw(r) === 0x6982) return fromHex('9000');
      return r;
    },
  });
  const result = fuzzCard({ cases: 3000, seed: 11, target: factory });
  assert.ok(result.failures.some((f) => f.kind === 'refusal-expected' && f.generator === 'corrupted-wrap'), JSON.stringify(result.failures.map((f) => [f.kind, f.generator])));
});

test('oracle catches a committed state that cannot be loaded again', () => {
  caught(broken({ serialize: (json) => (json.includes('"48":2') || json.includes('"32":2') ? json.replace('"kdd":"', '"kdd":"ZZ') : json) }), 'invalid-state');
});

test('malformed: length coding, class, MANAGE CHANNEL, GET RESPONSE, SELECT (ISO/IEC 7816-3/-4)', () => {
  const bad = [
    '', '00', '00A404', '00A4040005A000', '00A404000000', '00A404000005A0000001', '00A40400000002A0', 'FFCA006600',
    '20CA006600', '3FCA006600', '0070000001' + '', '007000000101', '0070400001', '00700014', '00C0000100', '00C000000100',
    '00A4040011' + '00'.repeat(17),
  ];
  // '0070000001' is MANAGE CHANNEL open with Le=01: legal, so it must not be flagged.
  for (const h of bad) {
    const reason = malformedReason(fromHex(h));
    if (h === '0070000001') assert.equal(reason, undefined, h);
    else assert.ok(reason, `expected ${h} to be malformed`);
  }
});

test('malformed: GP data structures (DELETE/GET STATUS BER-TLV, INSTALL fields, PUT KEY, handshake lengths)', () => {
  const bad = [
    '80F28002024F01', // 4F declares 1 byte, none left — but Lc=2 then data '4F01'
    '80F28002034F0500',
    '80E40000054F08A0000001',
    '80E6020005070102030400',
    '80D8000107308810' + '11'.repeat(15),
    '80D800010530881001',
    '805000000401020304',
    '8482000008' + '00'.repeat(8),
    '80F0400003A00000',
    '80F28002044F005C0300', // a tag list whose length runs past the data: not BER-TLV
  ];
  for (const h of bad) assert.ok(malformedReason(fromHex(h)), `expected ${h} to be malformed`);
  const good = [
    '80F28002024F0000',
    '80F22002074F005C034F9F7000',
    '80E400800A4F08A000000151535041' + '00',
    '80E40000034F000000', // padding after an object is allowed (ISO/IEC 7816-4 §5.2.2.1)
    '80E602000F0A' + 'F0465500000000000000' + '00000000' + '00',
    '80E2800003C10100',
    '80500000080102030405060708' + '00',
    '8482010010' + '00'.repeat(16),
    '80F0800F',
    '80F0400F05A000000151',
    '84D8000112308810' + '11'.repeat(15) + '00', // protected bytes: structure judged on the plaintext only
    '04700000' + '08' + '00'.repeat(8), // ISO secure messaging: the data field holds SM objects
    '80D8308146' + '01' + ('88' + '11' + '10' + '11'.repeat(16) + '03' + 'AABBCC').repeat(3),
  ];
  for (const h of good) assert.equal(malformedReason(fromHex(h)), undefined, h);
  assert.equal(tlvOverrun(fromHex('5F2003616263')), undefined);
  assert.match(tlvOverrun(fromHex('5F20'))!, /runs past/);
  assert.match(lvOverrun(fromHex('0201')) ?? '', /declares 2/);
  assert.equal(lvOverrun(fromHex('81')), undefined); // long lengths are not judged
  assert.match(putKeyOverrun(fromHex('30881001')) ?? '', /declares 16/);
  assert.equal(putKeyOverrun(fromHex('30FF8810')), undefined); // extended format is not judged
});

test('processed status words: 9000, 61xx, 62xx, 63xx; everything else is a refusal', () => {
  for (const s of [0x9000, 0x6100, 0x6110, 0x6283, 0x6310]) assert.equal(isProcessed(s), true, s.toString(16));
  for (const s of [0x6700, 0x6c04, 0x6982, 0x6a80, 0x6f00, 0x9001]) assert.equal(isProcessed(s), false, s.toString(16));
});
