/**
 * BER-TLV (src/core/tlv.ts, ISO/IEC 8825-1 §8.1 as profiled by ISO/IEC 7816-4 §5.2 and GPCS Annex F): a table of
 * hostile inputs, each refused with its exact CodecError code and the offset where parsing stopped; plus the
 * forms BER allows and the parser accepts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { CodecError } from '../../src/core/errors.ts';
import { encodeLength, encodeParsed, encodeTlv, parseTlv, parseTlvs } from '../../src/core/tlv.ts';

interface Case {
  readonly name: string;
  readonly hex: string;
  readonly code: string;
  readonly offset: number;
  /** parseTlv (one object, nothing after it) instead of parseTlvs. */
  readonly single?: boolean;
}

const nested = (depth: number): string => (depth === 0 ? '8000' : `A0${(depth * 2).toString(16).padStart(2, '0')}${nested(depth - 1)}`);

const HOSTILE: readonly Case[] = [
  { name: 'empty input to parseTlv: tag expected', hex: '', code: 'TRUNCATED', offset: 0, single: true },
  { name: 'tag byte 00', hex: '0000', code: 'BAD_TAG', offset: 0 },
  { name: 'tag byte FF', hex: 'FF00', code: 'BAD_TAG', offset: 0 },
  { name: 'tag alone, length missing', hex: '4F', code: 'TRUNCATED', offset: 1 },
  { name: 'second object: tag alone', hex: '4F01AA5A', code: 'TRUNCATED', offset: 4 },
  { name: 'multi-byte tag cut after the first byte', hex: '9F', code: 'TRUNCATED', offset: 1 },
  { name: 'multi-byte tag cut after a continuation byte', hex: '5F81', code: 'TRUNCATED', offset: 2 },
  { name: 'three-byte tag cut in the middle', hex: 'BF8181', code: 'TRUNCATED', offset: 3 },
  { name: 'multi-byte tag with leading 80 subsequent byte', hex: '1F8001', code: 'BAD_TAG', offset: 1 },
  { name: 'tag longer than 4 bytes', hex: '1F8181810100', code: 'BAD_TAG', offset: 0 },
  { name: 'multi-byte tag, length missing', hex: '9F70', code: 'TRUNCATED', offset: 2 },
  { name: 'indefinite length (80)', hex: '4F80AA0000', code: 'BAD_LENGTH', offset: 1 },
  { name: 'indefinite length on a constructed tag', hex: 'E1804F00000000', code: 'BAD_LENGTH', offset: 1 },
  { name: 'overlong length form: 5 length bytes (85)', hex: '4F850000000001AA', code: 'BAD_LENGTH', offset: 1 },
  { name: 'overlong length form: 127 length bytes (FF)', hex: '4FFF01', code: 'BAD_LENGTH', offset: 1 },
  { name: 'long length cut: 81 with no byte', hex: '4F81', code: 'TRUNCATED', offset: 2 },
  { name: 'long length cut: 82 with one byte', hex: '4F8201', code: 'TRUNCATED', offset: 2 },
  { name: 'long length cut: 84 with three bytes', hex: '4F84000000', code: 'TRUNCATED', offset: 2 },
  { name: 'short length beyond data', hex: '4F05AABBCC', code: 'TRUNCATED', offset: 2 },
  { name: 'long length beyond data (81 80)', hex: '4F8180AA', code: 'TRUNCATED', offset: 3 },
  { name: 'huge length beyond data (84 FFFFFFFF)', hex: '4F84FFFFFFFFAA', code: 'TRUNCATED', offset: 6 },
  { name: 'child runs past its parent (offset is absolute)', hex: 'E1034F05AA4F00', code: 'TRUNCATED', offset: 4 },
  { name: 'child of a constructed object cut in its tag', hex: 'E1015F', code: 'TRUNCATED', offset: 3 },
  { name: 'child of a constructed object with an indefinite length', hex: 'E1024F80', code: 'BAD_LENGTH', offset: 3 },
  { name: 'bytes after the one object', hex: '4F01AA00', code: 'TRAILING_DATA', offset: 3, single: true },
  { name: 'nesting deeper than 16', hex: nested(17), code: 'BAD_VALUE', offset: 34 },
];

describe('BER-TLV hostile inputs: exact CodecError code and offset', () => {
  for (const c of HOSTILE) {
    test(`${c.name}: ${c.hex || '(empty)'} → ${c.code} at ${c.offset}`, () => {
      const bytes = fromHex(c.hex);
      assert.throws(
        () => (c.single ? parseTlv(bytes) : parseTlvs(bytes)),
        (e: unknown) => {
          assert.ok(e instanceof CodecError, `not a CodecError: ${String(e)}`);
          assert.equal(e.code, c.code);
          assert.equal(e.offset, c.offset);
          return true;
        },
      );
    });
  }
});

describe('BER-TLV forms that are accepted', () => {
  test('non-minimal long length forms are BER (X.690 §8.1.3.2 b) and parse to the same object', () => {
    for (const hex of ['4F01AA', '4F8101AA', '4F820001AA', '4F83000001AA', '4F8400000001AA']) {
      const t = parseTlv(fromHex(hex));
      assert.equal(t.tag, 0x4f);
      assert.equal(toHex(t.value), 'AA');
      assert.equal(toHex(encodeParsed(t)), '4F01AA'); // re-encoded minimally
    }
  });
  test('multi-byte tags up to 4 bytes; nesting of 16 levels', () => {
    assert.equal(parseTlv(fromHex('9F7000')).tag, 0x9f70);
    assert.equal(parseTlv(fromHex('DF81810100')).tag, 0xdf818101);
    assert.equal(parseTlvs(fromHex(nested(16))).length, 1);
  });
  test('empty input to parseTlvs is an empty list; zero-length values', () => {
    assert.deepEqual(parseTlvs(new Uint8Array(0)), []);
    assert.equal(parseTlv(fromHex('E100')).children?.length, 0);
  });
  test('length encoding boundaries', () => {
    assert.equal(toHex(encodeLength(0x7f)), '7F');
    assert.equal(toHex(encodeLength(0x80)), '8180');
    assert.equal(toHex(encodeLength(0x100)), '820100');
    assert.equal(toHex(encodeLength(0x10000)), '83010000');
    assert.throws(() => encodeLength(0x1000000), RangeError);
    assert.equal(toHex(encodeTlv(0x4f, new Uint8Array(0x80)).subarray(0, 3)), '4F8180');
  });
});
