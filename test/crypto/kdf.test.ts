/**
 * NIST SP 800-108 counter-mode KDF with AES-CMAC (src/crypto/kdf.ts), checked against published GP SCP03
 * transcripts (test/vectors/gp-scp.json, "scp03_aes128_level11" and "scp03_aes256_level33"; source recorded in
 * the file). SCP03 (GP Amendment D v1.1 §6.2.1) uses it with the fixed input data
 *   label = 11 × '00' ‖ derivation constant, separator '00', L (2 bytes, bits), counter (1 byte), context
 * where context = host challenge ‖ card challenge. Constants: '04' S-ENC, '06' S-MAC, '07' S-RMAC,
 * '00' card cryptogram, '01' host cryptogram (Table 6-1).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { concat, fromHex, toHex } from '../../src/core/bytes.ts';
import { sp800108CounterCmac } from '../../src/crypto/index.ts';
import { gpScpVectors } from '../vectors/index.ts';

const v128 = gpScpVectors.scp03_aes128_level11;
const v256 = gpScpVectors.scp03_aes256_level33;

/** Fixed input data of SCP03 around the counter byte. */
function scp03Input(constant: number, bits: number, context: Uint8Array) {
  return {
    before: concat(new Uint8Array(11), Uint8Array.of(constant, 0x00, bits >> 8, bits & 0xff)),
    after: context,
    length: bits / 8,
  };
}

/** Host challenge from INITIALIZE UPDATE data; card challenge and cryptogram from its response (Amd D Table 7-3). */
function challenges(v: { initializeUpdate: string; initializeUpdateResponse: string }) {
  const iu = fromHex(v.initializeUpdate);
  const r = fromHex(v.initializeUpdateResponse);
  return { host: iu.slice(5, 13), card: r.slice(13, 21), cardCryptogram: r.slice(21, 29) };
}

describe('SP 800-108 counter mode, AES-CMAC PRF (GP SCP03 published transcripts)', () => {
  const c = challenges(v128);
  const context = concat(c.host, c.card);

  test('AES-128 session keys S-ENC, S-MAC, S-RMAC (one block each)', () => {
    const enc = sp800108CounterCmac(fromHex(v128.keys.enc), scp03Input(0x04, 128, context));
    const mac = sp800108CounterCmac(fromHex(v128.keys.mac), scp03Input(0x06, 128, context));
    const rmac = sp800108CounterCmac(fromHex(v128.keys.mac), scp03Input(0x07, 128, context));
    assert.equal(toHex(enc), v128.sessionKeys.enc.toUpperCase());
    assert.equal(toHex(mac), v128.sessionKeys.mac.toUpperCase());
    assert.equal(toHex(rmac), v128.sessionKeys.rmac.toUpperCase());
  });

  test('64-bit outputs: card and host cryptograms (output shorter than a block is its prefix)', () => {
    const sMac = fromHex(v128.sessionKeys.mac);
    assert.equal(toHex(sp800108CounterCmac(sMac, scp03Input(0x00, 64, context))), toHex(c.cardCryptogram));
    assert.equal(toHex(sp800108CounterCmac(sMac, scp03Input(0x00, 64, context))), v128.cardCryptogram.toUpperCase());
    assert.equal(toHex(sp800108CounterCmac(sMac, scp03Input(0x01, 64, context))), v128.hostCryptogram.toUpperCase());
  });

  test('AES-256: a two-block S-MAC (counter 1 and 2) gives the published card and host cryptograms', () => {
    const c2 = challenges(v256);
    const ctx = concat(c2.host, c2.card);
    const sMac = sp800108CounterCmac(fromHex(v256.keys.mac), scp03Input(0x06, 256, ctx));
    assert.equal(sMac.length, 32);
    assert.equal(toHex(sp800108CounterCmac(sMac, scp03Input(0x00, 64, ctx))), toHex(c2.cardCryptogram));
    const hostCryptogram = fromHex(v256.externalAuthenticate).slice(5, 13);
    assert.equal(toHex(sp800108CounterCmac(sMac, scp03Input(0x01, 64, ctx))), toHex(hostCryptogram));
  });

  test('the counter position matters and over 255 blocks is refused', () => {
    const key = fromHex(v128.keys.mac);
    const i = scp03Input(0x06, 128, context);
    const moved = sp800108CounterCmac(key, { before: concat(i.before, i.after), after: new Uint8Array(0), length: 16 });
    assert.notEqual(toHex(moved), v128.sessionKeys.mac.toUpperCase());
    assert.throws(() => sp800108CounterCmac(key, { before: i.before, after: i.after, length: 256 * 16 }), RangeError);
  });
});
