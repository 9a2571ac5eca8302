/**
 * Secure channel sessions of the ISD (GPCS 2.3.1 §10, Table 11-2; SCP03 Amendment D; SCP02 Appendix E):
 * every security level, the sequence counter, and when a session ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../src/core/bytes.ts';
import { KEYS40, newCard, open, raw, sc } from './helpers.ts';

for (const level of [0x01, 0x03, 0x13, 0x33]) {
  test(`SCP03 level ${level.toString(16).padStart(2, '0')}: GET STATUS through the channel`, async () => {
    const card = newCard();
    const ch = await open(card, level);
    assert.equal(ch.scp, 3);
    assert.equal(ch.kvn, 0x30);
    assert.deepEqual(sc(card, ch, '80F28002024F0000'), { data: 'E31D4F08A0000001510000009F70010FC5039EDE00CC08A000000151000000', sw: 0x9000 });
    assert.deepEqual(sc(card, ch, '80CA00D300'), { data: `D301${(0x80 | level).toString(16).toUpperCase()}`, sw: 0x9000 });
  });
}

for (const level of [0x01, 0x03]) {
  test(`SCP02 level ${level.toString(16).padStart(2, '0')}: GET STATUS through the channel`, async () => {
    const card = newCard({ profile: 'scp02' });
    const ch = await open(card, level);
    assert.equal(ch.scp, 2);
    assert.equal(ch.kvn, 0x20);
    assert.deepEqual(sc(card, ch, '80F28002024F0000'), { data: 'E31D4F08A0000001510000009F70010FC5039EDE00CC08A000000151000000', sw: 0x9000 });
  });
}

test('Table 11-2: management commands need an authenticated session (6982); GET DATA does not', () => {
  const card = newCard();
  for (const c of ['80F28002024F0000', '80E602000400000000', '80E400000A4F08A00000015100000000', '80D8000000', '80F0800F', '80E2900003420100']) {
    assert.equal(raw(card, c).sw, 0x6982, c);
  }
  assert.deepEqual(raw(card, '80CA004200'), { data: '42020001', sw: 0x9000 });
  assert.deepEqual(raw(card, '00CA004500'), { data: '0102030405060708', sw: 0x9000 });
  assert.deepEqual(raw(card, '80CA00C100'), { data: 'C103000000', sw: 0x9000 });
  // Secure messaging indicated without a session.
  assert.equal(raw(card, '84CA00C100').sw, 0x6982);
});

test('sequence counter: incremented by each INITIALIZE UPDATE (SCP03 pseudo-random) and persisted', async () => {
  const card = newCard();
  await open(card, 0x01);
  await open(card, 0x01);
  assert.deepEqual(raw(card, '00A4040000').sw, 0x9000);
  assert.deepEqual(raw(card, '80CA00C100'), { data: 'C103000002', sw: 0x9000 });
  const scp02 = newCard({ profile: 'scp02' });
  await open(scp02, 0x01);
  assert.deepEqual(raw(scp02, '00A4040000').sw, 0x9000);
  assert.deepEqual(raw(scp02, '80CA00C100'), { data: 'C1020001', sw: 0x9000 });
});

test('session ends on SELECT, on a MAC failure, on reset (§10.2.3)', async () => {
  const card = newCard();
  let ch = await open(card, 0x01);
  assert.equal(raw(card, '00A4040000').sw, 0x9000);
  assert.equal(raw(card, '80F28002024F0000').sw, 0x6982);

  ch = await open(card, 0x01);
  const wrapped = ch.wrapCommand(fromHex('80F28002024F0000'));
  wrapped[wrapped.length - 2] ^= 0x01; // corrupt the C-MAC
  assert.deepEqual(raw(card, Buffer.from(wrapped).toString('hex')).sw, 0x6982);
  // Aborted: even a correct next command is refused until a new INITIALIZE UPDATE.
  assert.equal(raw(card, Buffer.from(ch.wrapCommand(fromHex('80F28002024F0000'))).toString('hex')).sw, 0x6982);

  ch = await open(card, 0x01);
  card.reset();
  assert.equal(raw(card, Buffer.from(ch.wrapCommand(fromHex('80F28002024F0000'))).toString('hex')).sw, 0x6982);
});

test('wrong keys: the host refuses the card cryptogram; unknown KVN 6A88; EXTERNAL AUTHENTICATE without INITIALIZE UPDATE 6985', async () => {
  const card = newCard();
  await assert.rejects(open(card, 0x01, { keys: { ...KEYS40, mac: fromHex('00'.repeat(16)) } }), /cryptogram/i);
  await assert.rejects(open(card, 0x01, { kvn: 0x31 }), /6A88/);
  assert.equal(raw(card, '848200001000112233445566778899AABBCCDDEEFF').sw, 0x6985);
});
