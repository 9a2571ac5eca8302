/**
 * SCP02 implementation options of GPCS 2.2.1 Table E-1 beyond '15'/'55': one Secure Channel base key
 * ("i" '04', '14', '44', '54'; E.2 Table E-2, E.4.1) and implicit initiation ("i" '0A', '0B', '1A', '1B';
 * E.1.2.2, E.3.3, E.4.3, C-MAC on the unmodified APDU). Expected session keys and the first implicit C-MAC were
 * computed independently with OpenSSL (des-ede-cbc / des-cbc) from the base key 40…4F and counter 0000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import * as scp02 from '../../src/scp/scp02/index.ts';
import { AID, cardContext, keysOf, openPair } from './helpers.ts';

const BASE = fromHex('404142434445464748494A4B4C4D4E4F');
/** 3DES-CBC (zero ICV) of constant ‖ 0000 ‖ 12 × 00 under BASE (OpenSSL). */
const OPENSSL = {
  enc: '010B0371D78377B801F2D62AFC671D95',
  cmac: 'D1C28C601652A4770D67AD82D2D2E1C4',
  rmac: 'FFAEC7EC7FAD69F9FBFF093BF2F79C45',
  dek: 'E11987EE331B417A5D67D760692F89D4',
};

test('E.4.1: with one base key ("i" b1 = 0) all four session keys come from it', () => {
  const keys = { enc: BASE, mac: fromHex('00'.repeat(16)), dek: fromHex('11'.repeat(16)) };
  for (const i of [0x04, 0x14, 0x44, 0x54, 0x0a, 0x1a]) {
    const sk = scp02.deriveSessionKeys(keys, fromHex('0000'), i);
    assert.deepEqual({ enc: toHex(sk.enc), cmac: toHex(sk.cmac), rmac: toHex(sk.rmac), dek: toHex(sk.dek) }, OPENSSL, i.toString(16));
  }
  const three = scp02.deriveSessionKeys(keys, fromHex('0000'), 0x55);
  assert.equal(toHex(three.enc), OPENSSL.enc);
  assert.notEqual(toHex(three.cmac), OPENSSL.cmac, 'three keys: C-MAC from Key-MAC');
});

for (const i of [0x04, 0x14, 0x44, 0x54]) {
  test(`explicit initiation with one base key, i=${i.toString(16).padStart(2, '0')}: host ↔ card at C-MAC + C-DECRYPTION, tamper → 6982`, () => {
    // The card holds only the base key: MAC and DEK of the set are absent (zero-length).
    const cardKeys = { enc: BASE, mac: new Uint8Array(0), dek: new Uint8Array(0) };
    const hostKeys = { enc: BASE, mac: new Uint8Array(0), dek: new Uint8Array(0) };
    const ctx = cardContext(cardKeys, i);
    const hostChallenge = fromHex('1011121314151617');
    const iu = scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0x30, hostChallenge), ctx);
    assert.equal(toHex(iu.response.subarray(-2)), '9000');
    const parsed = scp02.parseInitializeUpdateResponse(iu.response.subarray(0, -2));
    const session = scp02.beginHostSession(hostKeys, hostChallenge, parsed, i);
    assert.equal(toHex(session.sessionKeys.cmac), OPENSSL.cmac);
    const ea = scp02.buildExternalAuthenticate(session, 0x03);
    const done = scp02.cardExternalAuthenticate(iu.pending!, ea.command);
    assert.equal(toHex(done.response), '9000');
    assert.equal(done.nextSequenceCounter, 1);
    const host = scp02.createHostChannel(session, ea);
    const card = done.channel!;
    for (const c of ['80F22002024F00', '80CA006600', '80E60C00' + '20' + '11'.repeat(32) + '00']) {
      assert.equal(toHex(card.unwrapCommand(host.wrapCommand(fromHex(c)))), c);
    }
    const w = host.wrapCommand(fromHex('80F22002024F00'));
    w[w.length - 1]! ^= 0x01;
    assert.throws(() => card.unwrapCommand(w), { sw: 0x6982 });
  });
}

test('one base key: a card key set with only the base key refuses a three-key "i" (6A88)', () => {
  const ctx = cardContext({ enc: BASE, mac: new Uint8Array(0), dek: new Uint8Array(0) }, 0x55);
  const r = scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0x30, fromHex('1011121314151617')), ctx);
  assert.equal(toHex(r.response), '6A88');
});

