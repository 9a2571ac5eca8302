/**
 * INSTALL [for load] + LOAD (GPCS 2.3.1 §9.3.5, §11.6), Load File Data Block Hash (C.2) and DAP
 * verification with an AES DAP key (C.3, B.2.2), the load file format of `src/card/load-file.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { buildInstallForInstall, buildInstallForLoad, buildLoadCommands, buildPutKey, encodeInstallParameters, encodeLoadFile, kcvFor } from '../../src/gp/index.ts';
import { EchoApplet, computeDap, createCard, defaultCatalogue, encodeLoadFileDataBlock, loadFileDataBlockHash } from '../../src/card/index.ts';
import { counterRandom, installSsd, open, raw, sc } from './helpers.ts';

const ELF = 'F04F50454E54534D4C';
const MODULE = 'F04F50454E54534D4C01';
const DAP_SSD = 'A00000015153534453440D';
const DAP_KEY = fromHex('0F0E0D0C0B0A09080706050403020100');

function cardWithLoadable() {
  const catalogue = defaultCatalogue().register(fromHex(ELF), [[fromHex(MODULE), () => new EchoApplet()]]);
  const card = createCard({ catalogue, random: counterRandom() });
  card.powerOn();
  return card;
}

const block = encodeLoadFileDataBlock({ elf: fromHex(ELF), version: fromHex('0102'), modules: [fromHex(MODULE)], code: new Uint8Array(300).fill(0x5a) });

test('load with SHA-256 hash in three blocks, then install from it', async () => {
  const card = cardWithLoadable();
  const isd = await open(card, 0x03);
  const hash = loadFileDataBlockHash(block, 32);
  assert.deepEqual(sc(card, isd, buildInstallForLoad({ loadFileAid: fromHex(ELF), loadFileDataBlockHash: hash })), { data: '00', sw: 0x9000 });
  const cmds = buildLoadCommands(encodeLoadFile({ loadFileDataBlock: block }), 150);
  assert.equal(cmds.length, 3);
  for (const c of cmds) assert.deepEqual(sc(card, isd, c), { data: '00', sw: 0x9000 });
  assert.deepEqual(sc(card, isd, `80F220020B4F09${ELF}00`), {
    data: `E31D4F09${ELF}9F700101CE020102CC08A000000151000000`,
    sw: 0x9000,
  });
  const install = buildInstallForInstall({
    makeSelectable: true,
    loadFileAid: fromHex(ELF),
    moduleAid: fromHex(MODULE),
    applicationAid: fromHex(`${MODULE}01`),
    privileges: Uint8Array.of(0),
    parameters: encodeInstallParameters({}),
  });
  assert.deepEqual(sc(card, isd, install), { data: '00', sw: 0x9000 });
  assert.deepEqual(raw(card, `00A404000B${MODULE}0100`).sw, 0x9000);
});

test('LOAD refusals: no INSTALL [for load] 6985, block out of order 6A86, hash mismatch 6A80 — nothing registered', async () => {
  const card = cardWithLoadable();
  const isd = await open(card, 0x01);
  const before = card.serialize();
  const cmds = buildLoadCommands(encodeLoadFile({ loadFileDataBlock: block }), 150);
  assert.equal(sc(card, isd, cmds[0]!).sw, 0x6985);
  assert.equal(sc(card, isd, buildInstallForLoad({ loadFileAid: fromHex(ELF) })).sw, 0x9000);
  assert.equal(sc(card, isd, cmds[1]!).sw, 0x6a86);
  assert.equal(sc(card, isd, cmds[0]!).sw, 0x6985); // the load was abandoned
  const wrongHash = new Uint8Array(20);
  assert.equal(sc(card, isd, buildInstallForLoad({ loadFileAid: fromHex(ELF), loadFileDataBlockHash: wrongHash })).sw, 0x9000);
  assert.equal(sc(card, isd, cmds[0]!).sw, 0x9000);
  assert.equal(sc(card, isd, cmds[1]!).sw, 0x9000);
  assert.equal(sc(card, isd, cmds[2]!).sw, 0x6a80);
  // A load file whose code the card does not know.
  const unknown = encodeLoadFileDataBlock({ elf: fromHex('F0000000000001'), modules: [fromHex('F000000000000101')] });
  assert.equal(sc(card, isd, buildInstallForLoad({ loadFileAid: fromHex('F0000000000001') })).sw, 0x9000);
  assert.equal(sc(card, isd, buildLoadCommands(encodeLoadFile({ loadFileDataBlock: unknown }))[0]!).sw, 0x6a80);
  assert.equal(card.serialize(), before);
});

test('DAP verification (C.3): SSD with DAP Verification privilege and an AES DAP key', async () => {
  const card = cardWithLoadable();
  const isd = await open(card, 0x03);
  assert.equal(sc(card, isd, installSsd(DAP_SSD, ['DAPVerification', 'AuthorizedManagement'])).sw, 0x9000);
  // DAP key KVN 73 KID 01, loaded over the SSD's own channel.
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${DAP_SSD}00`).sw, 0x9000);
  const ssd = await open(card, 0x03, { channel: 1 });
  const putDap = buildPutKey(
    { replaceKvn: 0, newKvn: 0x73, keyId: 1, keys: [{ components: [{ type: 0x88, value: DAP_KEY }], kcv: kcvFor(0x88, DAP_KEY) }] },
    (p) => ssd.encryptKeyData(p),
  );
  assert.equal(sc(card, ssd, { ...putDap, cla: 0x81 }).sw, 0x9000);

  const hash = loadFileDataBlockHash(block, 32);
  const loadFor = (dap?: Uint8Array) => {
    assert.equal(sc(card, isd, buildInstallForLoad({ loadFileAid: fromHex(ELF), sdAid: fromHex(DAP_SSD), loadFileDataBlockHash: hash })).sw, 0x9000);
    const file = encodeLoadFile({ loadFileDataBlock: block, ...(dap ? { dapBlocks: [{ sdAid: fromHex(DAP_SSD), signature: dap }] } : {}) });
    return buildLoadCommands(file, 200).map((c) => sc(card, isd, c).sw).at(-1);
  };
  assert.equal(loadFor(), 0x6982); // DAP block missing
  assert.equal(loadFor(new Uint8Array(16)), 0x6982); // wrong signature
  const dap = computeDap({ type: 0x88, value: DAP_KEY }, hash);
  assert.equal(toHex(dap).length, 32);
  assert.equal(loadFor(dap), 0x9000);
  assert.match(sc(card, isd, '80F22002024F0000').data, new RegExp(`4F09${ELF}9F700101CE020102CC0B${DAP_SSD}`));
});

test('§9.3.5 Mandated DAP: enforced by a PERSONALIZED Verification Authority SD only (6982 without its DAP block)', async () => {
  const card = cardWithLoadable();
  const isd = await open(card, 0x03);
  const VA = 'A00000015153534453440E';
  assert.equal(sc(card, isd, installSsd(VA, ['MandatedDAPVerification'])).sw, 0x9000);
  const hash = loadFileDataBlockHash(block, 32);
  const load = () => {
    assert.equal(sc(card, isd, buildInstallForLoad({ loadFileAid: fromHex(ELF), loadFileDataBlockHash: hash })).sw, 0x9000);
    return buildLoadCommands(encodeLoadFile({ loadFileDataBlock: block }), 200).map((c) => sc(card, isd, c).sw);
  };
  // SELECTABLE (not yet personalised, no DAP key): it does not take part in loading.
  assert.deepEqual(load(), [0x9000, 0x9000]);
  assert.equal(sc(card, isd, `80E400000B4F09${ELF}00`).sw, 0x9000);
  // Personalised (it moves itself to PERSONALIZED, §11.10.2.2): every load needs its DAP.
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  assert.equal(raw(card, `01A404000B${VA}00`).sw, 0x9000);
  const va = await open(card, 0x01, { channel: 1 });
  assert.equal(sc(card, va, `81F0400F0B${VA}`).sw, 0x9000);
  const before = card.serialize();
  assert.deepEqual(load(), [0x9000, 0x6982]);
  assert.equal(card.serialize(), before);
});
