/** ISO/IEC 7816-4 §5.6 and GPC 2.3.1 §11.1.3: status word names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SW, swName, sw1, sw2, isSuccess, isWarning } from '../../src/apdu/sw.ts';
import { ApduError, expectSuccess } from '../../src/apdu/errors.ts';
import { OpentsmError } from '../../src/core/errors.ts';

test('named constants have the spec values', () => {
  assert.equal(SW.NO_ERROR, 0x9000);
  assert.equal(SW.MORE_DATA_AVAILABLE, 0x6310);
  assert.equal(SW.WRONG_LENGTH, 0x6700);
  assert.equal(SW.SECURITY_STATUS_NOT_SATISFIED, 0x6982);
  assert.equal(SW.CONDITIONS_NOT_SATISFIED, 0x6985);
  assert.equal(SW.WRONG_DATA, 0x6a80);
  assert.equal(SW.FILE_NOT_FOUND, 0x6a82);
  assert.equal(SW.INCORRECT_P1P2, 0x6a86);
  assert.equal(SW.REFERENCED_DATA_NOT_FOUND, 0x6a88);
  assert.equal(SW.INS_NOT_SUPPORTED, 0x6d00);
  assert.equal(SW.CLA_NOT_SUPPORTED, 0x6e00);
  assert.equal(SW.ALGORITHM_NOT_SUPPORTED, 0x9484);
  assert.equal(SW.INVALID_KEY_CHECK_VALUE, 0x9485);
  assert.ok(Object.isFrozen(SW));
});

test('every named constant has a name of its own', () => {
  for (const [key, value] of Object.entries(SW)) {
    const name = swName(value);
    assert.match(name, /^[0-9A-F]{4} /, key);
    assert.ok(!name.endsWith('unknown status'), `${key} has no name`);
  }
});

test('swName', () => {
  assert.equal(swName(0x6a82), '6A82 file or application not found');
  assert.equal(swName(0x9000), '9000 success');
  assert.equal(swName(0x6110), '6110 16 response bytes still available');
  assert.equal(swName(0x6100), '6100 256 response bytes still available');
  assert.equal(swName(0x6c08), '6C08 wrong Le, 8 bytes available');
  assert.equal(swName(0x63c2), '63C2 verification failed, 2 tries left');
  assert.equal(swName(0x6a8b), '6A8B wrong parameters P1-P2');
  assert.equal(swName(0x9123), '9123 unknown status');
  assert.equal(swName(0x0000), '0000 unknown status');
  assert.throws(() => swName(0x10000), RangeError);
});

test('sw1, sw2, isSuccess, isWarning', () => {
  assert.equal(sw1(0x6a82), 0x6a);
  assert.equal(sw2(0x6a82), 0x82);
  assert.ok(isSuccess(0x9000));
  assert.ok(!isSuccess(0x6310));
  assert.ok(isWarning(0x6283));
  assert.ok(isWarning(0x6310));
  assert.ok(!isWarning(0x6a82));
});

test('expectSuccess returns the response or throws ApduError with sw and ins', () => {
  const ok = { data: Uint8Array.of(1), sw: 0x9000 };
  assert.equal(expectSuccess(ok, 0xa4), ok);
  const more = { data: new Uint8Array(0), sw: 0x6310 };
  assert.equal(expectSuccess(more, 0xf2, [0x9000, 0x6310]), more);
  assert.throws(
    () => expectSuccess({ data: new Uint8Array(0), sw: 0x6982 }, 0xe6),
    (e: unknown) =>
      e instanceof ApduError &&
      e instanceof OpentsmError &&
      e.code === 'STATUS' &&
      e.sw === 0x6982 &&
      e.ins === 0xe6 &&
      e.name === 'ApduError' &&
      e.message === 'card answered 6982 security status not satisfied (INS E6)',
  );
});
