/**
 * Card content and key management end to end at the APDU level, through the scp host side and the gp
 * builders (GPCS 2.3.1 §11.2 DELETE, §11.4 GET STATUS, §11.5 INSTALL, §11.8 PUT KEY, §11.10 SET STATUS,
 * §11.11 STORE DATA).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import {
  buildDeleteCardContent,
  buildDeleteKey,
  buildInstallForExtradition,
  buildInstallForInstall,
  buildInstallForPersonalization,
  buildSetStatus,
  buildStoreData,
  encodeInstallParameters,
  encodePrivileges,
} from '../../src/gp/index.ts';
import { ECHO_ELF_AID, ECHO_INSTANCE_AID, ECHO_MODULE_AID } from '../../src/card/index.ts';
import { ISD, SSD1, installSsd, newCard, open, putKeySet, raw, sc } from './helpers.ts';

const K1 = fromHex('11111111111111111111111111111111');
const K2 = fromHex('22222222222222222222222222222222');
const K3 = fromHex('33333333333333333333333333333333');

test('ISD: GET STATUS of the ISD, load files and modules (§11.4.3 Tables 11-36/11-37)', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.deepEqual(sc(card, isd, '80F28002024F0000'), { data: 'E31D4F08A0000001510000009F70010FC5039EDE00CC08A000000151000000', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, '80F21002024F0000'), {
    data:
      'E3254F07A00000015153509F700101CE0201008408A000000151535041CC08A000000151000000' +
      'E3274F08F04F50454E54534D9F700101CE0201008409F04F50454E54534D01CC08A000000151000000',
    sw: 0x9000,
  });
  assert.deepEqual(sc(card, isd, '80F24002024F0000'), { data: '', sw: 0x6a88 });
  // Tag list '5C': only AID and life cycle (§11.4.2.3).
  assert.deepEqual(sc(card, isd, '80F22002074F005C034F9F7000'), { data: 'E30D4F07A00000015153509F700101E30E4F08F04F50454E54534D9F700101', sw: 0x9000 });
});

test('SSD life: install, initial keys FF replaced by PUT KEY, new channel, replace, extradite, lock, delete', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  assert.deepEqual(sc(card, isd, installSsd(SSD1, ['AuthorizedManagement'])), { data: '00', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, '80F24002024F0000'), {
    data: 'E3294F0BA0000001515353445344019F700107C503804000C407A0000001515350CC08A000000151000000',
    sw: 0x9000,
  });

  // The provider opens a channel to its SSD on logical channel 1 with the initial key set (KVN FF).
  assert.deepEqual(raw(card, '0070000001'), { data: '01', sw: 0x9000 });
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  const first = await open(card, 0x33, { channel: 1 });
  assert.equal(first.kvn, 0xff);
  // PUT KEY add KVN 30: response KVN ‖ KCVs (§11.8.3.1); the initial key set disappears.
  assert.deepEqual(sc(card, first, { ...putKeySet(first, 0, 0x30, [K1, K2, K3]), cla: 0x81 }), { data: '30098542C655915F8AF9', sw: 0x9000 });
  assert.deepEqual(sc(card, first, '81CA00E000'), { data: 'E012C00401308810C00402308810C00403308810', sw: 0x9000 });

  // Re-select (closes the session) and authenticate with the new keys.
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  await assert.rejects(open(card, 0x01, { channel: 1, kvn: 0xff }), /6A88/);
  const second = await open(card, 0x13, { channel: 1, keys: { enc: K1, mac: K2, dek: K3 } });
  assert.equal(second.kvn, 0x30);

  // Replace KVN 30 by 31 with new values; a wrong KCV is refused with 6982 and changes nothing.
  const before = card.serialize();
  const bad = putKeySet(second, 0x30, 0x31, [K3, K2, K1]);
  const data = bad.data.slice();
  data[data.length - 1] ^= 0x01; // last KCV byte
  assert.equal(sc(card, second, { ...bad, cla: 0x81, data }).sw, 0x6982);
  assert.equal(card.serialize(), before);
  const third = await open(card, 0x01, { channel: 1, keys: { enc: K1, mac: K2, dek: K3 } });
  assert.deepEqual(sc(card, third, { ...putKeySet(third, 0x30, 0x31, [K3, K2, K1]), cla: 0x81 }).data, '315F8AF9C65591098542');
  assert.deepEqual(sc(card, third, '81CA00E000').data, 'E012C00401318810C00402318810C00403318810');
  // Replacing with another type/length is refused (§11.8.2.3.3).
  assert.equal(sc(card, third, { ...putKeySet(third, 0x31, 0x31, [fromHex('00112233445566778899AABBCCDDEEFF0011223344556677')]), cla: 0x81, p2: 0x01 }).sw, 0x6a80);

  // Extradite the SSD to itself (§9.4.1): it is no longer associated with the ISD (no personalisation through
  // it), though the ISD still lists it (Global Registry) and may lock it (Global Lock).
  assert.deepEqual(sc(card, isd, buildInstallForExtradition({ sdAid: fromHex(SSD1), aid: fromHex(SSD1) })), { data: '00', sw: 0x9000 });
  assert.match(sc(card, isd, '80F24002024F0000').data, new RegExp(`CC0B${SSD1}$`));
  assert.equal(sc(card, isd, buildInstallForPersonalization(fromHex(SSD1))).sw, 0x6a88);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x80, aid: fromHex(SSD1) })).sw, 0x9000);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x00, aid: fromHex(SSD1) })).sw, 0x9000);
  // The SSD's own view: no applications associated with it yet.
  assert.equal(sc(card, third, { cla: 0x81, ins: 0xf2, p1: 0x40, p2: 0x02, data: fromHex('4F00'), le: 256 }).sw, 0x6a88);
});

test('SET STATUS: lock and unlock an SSD and its applications; locked SSD cannot be selected (§9.6.2)', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  assert.equal(sc(card, isd, installSsd(SSD1, ['AuthorizedManagement'])).sw, 0x9000);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x80, aid: fromHex(SSD1) })).sw, 0x9000);
  assert.match(sc(card, isd, '80F24002024F0000').data, /9F700187/);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x80, aid: fromHex(SSD1) })).sw, 0x6985); // already locked
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x6a82);
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x00, aid: fromHex(SSD1) })).sw, 0x9000);
  assert.match(sc(card, isd, '80F24002024F0000').data, /9F700107/);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  // P1 '60': the SSD and its sub-hierarchy.
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x60, state: 0x80, aid: fromHex(SSD1) })).sw, 0x9000);
  assert.match(sc(card, isd, '80F24002024F0000').data, /9F700187/);
  // The ISD itself is addressed with P1 '80' only.
  assert.equal(sc(card, isd, buildSetStatus({ scope: 0x40, state: 0x80, aid: fromHex(ISD) })).sw, 0x6a80);
});

test('applet: INSTALL echo, SELECT, commands, personalisation via STORE DATA, DELETE (§9.3, §7.3.2, §9.5)', async () => {
  const card = newCard();
  const isd = await open(card, 0x03);
  const install = buildInstallForInstall({
    makeSelectable: true,
    loadFileAid: fromHex(ECHO_ELF_AID),
    moduleAid: fromHex(ECHO_MODULE_AID),
    applicationAid: fromHex(ECHO_INSTANCE_AID),
    privileges: encodePrivileges(new Set()),
    parameters: encodeInstallParameters({ applicationSpecific: fromHex('00000005') }),
  });
  assert.deepEqual(sc(card, isd, install), { data: '00', sw: 0x9000 });
  assert.equal(sc(card, isd, install).sw, 0x6a80); // AID in use
  // Personalisation through the associated SD.
  assert.deepEqual(sc(card, isd, buildInstallForPersonalization(fromHex(ECHO_INSTANCE_AID))), { data: '00', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, buildStoreData(encodeTlv(0x5f20, fromHex('4A4F484E')), 0, true, { format: 'ber' })), { data: '', sw: 0x9000 });

  assert.deepEqual(raw(card, '0070000001'), { data: '01', sw: 0x9000 });
  assert.deepEqual(raw(card, `01A404000A${ECHO_INSTANCE_AID}00`), { data: `6F0C840A${ECHO_INSTANCE_AID}`, sw: 0x9000 });
  assert.deepEqual(raw(card, '8110000003ABCDEF00'), { data: 'ABCDEF', sw: 0x9000 });
  assert.deepEqual(raw(card, '812000000400'.slice(0, 8) + '00'), { data: '00000006', sw: 0x9000 });
  assert.deepEqual(raw(card, '81CA5F2000'), { data: '5F20044A4F484E', sw: 0x9000 });
  // Partial selection by the load-file AID prefix finds the instance (ISO 7816-4 partial DF name).
  assert.equal(raw(card, `01A4040008${ECHO_ELF_AID}00`).sw, 0x9000);

  // Selected on channel 1: DELETE refused; after closing the channel it goes.
  assert.equal(sc(card, isd, buildDeleteCardContent(fromHex(ECHO_INSTANCE_AID))).sw, 0x6985);
  assert.equal(raw(card, '0070800100').sw, 0x9000);
  assert.equal(sc(card, isd, buildDeleteCardContent(fromHex(ECHO_ELF_AID))).sw, 0x6985); // instances exist
  assert.deepEqual(sc(card, isd, buildDeleteCardContent(fromHex(ECHO_ELF_AID), { related: true })), { data: '00', sw: 0x9000 });
  assert.equal(sc(card, isd, buildDeleteCardContent(fromHex(ECHO_INSTANCE_AID))).sw, 0x6a88);
  assert.equal(raw(card, `00A404000A${ECHO_INSTANCE_AID}00`).sw, 0x6a82);
});

test('DELETE [key] (§11.2.2.3.2) and SSD deletion', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  assert.equal(sc(card, isd, installSsd(SSD1, [])).sw, 0x9000);
  assert.equal(sc(card, isd, buildDeleteKey({ kvn: 0x7e })).sw, 0x6a88);
  assert.deepEqual(sc(card, isd, buildDeleteCardContent(fromHex(SSD1))), { data: '00', sw: 0x9000 });
  assert.equal(sc(card, isd, buildDeleteCardContent(fromHex(ISD))).sw, 0x6985);
  assert.deepEqual(sc(card, isd, buildDeleteKey({ kvn: 0x30, keyId: 3 })), { data: '00', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, '80CA00E000').data, 'E00CC00401308810C00402308810');
});

test('SSD keys through the ISD: INSTALL [for personalization] + STORE DATA DGI 00B9/8113 (§11.11.4.1)', async () => {
  const { encodeDgi } = await import('../../src/gp/index.ts');
  const { kcvFor } = await import('../../src/gp/index.ts');
  const { concat } = await import('../../src/core/bytes.ts');
  const card = newCard({ ssdInitialKeys: null });
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(SSD1, [])).sw, 0x9000);
  assert.equal(sc(card, isd, buildInstallForPersonalization(fromHex(SSD1))).sw, 0x9000);
  const crt = (kid: number, key: Uint8Array) =>
    encodeTlv(0xb9, concat(encodeTlv(0x95, Uint8Array.of(kid === 3 ? 0x48 : kid === 2 ? 0x34 : 0x38)), encodeTlv(0x80, Uint8Array.of(0x88)),
      encodeTlv(0x81, Uint8Array.of(16)), encodeTlv(0x82, Uint8Array.of(kid)), encodeTlv(0x83, Uint8Array.of(0x30)), encodeTlv(0x84, kcvFor(0x88, key))));
  const keys = [K1, K2, K3];
  const data = concat(encodeDgi(0x00b9, concat(...keys.map((k, n) => crt(n + 1, k)))), ...keys.map((k) => encodeDgi(0x8113, isd.encryptSensitiveData(k))));
  assert.deepEqual(sc(card, isd, buildStoreData(data, 0, true, { format: 'dgi', encryption: 'encrypted' })), { data: '', sw: 0x9000 });
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${SSD1}00`).sw, 0x9000);
  const ssd = await open(card, 0x03, { channel: 1, keys: { enc: K1, mac: K2, dek: K3 } });
  assert.equal(ssd.kvn, 0x30);
  // Loaded with a key usage: extended Key Information Data (Table 11-29).
  assert.deepEqual(sc(card, ssd, '81CA00E000'), { data: 'E021C0090130FF880010013800C0090230FF880010013400C0090330FF880010014800', sw: 0x9000 });
});
