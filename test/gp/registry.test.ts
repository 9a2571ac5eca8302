import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../../src/apdu/command.ts';
import {
  GetStatusScope,
  buildGetStatus,
  encodeGetStatusEntries,
  encodeLegacyGetStatusEntries,
  encodeRegistryEntry,
  parseGetStatusCommand,
  parseGetStatusResponse,
  parseLegacyGetStatusResponse,
  type RegistryEntry,
} from '../../src/gp/index.ts';
import { assertApdu, assertRejects, cmd, h, toHex } from './helpers.ts';

test('§11.4.2 Tables 11-32..11-35: GET STATUS ISD, 4F00, P2 02 (vector 80F28002024F0000)', () => {
  assertApdu(buildGetStatus({ scope: GetStatusScope.ISD, aid: new Uint8Array(0) }), '80F28002024F0000');
});

test('§11.4.2.3: search by partial AID with tag list (vector data 4F0212345C054F9F70C5)', () => {
  const c = buildGetStatus({ scope: 0x20, aid: h('1234'), tagList: [0x4f, 0x9f70, 0xc5] });
  assert.equal(toHex(encodeCommand(c)), '80F220020A4F0212345C044F9F70C500');
  assert.deepEqual(parseGetStatusCommand(cmd('80F220020A4F0212345C044F9F70C500')), {
    scope: 0x20, aid: h('1234'), next: false, format: 'tlv', tagList: [0x4f, 0x9f70, 0xc5],
  });
  // The published vector codes '5C 05' before 4 tag bytes: not BER-TLV, so the card answers 6A80.
  assertRejects(() => parseGetStatusCommand(cmd('80F220020a4f0212345c054f9f70c5')), 0x6a80, 'BAD_DATA');
});

test('§11.4.2.2 Table 11-34: get next (P2 03) and legacy format (P2 00/01)', () => {
  assertApdu(buildGetStatus({ scope: 0x40, aid: new Uint8Array(0), next: true }), '80F24003024F0000');
  assertApdu(buildGetStatus({ scope: 0x10, aid: new Uint8Array(0), format: 'legacy' }), '80F21000024F0000');
  assert.equal(parseGetStatusCommand(cmd('80F24003024F0000')).next, true);
  assert.equal(parseGetStatusCommand(cmd('80F24000024F0000')).format, 'legacy');
});

test('GET STATUS command: hostile inputs', () => {
  assertRejects(() => parseGetStatusCommand(cmd('80F20802024F0000')), 0x6a86, 'BAD_P1P2'); // P1 RFU
  assertRejects(() => parseGetStatusCommand(cmd('80F2C002024F0000')), 0x6a86, 'BAD_P1P2'); // two scopes
  assertRejects(() => parseGetStatusCommand(cmd('80F24006024F0000')), 0x6a86, 'BAD_P1P2'); // P2 RFU bit
  assertRejects(() => parseGetStatusCommand(cmd('80F28003024F0000')), 0x6a86, 'BAD_P1P2'); // next for ISD
  assertRejects(() => parseGetStatusCommand(cmd('80F2400202C50000')), 0x6a80, 'BAD_DATA'); // wrong first tag
  assertRejects(() => parseGetStatusCommand(cmd('80F24002')), 0x6a80, 'BAD_DATA'); // no data
  assertRejects(() => parseGetStatusCommand(cmd('80F24002034F050000')), 0x6a80, 'TRUNCATED'); // 4F too short
  assertRejects(() => parseGetStatusCommand(cmd('80F24002134F11' + '00'.repeat(17) + '00')), 0x6a80, 'BAD_DATA'); // 17-byte AID
});

const isd: RegistryEntry = {
  aid: h('A000000151000000'),
  lifeCycle: 0x0f,
  privileges: new Set(['SecurityDomain', 'CardLock', 'CardTerminate', 'CardReset', 'CVMManagement', 'TrustedPath', 'AuthorizedManagement',
    'TokenVerification', 'GlobalDelete', 'GlobalLock', 'GlobalRegistry', 'FinalApplication', 'ReceiptGeneration']),
};

