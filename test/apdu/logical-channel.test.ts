/** ISO/IEC 7816-4 §5.4.1 Tables 2–3; GPC 2.3.1 §11.1.4 Tables 11-11 and 11-12. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodecError } from '../../src/core/errors.ts';
import { channelFromCla, claForChannel, hasSecureMessaging, isFurtherInterindustry } from '../../src/apdu/logical-channel.ts';

test('first interindustry: channels 0–3 in b2b1', () => {
  assert.equal(claForChannel(0x00, 0), 0x00);
  assert.equal(claForChannel(0x00, 3), 0x03);
  assert.equal(claForChannel(0x80, 1), 0x81);
  assert.equal(claForChannel(0x84, 2), 0x86); // GP SM b3 kept
  assert.equal(claForChannel(0x0c, 1), 0x0d); // ISO SM header authenticated kept
  assert.equal(claForChannel(0x10, 2), 0x12); // chaining kept
  assert.equal(claForChannel(0x83, 0), 0x80);
});

test('further interindustry: channels 4–19 in b4..b1 with b7 set', () => {
  assert.equal(claForChannel(0x00, 4), 0x40);
  assert.equal(claForChannel(0x00, 19), 0x4f);
  assert.equal(claForChannel(0x80, 4), 0xc0);
  assert.equal(claForChannel(0x80, 19), 0xcf);
  assert.equal(claForChannel(0x84, 5), 0xe1); // GP SM -> b6
  assert.equal(claForChannel(0x0c, 4), 0x60);
  assert.equal(claForChannel(0x10, 4), 0x50);
  assert.equal(claForChannel(0x94, 7), 0xf3); // GP, chaining, SM
});

test('moving back from the further layout', () => {
  assert.equal(claForChannel(0xe1, 1), 0x85); // GP SM -> b4b3 = 01
  assert.equal(claForChannel(0x60, 0), 0x08); // ISO SM -> b4b3 = 10
  assert.equal(claForChannel(0xc5, 2), 0x82);
  assert.equal(claForChannel(0x5f, 3), 0x13);
});

test('channelFromCla', () => {
  assert.equal(channelFromCla(0x00), 0);
  assert.equal(channelFromCla(0x03), 3);
  assert.equal(channelFromCla(0x87), 3);
  assert.equal(channelFromCla(0x40), 4);
  assert.equal(channelFromCla(0xef), 19);
  assert.equal(channelFromCla(0xc1), 5);
  assert.equal(channelFromCla(0xa0), 0); // GSM 11.11 class, proprietary
  for (const rfu of [0x20, 0x3f, 0xff]) {
    assert.throws(() => channelFromCla(rfu), (e: unknown) => e instanceof CodecError && e.code === 'BAD_VALUE');
  }
  assert.throws(() => channelFromCla(256), RangeError);
});

test('caller mistakes throw RangeError', () => {
  assert.throws(() => claForChannel(0x00, 20), RangeError);
  assert.throws(() => claForChannel(0x00, -1), RangeError);
  assert.throws(() => claForChannel(0x20, 0), RangeError);
  assert.throws(() => claForChannel(0xff, 0), RangeError);
  assert.throws(() => claForChannel(0x94, 19), RangeError);
});

test('property: channelFromCla(claForChannel(cla, n)) = n, keeping proprietary, chaining and SM', () => {
  const cla = fc.integer({ min: 0, max: 0xfe }).filter((c) => (c & 0xe0) !== 0x20);
  fc.assert(
    fc.property(cla, fc.integer({ min: 0, max: 19 }), (c, n) => {
      if (n === 19 && (c & 0x90) === 0x90 && hasSecureMessaging(c)) {
        assert.throws(() => claForChannel(c, n), RangeError); // would be FF
        return;
      }
      const out = claForChannel(c, n);
      assert.equal(channelFromCla(out), n);
      assert.equal(out & 0x80, c & 0x80);
      assert.equal(out & 0x10, c & 0x10);
      assert.equal(hasSecureMessaging(out), hasSecureMessaging(c));
      assert.equal(isFurtherInterindustry(out), n >= 4);
    }),
  );
});
