/** ISO/IEC 7816-4 §5.1: response APDU = data field ‖ SW1 SW2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { CodecError } from '../../src/core/errors.ts';
import { decodeResponse, encodeResponse, response } from '../../src/apdu/response.ts';

test('decodes data and status word', () => {
  const r = decodeResponse(fromHex('6F108408A000000151000000A5049F6501FF9000'));
  assert.equal(toHex(r.data), '6F108408A000000151000000A5049F6501FF');
  assert.equal(r.sw, 0x9000);
});

test('status word only', () => {
  const r = decodeResponse(fromHex('6A82'));
  assert.equal(r.data.length, 0);
  assert.equal(r.sw, 0x6a82);
  assert.equal(toHex(encodeResponse(r)), '6A82');
});

test('encodes data and status word', () => {
  assert.equal(toHex(encodeResponse(response(fromHex('0102'), 0x6310))), '01026310');
});

for (const hex of ['', '90']) {
  test(`rejects a ${hex.length / 2}-byte response as TRUNCATED`, () => {
    assert.throws(
      () => decodeResponse(fromHex(hex)),
      (e: unknown) => e instanceof CodecError && e.code === 'TRUNCATED' && e.offset === hex.length / 2,
    );
  });
}

test('property: decodeResponse(encodeResponse(r)) = r', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 0xffff }), (data, sw) => {
      const back = decodeResponse(encodeResponse({ data, sw }));
      assert.deepEqual(back.data, data);
      assert.equal(back.sw, sw);
    }),
  );
});
