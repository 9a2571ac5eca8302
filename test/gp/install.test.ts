import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildInstall,
  buildInstallForExtradition,
  buildInstallForInstall,
  buildInstallForLoad,
  buildInstallForMakeSelectable,
  buildInstallForPersonalization,
  buildInstallForRegistryUpdate,
  encodeConfirmationResponse,
  encodeInstallParameters,
  encodeLoadParameters,
  encodeSdInstallParameters,
  parseConfirmationResponse,
  parseInstallCommand,
  parseInstallParameters,
  parseLoadParameters,
  parseSdInstallParameters,
  InstallP1,
  InstallP2,
} from '../../src/gp/index.ts';
import { assertApdu, assertRejects, cmd, h, toHex } from './helpers.ts';

const ELF = h('A0000001515350');
const MOD = h('A000000151535041');
const APP = h('A0000001515350415344');
const ISD = h('A000000151000000');

test('§11.5.2.3.1 Table 11-42: INSTALL [for load]', () => {
  const c = buildInstallForLoad({ loadFileAid: ELF, sdAid: ISD });
  assertApdu(c, '80E6020014' + '07A0000001515350' + '08A000000151000000' + '00' + '00' + '00' + '00');
  assert.deepEqual(parseInstallCommand(c), { kind: 'load', loadFileAid: ELF, sdAid: ISD });
  const withHash = buildInstallForLoad({ loadFileAid: ELF, loadFileDataBlockHash: h('11'.repeat(20)), parameters: h('EF04C6020100'), token: h('22') });
  assertApdu(withHash, '80E6020027' + '07A0000001515350' + '00' + '14' + '11'.repeat(20) + '06EF04C6020100' + '0122' + '00');
  assert.deepEqual(parseInstallCommand(withHash), {
    kind: 'load', loadFileAid: ELF, loadFileDataBlockHash: h('11'.repeat(20)), parameters: h('EF04C6020100'), token: h('22'),
  });
});

test('§11.5.2.3.2 Table 11-43: INSTALL [for install and make selectable] of an SSD with SCP03 i=70', () => {
  const c9 = encodeSdInstallParameters({ scp: { id: 0x03, i: 0x70 } });
  assert.equal(toHex(c9), '81020370');
  const params = encodeInstallParameters({ applicationSpecific: c9 });
  assert.equal(toHex(params), 'C90481020370');
  const c = buildInstallForInstall({ makeSelectable: true, loadFileAid: ELF, moduleAid: MOD, applicationAid: APP, privileges: h('800000'), parameters: params });
  assertApdu(c, '80E60C0028' + '07A0000001515350' + '08A000000151535041' + '0AA0000001515350415344' + '03800000' + '06C90481020370' + '00' + '00');
  assert.deepEqual(parseInstallCommand(c), {
    kind: 'install', makeSelectable: true, loadFileAid: ELF, moduleAid: MOD, applicationAid: APP, privileges: h('800000'), parameters: params,
  });
  assert.deepEqual(parseSdInstallParameters(c9), { scp: { id: 3, i: 0x70 } });
});

test('§11.5.2.3.3-6 Tables 11-44..11-47: make selectable, extradition, registry update, personalization', () => {
  const ms = buildInstallForMakeSelectable({ applicationAid: MOD, privileges: h('04') });
  assertApdu(ms, '80E608000F' + '0000' + '08A000000151535041' + '0104' + '00' + '00' + '00');
  assert.deepEqual(parseInstallCommand(ms), { kind: 'makeSelectable', applicationAid: MOD, privileges: h('04') });

  const ex = buildInstallForExtradition({ sdAid: APP, aid: MOD });
  assertApdu(ex, '80E6100018' + '0AA0000001515350415344' + '00' + '08A000000151535041' + '00' + '00' + '00' + '00');
  assert.deepEqual(parseInstallCommand(ex), { kind: 'extradition', sdAid: APP, aid: MOD });

  const ru = buildInstallForRegistryUpdate({ applicationAid: MOD, privileges: h('800400') });
  assertApdu(ru, '80E6400011' + '00' + '00' + '08A000000151535041' + '03800400' + '00' + '00' + '00');
  assert.deepEqual(parseInstallCommand(ru), { kind: 'registryUpdate', applicationAid: MOD, privileges: h('800400') });

  const pe = buildInstallForPersonalization(MOD);
  assertApdu(pe, '80E620000E' + '0000' + '08A000000151535041' + '000000' + '00');
  assert.deepEqual(parseInstallCommand(pe), { kind: 'personalization', applicationAid: MOD });
});

