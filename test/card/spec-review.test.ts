/**
 * Regression tests from a review of the card against GP Card Specification 2.3.1: privilege assignment
 * (§6.6.2), CARD_LOCKED / Final Application selection (§5.1.1.4, §6.6.3), LOCKED entries (§5.3.1.3),
 * DELETE needs Authorized Management (§9.5.1), extradition of a load file (§9.4.1), GET DATA '67',
 * GET STATUS with Global Registry (§11.4.2.3), and no 6Cxx after a state change (ISO/IEC 7816-4 §5.3.4).
 * Each refusal is checked to leave the persistent state as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../src/core/bytes.ts';
import { encodeCommand } from '../../src/apdu/command.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import {
  buildDeleteCardContent,
  buildDeleteKey,
  buildInstallForExtradition,
  buildInstallForRegistryUpdate,
  buildSetStatus,
  buildStoreData,
} from '../../src/gp/index.ts';
import { ECHO_ELF_AID, type SimulatedCard } from '../../src/card/index.ts';
import { toHex } from '../../src/core/bytes.ts';
import { SSD1, installSsd, newCard, open, putKeySet, raw, sc } from './helpers.ts';

const SSD2 = 'A000000151535344534402';
const SSD3 = 'A000000151535344534403';
const K1 = fromHex('11111111111111111111111111111111');

/** ISD entry of GET STATUS P1 80 with privileges `c5` (3 bytes hex). */
const isdEntry = (c5: string, lc = '0F') => `E31D4F08A0000001510000009F7001${lc}C503${c5}CC08A000000151000000`;

/** Run `fn`, assert it answers `sw` and that the persistent state did not move. */
function refusedUnchanged(card: SimulatedCard, fn: () => { sw: number }, sw: number): void {
  const before = card.serialize();
  assert.equal(fn().sw, sw);
  assert.equal(card.serialize(), before);
}

test('§6.6.2 Card Reset: given away only by the ISD, refused (6985) while an application holds it, back to the ISD on delete', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.deepEqual(sc(card, isd, installSsd(SSD1, ['CardReset'])), { data: '00', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, '80F28002024F0000'), { data: isdEntry('9ADE00'), sw: 0x9000 });
  refusedUnchanged(card, () => sc(card, isd, installSsd(SSD2, ['CardReset'])), 0x6985);
  assert.deepEqual(sc(card, isd, buildDeleteCardContent(fromHex(SSD1))), { data: '00', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, '80F28002024F0000'), { data: isdEntry('9EDE00'), sw: 0x9000 });
  assert.deepEqual(sc(card, isd, installSsd(SSD2, ['CardReset'])), { data: '00', sw: 0x9000 });
});

test('§6.6.2 revoking Card Reset with INSTALL [for registry update] gives it back to the ISD', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(SSD1, ['CardReset'])).sw, 0x9000);
  const revoke = buildInstallForRegistryUpdate({ applicationAid: fromHex(SSD1), privileges: fromHex('800000') });
  assert.deepEqual(sc(card, isd, revoke), { data: '00', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, '80F28002024F0000'), { data: isdEntry('9EDE00'), sw: 0x9000 });
  // …and a registry update that asks for Card Reset while another application holds it changes nothing.
  assert.equal(sc(card, isd, installSsd(SSD2, ['CardReset'])).sw, 0x9000);
  refusedUnchanged(card, () => sc(card, isd, buildInstallForRegistryUpdate({ applicationAid: fromHex(SSD1), privileges: fromHex('840000') })), 0x6985);
});

test('§6.6.2 Delegated Management excludes Token Verification and Receipt Generation (6A80)', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  refusedUnchanged(card, () => sc(card, isd, installSsd(SSD1, ['DelegatedManagement', 'TokenVerification'])), 0x6a80);
  refusedUnchanged(card, () => sc(card, isd, installSsd(SSD1, ['DelegatedManagement', 'ReceiptGeneration'])), 0x6a80);
  assert.equal(sc(card, isd, installSsd(SSD1, ['AuthorizedManagement', 'TokenVerification', 'ReceiptGeneration'])).sw, 0x9000);
});

