import { gpScpVectors } from '../vectors/index.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ISD_AID,
  SSD_MODULE_AID,
  aidFromHex,
  aidMatches,
  aidName,
  diversify,
  kcvAes,
  kcvDes,
  kcvFor,
} from '../../src/gp/index.ts';
import { h, toHex, assertRejects } from './helpers.ts';

const vectors = gpScpVectors;

test('H.1.3: default ISD AID and well-known names', () => {
  assert.equal(toHex(ISD_AID), 'A000000151000000');
  assert.equal(aidName(SSD_MODULE_AID), 'GlobalPlatform SSD module');
  assert.ok(aidMatches(ISD_AID, h('A000000151')));
  assert.ok(!aidMatches(h('A0000001'), ISD_AID));
});

test('hostile AIDs (5..16 bytes)', () => {
  assertRejects(() => aidFromHex('A0000001'), 0x6a80, 'BAD_AID');
  assertRejects(() => aidFromHex('A0000001510000000000000000000000FF'), 0x6a80, 'BAD_AID');
  assertRejects(() => aidFromHex('A00000015Z'), 0x6a80, 'BAD_HEX');
  assert.equal(toHex(aidFromHex('a000000151')), 'A000000151');
});

test('B.6 / Amendment D: KCVs of the SCP03 vector keys', () => {
  const v = vectors.scp03_aes128_level11;
  assert.equal(toHex(kcvAes(h(v.keys.enc))), v.kcv.enc);
  assert.equal(toHex(kcvAes(h(v.keys.mac))), v.kcv.mac);
  assert.equal(toHex(kcvFor(0x88, h(v.keys.dek))), v.kcv.dek);
  // 3DES KCV: 3DES-ECB over 8 zero bytes; for the 404142..4F test key.
  assert.equal(toHex(kcvDes(h('404142434445464748494A4B4C4D4E4F'))), '8BAF47');
  assert.equal(kcvFor(0xb0, h('00')).length, 0);
});

for (const [name, method, kcv] of [
  ['emvDiversified_scp02', 'emv', kcvDes],
  ['visa2Diversified', 'visa2', kcvDes],
  ['kdf3Diversified_aes128', 'kdf3', kcvAes],
] as const) {
  test(`diversification ${method}: reproduces kcv_static_40_4F.${name}`, () => {
    const v = vectors.kcv_static_40_4F;
    const keys = diversify(method, h(v.key), h(v.kdd));
    assert.deepEqual(
      { enc: toHex(kcv(keys.enc)), mac: toHex(kcv(keys.mac)), dek: toHex(kcv(keys.dek)) },
      { enc: v[name].enc, mac: v[name].mac, dek: v[name].dek },
    );
  });
}

test('diversification: caller mistakes are RangeErrors', () => {
  assert.throws(() => diversify('emv', h('00'), h('00010203040506070809')), RangeError);
  assert.throws(() => diversify('visa2', h('404142434445464748494A4B4C4D4E4F'), h('0001')), RangeError);
});
