import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aesCmac, aesCbcEncrypt, aesCbcDecrypt, aesEcbEncrypt } from '../../src/crypto/aes.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';

// RFC 4493 §4 test vectors (AES-128 CMAC).
const K = fromHex('2b7e151628aed2a6abf7158809cf4f3c');
const M = fromHex(
  '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
);
test('AES-CMAC RFC 4493 example 1: empty message', () => {
  assert.equal(toHex(aesCmac(K, new Uint8Array(0))), 'BB1D6929E95937287FA37D129B756746');
});
test('AES-CMAC RFC 4493 example 2: 16 bytes', () => {
  assert.equal(toHex(aesCmac(K, M.subarray(0, 16))), '070A16B46B4D4144F79BDD9DD04A287C');
});
test('AES-CMAC RFC 4493 example 3: 40 bytes', () => {
  assert.equal(toHex(aesCmac(K, M.subarray(0, 40))), 'DFA66747DE9AE63030CA32611497C827');
});
test('AES-CMAC RFC 4493 example 4: 64 bytes', () => {
  assert.equal(toHex(aesCmac(K, M)), '51F0BEBF7E3B9D92FC49741779363CFE');
});
test('AES-128 ECB FIPS-197 appendix C.1', () => {
  const key = fromHex('000102030405060708090a0b0c0d0e0f');
  assert.equal(toHex(aesEcbEncrypt(key, fromHex('00112233445566778899aabbccddeeff'))), '69C4E0D86A7B0430D8CDB78070B4C55A');
});
test('AES CBC round trip and length check', () => {
  const key = fromHex('000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f');
  const iv = fromHex('0f0e0d0c0b0a09080706050403020100');
  const data = M.subarray(0, 48);
  assert.deepEqual(aesCbcDecrypt(key, aesCbcEncrypt(key, data, iv), iv), data);
  assert.throws(() => aesCbcEncrypt(key, new Uint8Array(15)), RangeError);
  assert.throws(() => aesCbcEncrypt(new Uint8Array(15), new Uint8Array(16)), RangeError);
});