test('§5.1.1.4, §6.6.3 Final Application: unique; in CARD_LOCKED only its holder is selectable and default selected', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(SSD3, ['FinalApplication', 'CardLock'])).sw, 0x9000);
  assert.deepEqual(sc(card, isd, '80F28002024F0000'), { data: isdEntry('9EDC00'), sw: 0x9000 });
  refusedUnchanged(card, () => sc(card, isd, installSsd(SSD2, ['FinalApplication'])), 0x6985);
  assert.equal(sc(card, isd, installSsd(SSD1, ['CardLock'])).sw, 0x9000);

  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x80, state: 0x7f })).sw, 0x9000);
  // The ISD no longer holds Final Application: it is neither selectable nor served while the card is locked.
  assert.equal(raw(card, '80CA004200').sw, 0x6985);
  assert.equal(raw(card, '00A4040000').sw, 0x6a81);
  assert.equal(raw(card, `00A404000B${SSD1}00`).sw, 0x6a81); // Card Lock alone does not make an SD selectable
  // After reset the Final Application is the default selection: its GET DATA '66' names SCP03 (its own data).
  card.reset();
  assert.equal(raw(card, '80CA004200').sw, 0x6a88); // no '42' stored in SSD3: not the ISD answering
  const select = raw(card, `00A404000B${SSD3}00`);
  assert.equal(select.sw, 0x6283);
  const fa = await open(card, 0x01);
  assert.equal(sc(card, fa, buildSetStatus({ scope: 0x80, state: 0x0f })).sw, 0x9000);
  assert.equal(raw(card, '00A4040000').sw, 0x9000);
});

test('§9.5.1 DELETE of card content needs Authorized Management (6985); DELETE [key] does not', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(SSD1, [])).sw, 0x9000);
  assert.equal(sc(card, isd, installSsd(SSD2, [])).sw, 0x9000);
  assert.equal(sc(card, isd, buildInstallForExtradition({ sdAid: fromHex(SSD1), aid: fromHex(SSD2) })).sw, 0x9000);
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  const ssd = await open(card, 0x03, { channel: 1 });
  refusedUnchanged(card, () => sc(card, ssd, buildDeleteCardContent(fromHex(SSD2), { cla: 0x81 })), 0x6985);
  assert.deepEqual(sc(card, ssd, { ...putKeySet(ssd, 0, 0x30, [K1, K1, K1]), cla: 0x81 }).sw, 0x9000);
  assert.deepEqual(sc(card, ssd, buildDeleteKey({ kvn: 0x30, keyId: 3 }, 0x81)), { data: '00', sw: 0x9000 });
});

test('§5.3.1.3 an SSD locked while selected on another channel receives no more commands (6985)', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(SSD1, [])).sw, 0x9000);
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  const ssd = await open(card, 0x01, { channel: 1 });
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x80, aid: fromHex(SSD1) })).sw, 0x9000);
  const before = card.serialize();
  assert.deepEqual(raw(card, toHex(ssd.wrapCommand(encodeCommand({ ...putKeySet(ssd, 0, 0x30, [K1, K1, K1]), cla: 0x81 })))), { data: '', sw: 0x6985 });
  assert.deepEqual(raw(card, '81CA004200'), { data: '', sw: 0x6985 });
  assert.deepEqual(raw(card, '8150000008010203040506070800'), { data: '', sw: 0x6985 });
  assert.equal(card.serialize(), before);
  // Unlocked, it is selectable again.
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x00, aid: fromHex(SSD1) })).sw, 0x9000);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
});

test('§9.4.1 a load file cannot be extradited to an SD with DAP Verification (6985)', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(SSD1, ['DAPVerification'])).sw, 0x9000);
  refusedUnchanged(card, () => sc(card, isd, buildInstallForExtradition({ sdAid: fromHex(SSD1), aid: fromHex(ECHO_ELF_AID) })), 0x6985);
});

test("§11.3.2.1 GET DATA '67' returns the Card Capability Information once stored", async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.deepEqual(sc(card, isd, '80CA006700'), { data: '', sw: 0x6a88 });
  assert.deepEqual(sc(card, isd, buildStoreData(fromHex('67038101FF'), 0, true, { format: 'ber' })), { data: '', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, '80CA006700'), { data: '67038101FF', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, '00CA006700'), { data: '8101FF', sw: 0x9000 });
});

test('§11.4.2.3 an SSD with Global Registry sees every entry, itself included', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(SSD1, ['GlobalRegistry'])).sw, 0x9000);
  assert.equal(sc(card, isd, installSsd(SSD2, [])).sw, 0x9000);
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  const ssd = await open(card, 0x03, { channel: 1 });
  assert.deepEqual(sc(card, ssd, '81F240020A4F05A0000001515C014F00'), {
    data: `E30D4F0B${SSD1}E30D4F0B${SSD2}`,
    sw: 0x9000,
  });
  assert.deepEqual(sc(card, ssd, '81CA2F0002 5C0000'.replace(' ', '')), { data: `610D4F0B${SSD1}610D4F0B${SSD2}`, sw: 0x9000 });
});

test('ISO/IEC 7816-4 §5.3.4: a short Le on a command that changed state gives 61xx, never 6Cxx (no second run)', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  const put = { ...putKeySet(isd, 0, 0x31, [K1, K1, K1]), le: 1 };
  const first = decodeResponse(card.process(isd.wrapCommand(encodeCommand(put))));
  assert.deepEqual({ data: toHex(first.data), sw: first.sw }, { data: '31', sw: 0x6109 });
  assert.deepEqual(raw(card, '00C0000009'), { data: '098542098542098542', sw: 0x9000 });
  assert.match(sc(card, isd, '80CA00E000').data, /C00401318810/);
  // A read-only command keeps the 6Cxx answer.
  card.reset();
  assert.deepEqual(raw(card, '80CA9F7F10'), { data: '', sw: 0x6c2d });
});


