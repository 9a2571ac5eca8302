import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desEcbEncrypt, retailMac, fullTripleDesMac, desCbcEncrypt } from '../../src/crypto/des.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';

test('single DES via 3DES with equal keys: FIPS 81 / classic vector', () => {
  // Key 0123456789ABCDEF, plaintext "Now is t" -> 3FA40E8A984D4815 (FIPS 81 ECB example).
  assert.equal(toHex(desEcbEncrypt(fromHex('0123456789ABCDEF'), fromHex('4E6F772069732074'))), '3FA40E8A984D4815');
});
test('3DES KCV of the GP default key 40..4F is 8BAF47', () => {
  assert.equal(toHex(desEcbEncrypt(fromHex('404142434445464748494A4B4C4D4E4F'), new Uint8Array(8))).slice(0, 6), '8BAF47');
});
test('retail MAC equals single-DES CBC then 3DES on the last block', () => {
  const key = fromHex('0123456789ABCDEFFEDCBA9876543210');
  const data = fromHex('00112233445566778899');
  const padded = fromHex('00112233445566778899800000000000');
  const cbc = desCbcEncrypt(key.subarray(0, 8), padded.subarray(0, 8));
  const last = desEcbEncrypt(key, Uint8Array.from(padded.subarray(8).map((b, i) => b ^ cbc[i]!)));
  assert.equal(toHex(retailMac(key, data)), toHex(last));
  assert.equal(toHex(fullTripleDesMac(key, data)), toHex(desCbcEncrypt(key, padded).subarray(8)));
});
