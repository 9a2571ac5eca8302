/** ANSI X9.63 KDF (src/crypto/x963.ts) against NIST CAVP ansx963_2001 SHA-256 vectors (x963-vectors.json). */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { x963Kdf } from '../../src/crypto/index.ts';

const vectors = JSON.parse(readFileSync(new URL('./x963-vectors.json', import.meta.url), 'utf8')) as {
  source: string;
  x963: { z: string; sharedInfo: string; length: number; keyData: string }[];
};

describe('X9.63 KDF (NIST CAVP ansx963_2001 SHA-256 vectors)', () => {
  for (const [n, v] of vectors.x963.entries()) {
    test(`vector ${n}`, () => {
      assert.equal(toHex(x963Kdf(fromHex(v.z), fromHex(v.sharedInfo), v.length)), v.keyData.toUpperCase());
    });
  }
  test('a prefix of the output is the shorter output; bad lengths throw RangeError', () => {
    const v = vectors.x963[2]!;
    assert.equal(toHex(x963Kdf(fromHex(v.z), fromHex(v.sharedInfo), 40)), v.keyData.slice(0, 80).toUpperCase());
    assert.throws(() => x963Kdf(fromHex(v.z), new Uint8Array(0), -1), RangeError);
    assert.throws(() => x963Kdf(fromHex(v.z), new Uint8Array(0), 0x10000), RangeError);
    assert.throws(() => x963Kdf(fromHex(v.z), new Uint8Array(0), 1.5), RangeError);
  });
});