test('§11.4.3.1 Table 11-36: application entry bytes', () => {
  const e: RegistryEntry = {
    aid: h('A0000001515350'.padEnd(16, '4')), lifeCycle: 0x07, privileges: new Set(['SecurityDomain']),
    implicitSelection: [0xc0], loadFileAid: h('A0000001515350'), associatedSd: h('A000000151000000'),
  };
  assert.equal(
    toHex(encodeRegistryEntry(e)),
    'E3' + '29' + '4F08A000000151535044' + '9F700107' + 'C503800000' + 'CF01C0' + 'C407A0000001515350' + 'CC08A000000151000000',
  );
  assert.deepEqual(parseGetStatusResponse(encodeRegistryEntry(e)), [e]);
  assert.equal(toHex(encodeRegistryEntry(isd)), 'E3134F08A0000001510000009F70010FC5039EFE80');
});

test('§11.4.3.1 Table 11-37: load file with modules; tag list filters', () => {
  const elf: RegistryEntry = { aid: h('A0000001515350'), lifeCycle: 0x01, loadFileVersion: h('0101'), moduleAids: [h('A000000151535041'), h('A000000151535043')] };
  const bytes = encodeRegistryEntry(elf);
  assert.equal(toHex(bytes), 'E3254F07A00000015153509F700101CE0201018408A0000001515350418408A000000151535043');
  assert.deepEqual(parseGetStatusResponse(bytes), [elf]);
  assert.equal(toHex(encodeRegistryEntry(isd, [0x4f])), 'E30A4F08A000000151000000');
});

test('Table 11-38: 63 10 paging puts whole entries in each page', () => {
  const entries = Array.from({ length: 20 }, (_, i) => ({ ...isd, aid: h('A0000001510000' + i.toString(16).padStart(2, '0')) }));
  const p1 = encodeGetStatusEntries(entries, 256);
  assert.equal(p1.count, 12); // 21 bytes each → 12 fit 256
  assert.equal(p1.more, true);
  assert.equal(p1.data.length, 252);
  const p2 = encodeGetStatusEntries(entries.slice(p1.count), 256);
  assert.equal(p2.more, false);
  assert.deepEqual(parseGetStatusResponse(p1.data).concat(parseGetStatusResponse(p2.data)).map((e) => toHex(e.aid)), entries.map((e) => toHex(e.aid)));
});

test('GET STATUS response: hostile inputs', () => {
  for (const [hex, sw, code] of [
    ['E3054F03A00000', 0x6a80, 'BAD_AID'], // AID too short
    ['E3034F01', 0x6a80, 'TRUNCATED'], // cut inside
    ['E4134F08A0000001510000009F70010FC5039EFE80', 0x6a80, 'BAD_TAG'], // wrong template tag
    ['E3124F08A0000001510000009F70010FC5029EFE', 0x6a80, 'BAD_PRIVILEGES'], // C5 of 2 bytes
    ['E3144F08A0000001510000009F7002000FC5039EFE80', 0x6a80, 'BAD_DATA'], // 9F70 of 2 bytes
    ['E3059F70010F00', 0x6a80, 'BAD_TAG'], // junk padding (00 tag)
    ['E3099F70010FC503800000', 0x6a80, 'BAD_DATA'], // no AID
  ] as const) {
    assertRejects(() => parseGetStatusResponse(h(hex)), sw, code);
  }
});

test('GP 2.2.1 legacy response format (P2.b2 = 0)', () => {
  const apps: RegistryEntry[] = [isd];
  const p = encodeLegacyGetStatusEntries(apps, 0x80);
  assert.equal(toHex(p.data), '08A0000001510000000F9E');
  const back = parseLegacyGetStatusResponse(p.data, 0x80);
  assert.equal(toHex(back[0]!.aid), 'A000000151000000');
  assert.equal(back[0]!.lifeCycle, 0x0f);
  const mods = encodeLegacyGetStatusEntries([{ aid: h('A0000001515350'), lifeCycle: 1, moduleAids: [h('A000000151535041')] }], 0x10);
  assert.equal(toHex(mods.data), '07A0000001515350010001' + '08A000000151535041');
  assert.deepEqual(parseLegacyGetStatusResponse(mods.data, 0x10), [{ aid: h('A0000001515350'), lifeCycle: 1, moduleAids: [h('A000000151535041')] }]);
  assertRejects(() => parseLegacyGetStatusResponse(h('08A0000001510000000F'), 0x80), 0x6a80, 'TRUNCATED');
  assertRejects(() => parseLegacyGetStatusResponse(h('07A0000001515350010002' + '08A000000151535041'), 0x10), 0x6a80, 'TRUNCATED');
});