test('E.3.3 / E.4.4: implicit i=0A — first ICV = MAC over the AID, C-MAC on the unmodified APDU (exact bytes)', () => {
  const keys = { enc: BASE, mac: new Uint8Array(0), dek: new Uint8Array(0) };
  assert.equal(toHex(scp02.aidIcv(fromHex(OPENSSL.cmac), AID)), '8BA2FFCEA96C6F30');
  const host = scp02.openImplicitChannel(keys, { kvn: 0x30, sequenceCounter: 0, aid: AID, i: 0x0a });
  assert.equal(host.level, 0x01);
  const w = host.wrapCommand(fromHex('80F22000024F00'));
  assert.equal(toHex(w), '84F220000A4F00986728D096DD2A2B');
  const opened = scp02.cardImplicitOpen(w, cardContext(keys, 0x0a));
  assert.ok(opened.ok);
  assert.equal(toHex(opened.plain), '80F22000024F00');
  assert.equal(opened.nextSequenceCounter, 1);
  // Chained: the next C-MAC uses the verified one as ICV.
  const w2 = host.wrapCommand(fromHex('80CA006600'));
  assert.equal(toHex(opened.channel.unwrapCommand(w2)), '80CA006600');
});

for (const i of [0x0a, 0x0b, 0x1a, 0x1b]) {
  test(`implicit i=${i.toString(16).padStart(2, '0')}: host ↔ card round trip; wrong counter, wrong AID, tampering → 6982; INITIALIZE UPDATE → 6D00`, () => {
    const keys = keysOf(16);
    const host = scp02.openImplicitChannel(keys, { kvn: 0x30, sequenceCounter: 5, aid: AID, i });
    const first = host.wrapCommand(fromHex('80F22000024F00'));
    const stale = scp02.cardImplicitOpen(first, cardContext(keys, i, 4));
    assert.deepEqual(stale, { ok: false, sw: 0x6982 });
    const otherAid = scp02.cardImplicitOpen(first, { ...cardContext(keys, i, 5), aid: fromHex('A000000151535041') });
    assert.deepEqual(otherAid, { ok: false, sw: 0x6982 });
    const opened = scp02.cardImplicitOpen(first, cardContext(keys, i, 5));
    assert.ok(opened.ok);
    for (const c of ['80CA006600', '80E60C00' + '28' + '22'.repeat(40) + '00', '80F22002024F00']) {
      assert.equal(toHex(opened.channel.unwrapCommand(host.wrapCommand(fromHex(c)))), c);
    }
    const bad = host.wrapCommand(fromHex('80CA006600'));
    bad[5]! ^= 0x80;
    assert.throws(() => opened.channel.unwrapCommand(bad), { sw: 0x6982 });
    assert.equal(toHex(scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0x30, fromHex('0102030405060708')), cardContext(keys, i)).response), '6D00');
  });
}

test('implicit: FFFF counter → 6985, no key set → 6A88; host refuses an explicit "i" and a bad AID', () => {
  const keys = keysOf(16);
  const w = scp02.openImplicitChannel(keys, { kvn: 0x30, sequenceCounter: 0, aid: AID, i: 0x1b }).wrapCommand(fromHex('80CA006600'));
  assert.deepEqual(scp02.cardImplicitOpen(w, cardContext(keys, 0x1b, 0xffff)), { ok: false, sw: 0x6985 });
  assert.deepEqual(scp02.cardImplicitOpen(w, { ...cardContext(keys, 0x1b), lookupKeys: () => undefined }), { ok: false, sw: 0x6a88 });
  assert.throws(() => scp02.openImplicitChannel(keys, { kvn: 0x30, sequenceCounter: 0, aid: AID, i: 0x15 }), { code: 'UNSUPPORTED' });
  assert.throws(() => scp02.openImplicitChannel(keys, { kvn: 0x30, sequenceCounter: 0, aid: fromHex('A000'), i: 0x1a }), RangeError);
});

test('explicit three-key i=15 still round-trips (no regression)', () => {
  const { host, card } = openPair(2, { keys: keysOf(16), i: 0x15, level: 0x03 });
  assert.equal(toHex(card.unwrapCommand(host.wrapCommand(fromHex('80CA006600')))), '80CA006600');
});
