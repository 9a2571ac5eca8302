/** Security levels: GPCS 2.2.1 Table E-11 (SCP02), Amendment D v1.2 Table 7-6 (SCP03), "i" Tables E-1 / 5-1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSecurityLevel, isLevelSupportedByI, isValidSecurityLevel, maxShortCommandData } from '../../src/scp/level.ts';

test('Table E-11: SCP02 allows 00 01 03 10 11 13 and nothing else', () => {
  const allowed = Array.from({ length: 256 }, (_, l) => l).filter((l) => isValidSecurityLevel(2, l));
  assert.deepEqual(allowed, [0x00, 0x01, 0x03, 0x10, 0x11, 0x13]);
});

test('Table 7-6: SCP03 allows 00 01 03 11 13 33 and nothing else', () => {
  const allowed = Array.from({ length: 256 }, (_, l) => l).filter((l) => isValidSecurityLevel(3, l));
  assert.deepEqual(allowed, [0x00, 0x01, 0x03, 0x11, 0x13, 0x33]);
});

test('Table E-1 b6 / Table 5-1 b6 b7: R-MAC and R-ENCRYPTION need support in "i"', () => {
  assert.equal(isLevelSupportedByI(2, 0x13, 0x55), false);
  assert.equal(isLevelSupportedByI(2, 0x13, 0x75), true);
  assert.equal(isLevelSupportedByI(2, 0x03, 0x15), true);
  assert.equal(isLevelSupportedByI(3, 0x11, 0x00), false);
  assert.equal(isLevelSupportedByI(3, 0x13, 0x20), true);
  assert.equal(isLevelSupportedByI(3, 0x33, 0x20), false);
  assert.equal(isLevelSupportedByI(3, 0x33, 0x60), true);
});

test('assertSecurityLevel throws RangeError for a level the protocol does not define', () => {
  assert.equal(assertSecurityLevel(3, 0x33), 0x33);
  assert.throws(() => assertSecurityLevel(3, 0x10), RangeError);
  assert.throws(() => assertSecurityLevel(2, 0x33), RangeError);
  assert.throws(() => assertSecurityLevel(2, 1.5), RangeError);
});

test('maximum short command data per level (C-MAC 8/16 bytes, padding at least one byte)', () => {
  assert.equal(maxShortCommandData(2, 0x00), 255);
  assert.equal(maxShortCommandData(2, 0x10), 255);
  assert.equal(maxShortCommandData(3, 0x01, true), 239);
  assert.equal(maxShortCommandData(3, 0x13, false), 239);
});
