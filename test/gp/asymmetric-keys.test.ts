/** Asymmetric SD keys, host side: GENERATE KEY PAIR (proprietary 80 F1), trust anchors by PUT KEY, certificate STORE / GET DATA. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand } from '../../src/apdu/command.ts';
import {
  buildGenerateEcKeyPair,
  buildGenerateRsaKeyPair,
  buildGetCertificates,
  buildPutEcTrustAnchor,
  buildPutKey,
  buildPutRsaTrustPoint,
  buildStoreCertificates,
  parseCertificateStore,
  parseGeneratedEcPublicKey,
  parseGeneratedRsaPublicKey,
  parsePutKeyCommand,
} from '../../src/gp/index.ts';
import { assertApdu, assertRejects, h, toHex } from './helpers.ts';
import { encodeCommand } from '../../src/apdu/command.ts';

const POINT = '04' + '11'.repeat(32) + '22'.repeat(32);
const MOD1024 = 'C1' + 'AB'.repeat(126) + '01';
const MOD2048 = 'C3' + 'CD'.repeat(254) + '05';
const noDecrypt = (): Uint8Array => {
  throw new Error('nothing secret');
};

test('GENERATE KEY PAIR (ECC): 80 F1 P1=replace P2=KID 04 KVN F0 01 ref, Le 00', () => {
  assertApdu(buildGenerateEcKeyPair({ kvn: 1, kid: 0x11, curveReference: 0x00 }), '80F10011 04 01F00100 00');
  assertApdu(buildGenerateEcKeyPair({ kvn: 2, kid: 0x15, replaceKvn: 1, curveReference: 0x03 }), '80F10115 04 02F00103 00');
  assert.throws(() => buildGenerateEcKeyPair({ kvn: 0, kid: 0x11, curveReference: 0 }), RangeError);
  assert.throws(() => buildGenerateEcKeyPair({ kvn: 0x80, kid: 0x11, curveReference: 0 }), RangeError);
  assert.throws(() => buildGenerateEcKeyPair({ kvn: 1, kid: 0x80, curveReference: 0 }), RangeError);
  assert.throws(() => buildGenerateEcKeyPair({ kvn: 1, kid: 0x11, replaceKvn: 0x80, curveReference: 0 }), RangeError);
  assert.throws(() => buildGenerateEcKeyPair({ kvn: 1, kid: 0x11, curveReference: 0x100 }), RangeError);
});

test('GENERATE KEY PAIR (RSA): A1 02 0400 with Le 00; A1 02 0800 with extended Le 0000', () => {
  assertApdu(buildGenerateRsaKeyPair({ kvn: 1, kid: 0x11, modulusBits: 1024 }), '80F10011 05 01A1020400 00');
  assertApdu(buildGenerateRsaKeyPair({ kvn: 3, kid: 0x11, replaceKvn: 1, modulusBits: 2048 }), '80F10111 000005 03A1020800 0000');
  assert.throws(() => buildGenerateRsaKeyPair({ kvn: 1, kid: 0x11, modulusBits: 4096 as 2048 }), RangeError);
});

test("parseGeneratedEcPublicKey: 'B0' 41 point; hostile inputs refused", () => {
  assert.equal(toHex(parseGeneratedEcPublicKey(h('B041' + POINT))), POINT);
  assert.equal(toHex(parseGeneratedEcPublicKey(h('B08141' + POINT))), POINT, 'BER length 81 41');
  assertRejects(() => parseGeneratedEcPublicKey(h('')), 0x6a80, 'TRUNCATED');
  assertRejects(() => parseGeneratedEcPublicKey(h('B041' + POINT.slice(2))), 0x6a80, 'TRUNCATED');
  assertRejects(() => parseGeneratedEcPublicKey(h('B041' + POINT + '00')), 0x6a80, 'TRAILING_DATA');
  assertRejects(() => parseGeneratedEcPublicKey(h('B141' + POINT)), 0x6a80, 'BAD_DATA');
  assertRejects(() => parseGeneratedEcPublicKey(h('B041' + '02' + POINT.slice(2))), 0x6a80, 'BAD_DATA');
  assertRejects(() => parseGeneratedEcPublicKey(h('B040' + POINT.slice(2))), 0x6a80, 'BAD_DATA');
  assertRejects(() => parseGeneratedEcPublicKey(h('B085' + POINT)), 0x6a80, 'BAD_LENGTH');
});

test("parseGeneratedRsaPublicKey: 'A1' modulus ‖ 'A0' exponent (1024 and 2048); hostile inputs refused", () => {
  const r1 = parseGeneratedRsaPublicKey(h('A18180' + MOD1024 + 'A003010001'));
  assert.deepEqual([toHex(r1.modulus), toHex(r1.exponent)], [MOD1024, '010001']);
  const r2 = parseGeneratedRsaPublicKey(h('A1820100' + MOD2048 + 'A003010001'));
  assert.deepEqual([toHex(r2.modulus), toHex(r2.exponent)], [MOD2048, '010001']);
  const bad = [
    ['A18180' + MOD1024, 'TRUNCATED'],
    ['A18180' + MOD1024 + 'A00301000100', 'TRAILING_DATA'],
    ['A003010001A18180' + MOD1024, 'BAD_DATA'],
    ['A1817F' + MOD1024.slice(2) + 'A003010001', 'BAD_DATA'], // 127 bytes
    ['A18180' + '00' + MOD1024.slice(2) + 'A003010001', 'BAD_DATA'], // leading zero / short modulus
    ['A18180' + MOD1024.slice(0, -2) + '02' + 'A003010001', 'BAD_DATA'], // even modulus
    ['A18180' + MOD1024 + 'A003010000', 'BAD_DATA'], // even exponent
    ['A18180' + MOD1024 + 'A00101', 'BAD_DATA'], // e = 1
    ['A18180' + MOD1024 + 'A000', 'BAD_DATA'], // empty exponent
    ['A18180' + MOD1024 + 'A0050100000001', 'BAD_DATA'], // 5-byte exponent
  ] as const;
  for (const [hex, code] of bad) assertRejects(() => parseGeneratedRsaPublicKey(h(hex)), 0x6a80, code);
});

test("PUT KEY PK.CA-KLOC.ECDSA: 80 D8 00 10 48 01 B0 41 point F0 01 00 00 — in clear, empty KCV; the card parser agrees", () => {
  const c = buildPutEcTrustAnchor({ kvn: 1, kid: 0x10, curveReference: 0x00, point: h(POINT) });
  assertApdu(c, '80D80010 48 01 B041' + POINT + 'F00100 00 00');
  const p = parsePutKeyCommand(c, noDecrypt);
  assert.deepEqual(p.keys.map((k) => [k.keyId, k.components.map((x) => [x.type, toHex(x.value)]), toHex(k.kcv)]), [[0x10, [[0xb0, POINT], [0xf0, '00']], '']]);
  assertApdu(buildPutEcTrustAnchor({ kvn: 2, kid: 0x20, replaceKvn: 1, curveReference: 0x01, point: h(POINT) }), '80D80120 48 02 B041' + POINT + 'F00101 00 00');
  assert.throws(() => buildPutEcTrustAnchor({ kvn: 1, kid: 0x10, curveReference: 0, point: h('02' + '11'.repeat(32)) }), RangeError);
});

test("PUT KEY PK.TP_EX.AUT: 'A1' modulus ‖ 'A0' exponent, empty KCV; RSA-1024 short (same bytes as buildPutKey), RSA-2048 extended", () => {
  const c1 = buildPutRsaTrustPoint({ kvn: 1, kid: 0x10, modulus: h(MOD1024), exponent: h('010001') });
  assertApdu(c1, '80D80010 8A 01 A18180' + MOD1024 + 'A003010001 00 00');
  const viaPutKey = buildPutKey(
    { replaceKvn: 0, newKvn: 1, keyId: 0x10, keys: [{ components: [{ type: 0xa1, value: h(MOD1024) }, { type: 0xa0, value: h('010001') }], kcv: new Uint8Array(0) }] },
    noDecrypt,
  );
  assert.deepEqual(encodeCommand(c1), encodeCommand(viaPutKey));
  const c2 = buildPutRsaTrustPoint({ kvn: 0x21, kid: 0x10, replaceKvn: 0x20, modulus: h(MOD2048), exponent: h('03') });
  assertApdu(c2, '80D82010 000109 21 A1820100' + MOD2048 + 'A00103 00 0100');
  for (const c of [c1, c2]) {
    const p = parsePutKeyCommand(decodeCommand(encodeCommand(c)), noDecrypt);
    assert.equal(p.keys.length, 1);
    assert.deepEqual(p.keys[0]!.components.map((x) => x.type), [0xa1, 0xa0]);
    assert.equal(p.keys[0]!.kcv.length, 0);
  }
  assert.throws(() => buildPutRsaTrustPoint({ kvn: 1, kid: 0x10, modulus: h('00' + MOD1024), exponent: h('010001') }), RangeError);
  assert.throws(() => buildPutRsaTrustPoint({ kvn: 1, kid: 0x10, modulus: h(MOD1024), exponent: new Uint8Array(0) }), RangeError);
});

test("STORE DATA certificates: 'A6' { '83' 02 KID KVN } 'BF21' { 7F21… } in blocks of 239 bytes, P1 90 on the last", () => {
  const cert = h('7F2103' + '5F2000');
  const [only, ...rest] = buildStoreCertificates({ kid: 0x11, kvn: 1, certificates: [cert, cert] });
  assert.equal(rest.length, 0);
  assertApdu(only!, '80E29000 15 A604830211 01 BF210C' + '7F21035F2000'.repeat(2));
  const big = h('7F21820190' + 'AA'.repeat(0x190));
  const blocks = buildStoreCertificates({ kid: 0x11, kvn: 2, certificates: [big] });
  // 6 ('A6') + 5 ('BF21 82 0195') + 405 = 416 bytes: 239 + 177.
  assert.deepEqual(blocks.map((b) => [b.p1, b.p2, b.data.length]), [[0x10, 0, 239], [0x90, 1, 177]]);
  assert.equal(toHex(blocks[0]!.data.subarray(0, 13)), 'A60483021102BF218201957F21');
  assert.throws(() => buildStoreCertificates({ kid: 0x11, kvn: 1, certificates: [] }), RangeError);
  assert.throws(() => buildStoreCertificates({ kid: 0x11, kvn: 1, certificates: [h('3103020100')] }), RangeError);
  assert.throws(() => buildStoreCertificates({ kid: 0x11, kvn: 1, certificates: [h('3000')] }), RangeError);
  // An X.509 certificate (SEQUENCE) is taken as it is (Amendment F v1.4).
  assertApdu(buildStoreCertificates({ kid: 0x11, kvn: 1, certificates: [h('3003020100')] })[0]!, '80E29000 0E A604830211 01 BF2105' + '3003020100');
});

test("GET DATA 'BF21' with the key reference; parseCertificateStore", () => {
  assertApdu(buildGetCertificates({ kid: 0x15, kvn: 3 }), '80CABF21 06 A604830215 03 00');
  assert.equal(toHex(parseCertificateStore(h('BF2106' + '7F21035F2000'))), '7F21035F2000');
  assertRejects(() => parseCertificateStore(h('BF2007' + '7F21035F2000')), 0x6a80, 'BAD_TAG');
  assertRejects(() => parseCertificateStore(h('BF2107' + '7F21035F2000')), 0x6a80, 'TRUNCATED');
  assertRejects(() => parseCertificateStore(h('BF2100')), 0x6a80, 'BAD_DATA');
  assertRejects(() => parseCertificateStore(h('BF2106' + '7F21035F2000' + '90')), 0x6a80, 'TRAILING_DATA');
});
