/**
 * Card life cycle (GPCS 2.3.1 §5.1, Figure 5-1; SET STATUS §11.10; CARD_LOCKED §5.1.1.4; TERMINATED §5.1.1.5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../src/core/bytes.ts';
import { buildSetStatus } from '../../src/gp/index.ts';
import { ECHO_ELF_AID } from '../../src/card/index.ts';
import { SSD1, installSsd, newCard, open, raw, sc } from './helpers.ts';

const isdStatus = (lc: string) => `E31D4F08A0000001510000009F7001${lc}C5039EDE00CC08A000000151000000`;

test('OP_READY → INITIALIZED → SECURED, irreversible; a skip OP_READY → SECURED is allowed', async () => {
  const card = newCard({ cardLifeCycle: 0x01 });
  const isd = await open(card, 0x01);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0x07 })).sw, 0x9000);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0x01 })).sw, 0x6985);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0x0f })).sw, 0x9000);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0x07 })).sw, 0x6985);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0x0f })).sw, 0x6985); // to the current state
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0x33 })).sw, 0x6a80); // not a card state
  assert.deepEqual(sc(card, isd, '80F28002024F0000'), { data: isdStatus('0F'), sw: 0x9000 });

  const skip = newCard({ cardLifeCycle: 0x01 });
  const ch = await open(skip, 0x01);
  assert.equal(sc(skip, ch, buildSetStatus({ scope: 0x80, state: 0x0f })).sw, 0x9000);
});

test('CARD_LOCKED: no content changes, applications not selectable, ISD answers 6283; unlock back to SECURED', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0x7f })).sw, 0x9000);
  assert.deepEqual(sc(card, isd, '80F28002024F0000'), { data: isdStatus('7F'), sw: 0x9000 });
  assert.equal(sc(card, isd, installSsd(SSD1, [])).sw, 0x6985);
  assert.equal(raw(card, '0070000001').sw, 0x6a81);
  const select = raw(card, '00A4040000');
  assert.equal(select.sw, 0x6283);
  assert.equal(raw(card, `00A4040008${ECHO_ELF_AID}00`).sw, 0x6a82);
  const again = await open(card, 0x01);
  assert.equal(sc(card, again, buildSetStatus({ scope: 0x80, state: 0x0f })).sw, 0x9000);
  assert.equal(raw(card, '00A4040000').sw, 0x9000);
});

test('SSD with Card Lock may lock the card; one without may not (§11.10.2.2)', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  assert.equal(sc(card, isd, installSsd(SSD1, [])).sw, 0x9000);
  assert.equal(sc(card, isd, installSsd('A000000151535344534402', ['CardLock'])).sw, 0x9000);
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  const plain = await open(card, 0x01, { channel: 1 });
  assert.equal(sc(card, plain, { ...buildSetStatus({ scope: 0x80, state: 0x7f }), cla: 0x81 }).sw, 0x6985);
  assert.equal(sc(card, plain, { ...buildSetStatus({ scope: 0x80, state: 0xff }), cla: 0x81 }).sw, 0x6985);
  assert.equal(raw(card, '01A404000BA00000015153534453440200').sw, 0x9000);
  const locker = await open(card, 0x01, { channel: 1 });
  assert.equal(sc(card, locker, { ...buildSetStatus({ scope: 0x80, state: 0x7f }), cla: 0x81 }).sw, 0x9000);
});

test('TERMINATED: only GET DATA; nothing selectable; irreversible', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0xff })).sw, 0x9000);
  assert.deepEqual(sc(card, isd, '80CA004200'), { data: '42020001', sw: 0x9000 });
  card.reset();
  assert.deepEqual(raw(card, '80CA004200'), { data: '42020001', sw: 0x9000 });
  assert.equal(raw(card, '8050300008010203040506070800').sw, 0x6985);
  assert.equal(raw(card, '80F28002024F0000').sw, 0x6985);
  assert.equal(raw(card, '00A4040000').sw, 0x6a81);
  assert.equal(raw(card, '0070000001').sw, 0x6a81);
  card.reset();
  assert.deepEqual(raw(card, '80CA004500'), { data: '45080102030405060708', sw: 0x9000 });
  assert.match(card.serialize(), /"lifeCycle":255/);
});

test('application life cycle: INSTALLED then make selectable (§9.3.7)', async () => {
  const { buildInstallForInstall, buildInstallForMakeSelectable, encodeInstallParameters } = await import('../../src/gp/index.ts');
  const card = newCard();
  const isd = await open(card, 0x01);
  const aid = fromHex('F04F50454E54534D0102');
  assert.equal(sc(card, isd, buildInstallForInstall({
    makeSelectable: false,
    loadFileAid: fromHex(ECHO_ELF_AID),
    moduleAid: fromHex('F04F50454E54534D01'),
    applicationAid: aid,
    privileges: Uint8Array.of(0, 0, 0),
    parameters: encodeInstallParameters({}),
  })).sw, 0x9000);
  assert.match(sc(card, isd, '80F24002024F0000').data, /9F700103/);
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, '01A404000AF04F50454E54534D010200').sw, 0x6a82);
  const ms = buildInstallForMakeSelectable({ applicationAid: aid, privileges: Uint8Array.of(0) });
  assert.equal(sc(card, isd, ms).sw, 0x9000);
  assert.equal(sc(card, isd, ms).sw, 0x6985);
  assert.equal(raw(card, '01A404000AF04F50454E54534D010200').sw, 0x9000);
});
