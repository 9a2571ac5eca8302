/**
 * SCP02 implicit initiation on the simulated card (GPCS 2.2.1 E.1.2.2, E.1.5, E.1.6): an ISD configured with
 * "i" '1A' (implicit, C-MAC on the unmodified APDU, AID ICV, ICV encryption, one base key) opens its session on
 * the first command with a C-MAC; the host learns the sequence counter with GET DATA 'C1'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import * as scp02 from '../../src/scp/scp02/index.ts';
import { ISD, KEYS40, newCard, raw } from './helpers.ts';

function counter(card: ReturnType<typeof newCard>): number {
  const r = raw(card, '80CA00C100');
  assert.equal(r.sw, 0x9000);
  assert.equal(r.data.slice(0, 4), 'C102');
  return parseInt(r.data.slice(4), 16);
}

function implicitHost(card: ReturnType<typeof newCard>, i = 0x1a) {
  return scp02.openImplicitChannel(KEYS40, { kvn: 0x20, sequenceCounter: counter(card), aid: fromHex(ISD), i });
}

test('i=1A: the first C-MAC command opens the session, increments the counter, and authorises management', () => {
  const card = newCard({ profile: 'scp02', i: 0x1a });
  assert.equal(counter(card), 0);
  assert.equal(toHex(card.process(fromHex('80500000081122334455667788' + '00'))), '6D00', 'no INITIALIZE UPDATE on an implicit SD');
  const host = implicitHost(card);
  const r = decodeResponse(card.process(host.wrapCommand(fromHex('80F28002024F0000'))));
  assert.equal(r.sw, 0x9000);
  // Still in the session: GET DATA '66' with the chained C-MAC; then the counter is 1.
  assert.equal(decodeResponse(card.process(host.wrapCommand(fromHex('80CA006600')))).sw, 0x9000);
  assert.equal(counter(card), 1, 'GET DATA without C-MAC ends the implicit session (C_MAC cleared)');
});

test('i=1A: a bad first C-MAC → 6982 and the counter stays; a stale counter → 6982', () => {
  const card = newCard({ profile: 'scp02', i: 0x1a });
  const host = implicitHost(card);
  const w = host.wrapCommand(fromHex('80F28002024F0000'));
  const bad = w.slice();
  bad[bad.length - 2]! ^= 0x01;
  assert.equal(toHex(card.process(bad)), '6982');
  assert.equal(counter(card), 0);
  assert.equal(decodeResponse(card.process(w)).sw, 0x9000);
  assert.equal(counter(card), 1);
  // A replay of that first command: the counter moved, so the session keys differ.
  assert.equal(toHex(card.process(w)), '6982');
  assert.equal(counter(card), 1);
});

test('i=1A: a failing first command keeps the counter increment (E.1.2) but nothing else', () => {
  const card = newCard({ profile: 'scp02', i: 0x1a });
  const host = implicitHost(card);
  // DELETE of an unknown AID → 6A88, after a valid C-MAC.
  const r = decodeResponse(card.process(host.wrapCommand(fromHex('80E400000A4F08A0000000000000FF00'))));
  assert.equal(r.sw, 0x6a88);
  assert.equal(counter(card), 1);
});

test('explicit one base key i=14 on the card: SCP02 handshake with only the base key', async () => {
  const card = newCard({ profile: 'scp02', i: 0x14 });
  const hostChallenge = fromHex('0102030405060708');
  const iu = decodeResponse(card.process(scp02.buildInitializeUpdate(0x20, hostChallenge)));
  assert.equal(iu.sw, 0x9000);
  const session = scp02.beginHostSession({ enc: KEYS40.enc, mac: new Uint8Array(0), dek: new Uint8Array(0) }, hostChallenge, scp02.parseInitializeUpdateResponse(iu.data), 0x14);
  const ea = scp02.buildExternalAuthenticate(session, 0x03);
  assert.equal(toHex(card.process(ea.command)), '9000');
  const host = scp02.createHostChannel(session, ea);
  assert.equal(decodeResponse(card.process(host.wrapCommand(fromHex('80F28002024F0000')))).sw, 0x9000);
});
