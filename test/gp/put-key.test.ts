import { gpScpVectors } from '../vectors/index.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aesCbcDecrypt, aesCbcEncrypt, aesEcbEncrypt, desEcbDecrypt, desEcbEncrypt } from '../../src/crypto/index.ts';
import { buildPutKey, encodePutKeyResponse, kcvDes, parsePutKeyCommand, parsePutKeyResponse, type PutKeyKey } from '../../src/gp/index.ts';
import { assertApdu, assertRejects, cmd, h, toHex } from './helpers.ts';

const vectors = gpScpVectors;
const v3 = vectors.scp03_aes128_level11;
const dek3 = h(v3.keys.dek);
const aesEnc = (plain: Uint8Array) => aesCbcEncrypt(dek3, plain);
const aesDec = (enc: Uint8Array) => aesCbcDecrypt(dek3, enc);
const sessionDek2 = h(vectors.scp02.sessionKeys.dek);
const desEnc = (plain: Uint8Array) => desEcbEncrypt(sessionDek2, plain);
const desDec = (enc: Uint8Array) => desEcbDecrypt(sessionDek2, enc);

const aesKeys: PutKeyKey[] = ['enc', 'mac', 'dek'].map((k) => ({ components: [{ type: 0x88, value: h(v3.keys[k]) }] }));

test('§11.8.2 Tables 11-64..11-70 + Amendment D: AES key set, 88 11 10 <enc> 03 <KCV>', () => {
  const c = buildPutKey({ replaceKvn: 0x00, newKvn: 0x30, keyId: 0x01, keys: aesKeys }, aesEnc);
  const block = (k: string, kcv: string) => '8811' + '10' + toHex(aesEcbEncrypt(dek3, h(v3.keys[k]))) + '03' + kcv;
  assertApdu(c, '80D80081' + '46' + '30' + block('enc', v3.kcv.enc) + block('mac', v3.kcv.mac) + block('dek', v3.kcv.dek) + '00');
  const parsed = parsePutKeyCommand(c, aesDec);
  assert.equal(parsed.newKvn, 0x30);
  assert.equal(parsed.replaceKvn, 0);
  assert.equal(parsed.multiple, true);
  assert.deepEqual(parsed.keys.map((k) => [k.keyId, toHex(k.components[0]!.value), toHex(k.kcv)]), [
    [1, v3.keys.enc.toUpperCase(), v3.kcv.enc],
    [2, v3.keys.mac.toUpperCase(), v3.kcv.mac],
    [3, v3.keys.dek.toUpperCase(), v3.kcv.dek],
  ]);
});

test('§11.8.2.3.2 Table 11-71: DES key under the SCP02 session DEK, 80 10 <enc> 03 <KCV>; replace KVN 20', () => {
  const key = h('404142434445464748494A4B4C4D4E4F');
  const c = buildPutKey({ replaceKvn: 0x20, newKvn: 0x21, keyId: 0x01, keys: [{ components: [{ type: 0x80, value: key }] }] }, desEnc);
  assertApdu(c, '80D82001' + '17' + '21' + '8010' + toHex(desEcbEncrypt(sessionDek2, key)) + '03' + '8BAF47' + '00');
  const p = parsePutKeyCommand(c, desDec);
  assert.deepEqual([p.replaceKvn, p.newKvn, p.keyId, p.multiple, toHex(p.keys[0]!.components[0]!.value)], [0x20, 0x21, 1, false, toHex(key)]);
  // Table 11-70 for DES too: a length-prefixed block of 17 bytes is not a multiple of 8.
  const prefixed = cmd('80D820011821' + '8011' + '10' + toHex(desEcbEncrypt(sessionDek2, key)) + '038BAF47');
  assert.equal(toHex(parsePutKeyCommand(prefixed, desDec).keys[0]!.components[0]!.value), toHex(key));
});

test('Tables 11-69, 11-73: extended format and clear ECC public key with parameter reference', () => {
  const pub = Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : i));
  const c = buildPutKey(
    { replaceKvn: 0, newKvn: 0x11, keyId: 0x10, keys: [{ components: [{ type: 0xb0, value: pub }, { type: 0xf0, value: h('00') }], usage: h('82'), access: h('00') }] },
    () => {
      throw new Error('public keys are not encrypted');
    },
  );
  assertApdu(c, '80D80010' + '4E' + '11' + 'FFB041' + toHex(pub) + 'FFF00100' + '00' + '0182' + '0100' + '00');
  const p = parsePutKeyCommand(c, () => new Uint8Array(0));
  assert.deepEqual(p.keys[0]!.components.map((x) => [x.type, x.value.length]), [[0xb0, 65], [0xf0, 1]]);
  assert.equal(p.keys[0]!.extended, true);
  assert.deepEqual(p.keys[0]!.usage, h('82'));
});