test('§11.5.2.2: combined load, install and make selectable (P1 0E, P2 01 / 03)', () => {
  const first = buildInstall({ kind: 'load', loadFileAid: ELF }, { p1: InstallP1.LOAD_INSTALL_AND_MAKE_SELECTABLE, p2: InstallP2.COMBINED_BEGIN });
  assertApdu(first, '80E60E010C07A0000001515350' + '00000000' + '00');
  assert.equal(parseInstallCommand(first).kind, 'load');
  const last = buildInstall(
    { kind: 'install', makeSelectable: true, applicationAid: MOD, privileges: h('00'), parameters: h('C900') },
    { p1: InstallP1.LOAD_INSTALL_AND_MAKE_SELECTABLE, p2: InstallP2.COMBINED_END },
  );
  assertApdu(last, '80E60E0311' + '00' + '00' + '08A000000151535041' + '0100' + '02C900' + '00' + '00');
  assert.equal(parseInstallCommand(last).kind, 'install');
});

test('§11.5.2.3.7 Tables 11-48, 11-49: parameters', () => {
  const p = encodeInstallParameters({ applicationSpecific: h('0102'), system: { volatileMemory: 0x100, nonVolatileMemory: 40000, implicitSelection: [0x80] } });
  assert.equal(toHex(p), 'C9020102' + 'EF0D' + 'C7020100' + 'C80400009C40' + 'CF0180');
  assert.deepEqual(parseInstallParameters(p), { applicationSpecific: h('0102'), system: { volatileMemory: 0x100, nonVolatileMemory: 40000, implicitSelection: [0x80] } });
  assert.equal(toHex(encodeInstallParameters({})), 'C900');
  assert.equal(toHex(encodeInstallParameters({ system: { restrict: 0x02 } }, false)), 'EF03D90102');
  const lp = encodeLoadParameters({ system: { nonVolatileCodeMin: 0x1234 } });
  assert.equal(toHex(lp), 'EF04C6021234');
  assert.deepEqual(parseLoadParameters(lp), { system: { nonVolatileCodeMin: 0x1234 } });
  assertRejects(() => parseInstallParameters(h('C900EF03C70101')), 0x6a80, 'BAD_DATA'); // 1-byte quota
  assertRejects(() => parseInstallParameters(h('C902')), 0x6a80, 'TRUNCATED');
});

test('Table 11-54: INSTALL/LOAD/DELETE response', () => {
  assert.equal(toHex(encodeConfirmationResponse()), '00');
  assert.equal(toHex(encodeConfirmationResponse(h('AABB'))), '02AABB');
  assert.deepEqual(parseConfirmationResponse(h('00')), new Uint8Array(0));
  assertRejects(() => parseConfirmationResponse(h('02AA')), 0x6a80, 'TRUNCATED');
  assertRejects(() => parseConfirmationResponse(h('0000')), 0x6a80, 'TRAILING_DATA');
});

test('INSTALL command: hostile inputs', () => {
  // [P1 P2, data]: Lc is computed so that only the data field is hostile.
  const rows: [string, string, number, string][] = [
    ['0200', '0741424344', 0x6a80, 'TRUNCATED'], // load file AID cut short
    ['0200', '07A0000000', 0x6a80, 'TRUNCATED'],
    ['0200', '04A0000001' + '00000000', 0x6a80, 'BAD_AID'], // 4-byte AID
    ['0200', '07A0000001515350' + '00000000' + '00', 0x6a80, 'TRAILING_DATA'], // one byte too many
    ['0200', '07A0000001515350' + '000000' + '01', 0x6a80, 'TRUNCATED'], // token length without token
    ['0200', '07A0000001515350' + '000000' + '0122', 0x6a80, 'BAD_DATA'], // token without hash
    ['0200', '07A0000001515350' + '0000' + '8300', 0x6a80, 'BAD_LENGTH'], // '83' length form
    ['0C00', '0000' + '08A000000151535041' + '028000' + '02C900' + '00', 0x6a80, 'BAD_PRIVILEGES'], // 2-byte privileges
    ['0C00', '0000' + '08A000000151535041' + '0180' + '00' + '00', 0x6a80, 'BAD_DATA'], // install params empty
    ['0C00', '0000' + '00' + '0180' + '02C900' + '00', 0x6a80, 'BAD_AID'], // no application AID
    ['0800', '0100' + '08A000000151535041' + '0104' + '0000', 0x6a80, 'BAD_VALUE'], // '01' where '00' is required
    ['2000', '0000' + '08A000000151535041' + '0000', 0x6a80, 'TRUNCATED'], // personalization missing a byte
    ['0600', '0741424344', 0x6a86, 'BAD_P1P2'], // load + install without make selectable
    ['0202', '0741424344', 0x6a86, 'BAD_P1P2'], // P2 02
    ['0000', '0741424344', 0x6a86, 'BAD_P1P2'], // no role
  ];
  for (const [p1p2, data, sw, code] of rows) {
    const lc = (data.length / 2).toString(16).padStart(2, '0');
    assertRejects(() => parseInstallCommand(cmd('80E6' + p1p2 + lc + data)), sw, code);
  }
  assert.throws(() => buildInstallForInstall({ makeSelectable: false, applicationAid: APP, privileges: h('00'), parameters: h('') }), RangeError);
  assert.throws(() => buildInstallForLoad({ loadFileAid: h('A000') }), RangeError);
});
