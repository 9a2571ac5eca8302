/**
 * ISO/IEC 7816-4 §5.1.1.1 command chaining inside a secure channel (issue 8 §5.3): long commands over short
 * APDUs, each piece wrapped as a command of its own (SCP02 E.4.4, SCP03 Amendment D §6.2.4); round trips,
 * tampering inside a chain, a chain interrupted by another command, and where chaining is refused (6884).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeCommand } from '../../src/apdu/command.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import { chainPieces, transmitChained } from '../../src/scp/index.ts';
import { KEYS40, newCard, open, raw, sc } from './helpers.ts';

/** STORE DATA, one GP block (P1 '90': last block, BER-TLV), '5F50' (SD Manager URL) with `n` bytes of value. */
function longStoreData(n: number): Uint8Array {
  return encodeCommand({ cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0x00, data: encodeTlv(0x5f50, new Uint8Array(n).fill(0x5a)) });
}

function isdData(card: ReturnType<typeof newCard>): Record<string, string> {
  const s = JSON.parse(card.serialize());
  return s.apps.find((a: { aid: string }) => a.aid === s.isd).securityDomain.data;
}

for (const [profile, scp, levels] of [
  ['scp03', 3, [0x01, 0x03, 0x13, 0x33]],
  ['scp02', 2, [0x01, 0x03]],
] as const) {
  for (const level of levels) {
    test(`SCP0${scp} level ${level.toString(16).padStart(2, '0')}: a 600-byte STORE DATA goes as a chain of short wrapped APDUs`, async () => {
      const card = newCard({ profile, keys: KEYS40 });
      const ch = await open(card, level, { scp, keys: KEYS40 });
      const sent: Uint8Array[] = [];
      const plain = longStoreData(600);
      const r = await transmitChained(async (apdu) => {
        sent.push(apdu);
        return card.process(apdu);
      }, ch, plain);
      assert.equal(toHex(r), '9000');
      assert.ok(sent.length >= 3);
      for (const [n, apdu] of sent.entries()) {
        assert.ok(apdu.length <= 5 + 255 + 1, 'short APDU');
        assert.equal(apdu[0]! & 0x10, n < sent.length - 1 ? 0x10 : 0, 'CLA b5 on all but the last piece');
        assert.equal(apdu[0]! & 0x04, 0x04, 'secure messaging on every piece');
      }
      assert.equal(isdData(card)['5F50'], '5A'.repeat(600));
      // The MAC chain is intact after the chain: a following command verifies.
      assert.equal(sc(card, ch, '80CA006600').sw, 0x9000);
    });
  }
}

test('a tampered piece inside a chain → 6982, the chain and the session end, nothing stored', async () => {
  const card = newCard({ keys: KEYS40 });
  const ch = await open(card, 0x03, { keys: KEYS40 });
  const before = card.serialize();
  const pieces = chainPieces(ch, longStoreData(400));
  assert.equal(pieces.length, 2);
  assert.equal(toHex(ch.unwrapResponse(card.process(ch.wrapCommand(pieces[0]!)))), '9000');
  const last = ch.wrapCommand(pieces[1]!);
  last[last.length - 1]! ^= 0x01;
  assert.equal(toHex(card.process(last)), '6982');
  assert.equal(card.serialize(), before);
  assert.equal(toHex(card.process(fromHex('84CA006608' + '00'.repeat(8) + '00'))), '6982', 'session aborted');
});

test('a chain interrupted by another command: that command → 6883, the chain is dropped, nothing stored', async () => {
  const card = newCard({ keys: KEYS40 });
  const ch = await open(card, 0x33, { keys: KEYS40 });
  const before = card.serialize();
  const pieces = chainPieces(ch, longStoreData(400));
  assert.equal(toHex(ch.unwrapResponse(card.process(ch.wrapCommand(pieces[0]!)))), '9000');
  assert.deepEqual(sc(card, ch, '80CA006600'), { data: '', sw: 0x6883 });
  // The last piece alone is now a command of its own: its data is not BER-TLV → 6A80.
  assert.equal(sc(card, ch, { cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0x00, data: fromHex('5A5A') }).sw, 0x6a80);
  assert.equal(card.serialize(), before);
  // And a whole chain still works afterwards.
  assert.equal(toHex(await transmitChained(async (a) => card.process(a), ch, longStoreData(400))), '9000');
});

test('chaining is refused where it is not supported: SELECT, GET RESPONSE, MANAGE CHANNEL, INITIALIZE UPDATE (6884)', () => {
  const card = newCard();
  assert.equal(raw(card, '10A4040008A000000151000000').sw, 0x6884);
  assert.equal(raw(card, '10C0000000').sw, 0x6884);
  assert.equal(raw(card, '1070000001').sw, 0x6884);
  assert.equal(raw(card, '90500000080102030405060708').sw, 0x6884);
});

test('chaining without a secure channel: plain pieces are collected too (GET DATA refused only for its content)', () => {
  const card = newCard();
  assert.equal(raw(card, '90E29000035F5001').sw, 0x9000, 'first piece kept');
  // STORE DATA needs a secure channel: the whole command is refused at the last piece.
  assert.equal(raw(card, '80E29000010A').sw, 0x6982);
});