test('§11.8.3.1: response KVN ‖ KCVs', () => {
  const r = encodePutKeyResponse(0x30, [h(v3.kcv.enc), h(v3.kcv.mac), h(v3.kcv.dek)]);
  assert.equal(toHex(r), '30' + v3.kcv.enc + v3.kcv.mac + v3.kcv.dek);
  assert.deepEqual(parsePutKeyResponse(r), { kvn: 0x30, kcvs: [h(v3.kcv.enc), h(v3.kcv.mac), h(v3.kcv.dek)] });
  assertRejects(() => parsePutKeyResponse(h('30C352')), 0x6a80, 'BAD_DATA');
  assertRejects(() => parsePutKeyResponse(h('')), 0x6a80, 'BAD_DATA');
});

test('PUT KEY: hostile inputs', () => {
  const good = toHex(buildPutKey({ replaceKvn: 0, newKvn: 0x30, keyId: 1, keys: aesKeys.slice(0, 1) }, aesEnc).data);
  const withData = (p1p2: string, data: string) => cmd('80D8' + p1p2 + (data.length / 2).toString(16).padStart(2, '0') + data);
  // KCV of another key → 6982 (Table 11-78).
  assertRejects(() => parsePutKeyCommand(withData('0001', good.slice(0, -6) + '000000'), aesDec), 0x6982, 'KCV_MISMATCH');
  // KVN 00 and 80 are not valid new versions.
  assertRejects(() => parsePutKeyCommand(withData('0001', '00' + good.slice(2)), aesDec), 0x6a80, 'BAD_DATA');
  assertRejects(() => parsePutKeyCommand(withData('0001', '80' + good.slice(2)), aesDec), 0x6a80, 'BAD_DATA');
  // Truncated component block.
  assertRejects(() => parsePutKeyCommand(withData('0001', good.slice(0, 20)), aesDec), 0x6a80, 'TRUNCATED');
  // Missing KCV length.
  assertRejects(() => parsePutKeyCommand(withData('0001', good.slice(0, -8)), aesDec), 0x6a80, 'TRUNCATED');
  // AES key without KCV (B.6 requires it).
  assertRejects(() => parsePutKeyCommand(withData('0001', good.slice(0, -8) + '00'), aesDec), 0x6a80, 'BAD_DATA');
  // Two keys without P2 b8.
  const two = toHex(buildPutKey({ replaceKvn: 0, newKvn: 0x30, keyId: 1, keys: aesKeys.slice(0, 2) }, aesEnc).data);
  assertRejects(() => parsePutKeyCommand(withData('0001', two), aesDec), 0x6a80, 'BAD_DATA');
  // No key data at all.
  assertRejects(() => parsePutKeyCommand(withData('0001', '30'), aesDec), 0x6a80, 'BAD_DATA');
  // Clear length larger than the encrypted block.
  assertRejects(() => parsePutKeyCommand(withData('0001', '30' + '8811' + '20' + '00'.repeat(16) + '00'), aesDec), 0x6a80, 'BAD_DATA');
  // An AES key component of 8 bytes (length '08' in a 16-byte block) or a DES one of 12: wrong data, not a
  // crash in the KCV computation (fuzz finding F1).
  const short = (type: string, n: number) => '30' + type + '11' + n.toString(16).padStart(2, '0') + '00'.repeat(16) + '03000000';
  assertRejects(() => parsePutKeyCommand(withData('0001', short('88', 8)), aesDec), 0x6a80, 'BAD_DATA');
  assertRejects(() => parsePutKeyCommand(withData('0001', short('80', 12)), desDec, { dekBlockSize: 8 }), 0x6a80, 'BAD_DATA');
  // Caller mistakes.
  assert.throws(() => buildPutKey({ replaceKvn: 0, newKvn: 0, keyId: 1, keys: aesKeys }, aesEnc), RangeError);
  assert.throws(() => buildPutKey({ replaceKvn: 0x80, newKvn: 1, keyId: 1, keys: aesKeys }, aesEnc), RangeError);
  void kcvDes;
});