test('§11.8 PUT KEY: a lone key added under a new KVN keeps the initial key set FF; a whole ENC/MAC/DEK set removes it', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(SSD1, [])).sw, 0x9000);
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  const ssd = await open(card, 0x03, { channel: 1 });
  const one = (kvn: number, kid: number) => ({ ...putKeySet(ssd, 0, kvn, [K1]), p2: kid, cla: 0x81 });
  assert.deepEqual(sc(card, ssd, one(0x73, 1)), { data: '73098542', sw: 0x9000 });
  assert.deepEqual(sc(card, ssd, '81CA00E000'), { data: 'E018C00401738810C00401FF8810C00402FF8810C00403FF8810', sw: 0x9000 });
  assert.equal(sc(card, ssd, one(0x30, 1)).sw, 0x9000);
  assert.equal(sc(card, ssd, one(0x30, 2)).sw, 0x9000);
  assert.match(sc(card, ssd, '81CA00E000').data, /C00401FF8810/);
  assert.equal(sc(card, ssd, one(0x30, 3)).sw, 0x9000);
  assert.deepEqual(sc(card, ssd, '81CA00E000'), { data: 'E018C00401308810C00402308810C00403308810C00401738810', sw: 0x9000 });
});

test('§6.4.2.2 MANAGE CHANNEL open with P2 00 selects the application implicitly selectable on the channel opened', async () => {
  const { buildInstallForInstall, encodeInstallParameters } = await import('../../src/gp/index.ts');
  const card = newCard();
  const isd = await open(card, 0x03);
  const aid = 'F04F50454E54534D0102';
  assert.equal(sc(card, isd, buildInstallForInstall({
    makeSelectable: true,
    loadFileAid: fromHex(ECHO_ELF_AID),
    moduleAid: fromHex('F04F50454E54534D01'),
    applicationAid: fromHex(aid),
    privileges: Uint8Array.of(0, 0, 0),
    parameters: encodeInstallParameters({ applicationSpecific: new Uint8Array(0), system: { implicitSelection: [0x41] } }),
  })).sw, 0x9000);
  assert.deepEqual(raw(card, '0070000001'), { data: '01', sw: 0x9000 });
  assert.deepEqual(raw(card, '811000000301020300'), { data: '010203', sw: 0x9000 }); // the echo applet answers
  assert.deepEqual(raw(card, '0070000001'), { data: '02', sw: 0x9000 });
  assert.deepEqual(raw(card, '82CA004200'), { data: '42020001', sw: 0x9000 }); // channel 2: the ISD
  // Locked, it gives way to the Final Application (the ISD).
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x80, aid: fromHex(aid) })).sw, 0x9000);
  assert.equal(raw(card, '0070800100').sw, 0x9000);
  assert.deepEqual(raw(card, '0070000001'), { data: '01', sw: 0x9000 });
  assert.deepEqual(raw(card, '81CA004200'), { data: '42020001', sw: 0x9000 });
});

test('SCP03 §7.1.2: a command between INITIALIZE UPDATE and EXTERNAL AUTHENTICATE abandons the handshake (6985)', async () => {
  const { openSecureChannel } = await import('../../src/scp/index.ts');
  const { KEYS40 } = await import('./helpers.ts');
  const card = newCard();
  let n = 0;
  await assert.rejects(
    openSecureChannel(async (apdu) => {
      if (n++ === 1) assert.deepEqual(raw(card, '80CA004200'), { data: '42020001', sw: 0x9000 }); // before EXTERNAL AUTHENTICATE
      return card.process(apdu);
    }, { keys: KEYS40, level: 0x01, hostChallenge: fromHex('0102030405060708') }),
    (e: Error) => /6985/.test(e.message),
  );
});

test('fuzz F1, §11.8.2.3: PUT KEY with an 8-byte AES key component answers 6A80 (was 6F00), state unchanged', () => {
  const card = newCard();
  assert.deepEqual(raw(card, '8050000008010203040506070800'), {
    data: '0001020304050607080930037086C8BD65FA1044EE6FC51322827B8771000001',
    sw: 0x9000,
  });
  assert.deepEqual(raw(card, '8482010010413C192ED534872184177B5729AA6ADE'), { data: '', sw: 0x9000 });
  const before = card.serialize();
  assert.deepEqual(raw(card, '84D8000120308811084533BFD23699FC7C142D20BB1A4A191F03000000321D272E12D16DA2'), { data: '', sw: 0x6a80 });
  assert.equal(card.serialize(), before);
});
