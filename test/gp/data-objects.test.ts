import { gpScpVectors } from '../vectors/index.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../../src/apdu/command.ts';
import {
  CPLC_FIELDS,
  GetDataTag,
  buildGetData,
  buildGetEid,
  buildSelect,
  buildSetStatus,
  buildStoreData,
  buildStoreDataBlocks,
  encodeCardRecognitionData,
  encodeCplc,
  encodeDgi,
  encodeEidResponse,
  encodeFci,
  encodeKeyInformationTemplate,
  parseCardRecognitionData,
  parseCplc,
  parseDgis,
  parseEidResponse,
  parseFci,
  parseGetDataCommand,
  parseKeyInformationTemplate,
  parseSelectCommand,
  parseSetStatusCommand,
  parseStoreDataCommand,
  type Cplc,
} from '../../src/gp/index.ts';
import { assertApdu, assertRejects, cmd, h, toHex } from './helpers.ts';

const vectors = gpScpVectors;

test('§11.3.2 Table 11-27: GET DATA 66 (vector 80ca006600) and 9F7F, 00E0', () => {
  assertApdu(buildGetData(GetDataTag.CARD_DATA), vectors.scp03_aes128_level11.wrapped[2].plain);
  assertApdu(buildGetData(GetDataTag.CPLC), '80CA9F7F00');
  assertApdu(buildGetData(GetDataTag.KEY_INFORMATION), '80CA00E000');
  assert.deepEqual(parseGetDataCommand(cmd('80CA9F7F00')), { tag: 0x9f7f, data: new Uint8Array(0) });
  assertRejects(() => parseGetDataCommand(cmd('80CC9F7F00')), 0x6d00, 'UNSUPPORTED');
});

test('CPLC 9F7F: 42 bytes in 18 named fields', () => {
  const value = Uint8Array.from({ length: 42 }, (_, i) => i);
  const c = parseCplc(Uint8Array.from([0x9f, 0x7f, 0x2a, ...value]));
  assert.equal(CPLC_FIELDS.length, 18);
  assert.equal(toHex(c.icFabricator), '0001');
  assert.equal(toHex(c.icSerialNumber), '0C0D0E0F');
  assert.equal(toHex(c.icPersonalizationEquipmentId), '26272829');
  assert.equal(toHex(encodeCplc(c)), '9F7F2A' + toHex(value));
  assert.deepEqual(parseCplc(value), c, 'ISO CLA: value only');
  assertRejects(() => parseCplc(value.subarray(1)), 0x6a80, 'BAD_DATA');
  assertRejects(() => parseCplc(h('9F7F2A00')), 0x6a80, 'TRUNCATED');
  assert.throws(() => encodeCplc({ ...c, icType: h('00') } as Cplc), RangeError);
});

// GP 2.3 card, IIN/CIN scheme, SCP03 i=70 (Table H-1, format 1).
const CRD =
  '6643734106072A864886FC6B01' +
  '600C060A2A864886FC6B02020301' +
  '630906072A864886FC6B03' +
  '640B06092A864886FC6B040370' +
  '640B06092A864886FC6B040255' +
  '65038001AA';

test('Appendix H.2 Table H-1: Card Recognition Data', () => {
  const d = parseCardRecognitionData(h(CRD));
  assert.deepEqual(d, {
    scp: [{ id: 3, i: 0x70 }, { id: 2, i: 0x55 }],
    gpVersion: [2, 3, 1],
    cardIdentificationScheme: true,
    cardConfiguration: h('8001AA'),
  });
  assert.equal(toHex(encodeCardRecognitionData(d)), CRD);
  // Format 2 (Table H-2): one '64' with both OIDs.
  const f2 = encodeCardRecognitionData(d, { format: 2 });
  assert.equal(toHex(f2).includes('641606092A864886FC6B04037006092A864886FC6B040255'), true);
  assert.deepEqual(parseCardRecognitionData(f2), d);
  // Bare '73' (SD management data in the FCI, H.3).
  const t73 = encodeCardRecognitionData({ scp: [{ id: 3, i: 0x70 }] }, { template: 0x73 });
  assert.equal(toHex(t73), '7316' + '06072A864886FC6B01' + '640B06092A864886FC6B040370');
});

test('Card Recognition Data: hostile inputs', () => {
  for (const [hex, code] of [
    ['6600', 'BAD_DATA'], // no '73'
    ['670273' + '00', 'BAD_TAG'],
    ['73090607' + '2A864886FC6B02', 'BAD_DATA'], // first OID not {gp 1}
    ['731106072A864886FC6B01' + '640606042A864886', 'BAD_DATA'], // '64' OID not under GP
    ['730F06072A864886FC6B01' + '64040602FC6B', 'BAD_DATA'],
    ['730D06072A864886FC6B01' + '640206', 'TRUNCATED'],
    ['730E06072A864886FC6B01' + '6403060186', 'BAD_DATA'], // not under GP... and cut inside an arc
  ] as const) {
    assertRejects(() => parseCardRecognitionData(h(hex)), 0x6a80, code);
  }
});

test('§11.3.3.1.1 Tables 11-28, 11-29: Key Information Template', () => {
  const basic = 'E012' + 'C00401308810' + 'C00402308810' + 'C00403308810';
  const keys = parseKeyInformationTemplate(h(basic));
  assert.deepEqual(keys[0], { keyId: 1, kvn: 0x30, components: [{ type: 0x88, length: 16 }] });
  assert.equal(toHex(encodeKeyInformationTemplate(keys)), basic);
  const ext = 'E010' + 'C00E' + '0111' + 'FFB00041' + 'FFF00001' + '0182' + '0100';
  const k = parseKeyInformationTemplate(h(ext));
  assert.deepEqual(k, [{ keyId: 1, kvn: 0x11, components: [{ type: 0xb0, length: 0x41 }, { type: 0xf0, length: 1 }], extended: true, usage: 0x82, access: 0 }]);
  assert.equal(toHex(encodeKeyInformationTemplate(k)), ext);
  assert.equal(toHex(encodeKeyInformationTemplate([{ keyId: 1, kvn: 2, components: [{ type: 0xa1, length: 256 }] }])), 'E006C0040102A100');
  for (const [hex, code] of [
    ['E003C00101', 'TRUNCATED'], // no KVN
    ['E004C0020130', 'BAD_DATA'], // no component
    ['E005C0030130FF', 'TRUNCATED'],
    ['E006C0040130FF88', 'TRUNCATED'],
    ['E00AC0080130FF88001001', 'TRUNCATED'],
    ['E004C1020130', 'BAD_DATA'],
    ['E104C0020130', 'BAD_TAG'],
  ] as const) {
    assertRejects(() => parseKeyInformationTemplate(h(hex)), 0x6a80, code);
  }
});

test('§11.11.2 Table 11-89: STORE DATA P1 bits; EID request vector 80E2910006BF3E035C015A00', () => {
  assertApdu(buildGetEid(), vectors.scp03_aes128_level11.wrapped[0].plain);
  const resp = h(vectors.scp03_aes128_level11.wrapped[0].responsePlain);
  assert.equal(toHex(parseEidResponse(resp)), '89882119900000000000000000000005');
  assert.equal(toHex(encodeEidResponse(parseEidResponse(resp))), toHex(resp));
  assertApdu(buildStoreData(h('0070020000'), 3, false, { format: 'dgi', encryption: 'encrypted' }), '80E2680305' + '0070020000');
  assertApdu(buildStoreData(h('4201AA'), 0, true, { format: 'ber' }), '80E2900003' + '4201AA');
  assert.deepEqual(parseStoreDataCommand(cmd('80E2680305' + '0070020000')), {
    last: false, blockNumber: 3, format: 'dgi', encryption: 'encrypted', responseExpected: false, data: h('0070020000'),
  });
  assert.equal(parseStoreDataCommand(cmd('80E2A10001AA')).encryption, 'application');
  assertRejects(() => parseStoreDataCommand(cmd('80E2C00001AA')), 0x6a86, 'BAD_P1P2'); // encryption 10
  assertRejects(() => parseStoreDataCommand(cmd('80E2980001AA')), 0x6a86, 'BAD_P1P2'); // structure 11
  assertRejects(() => parseStoreDataCommand(cmd('80E2820001AA')), 0x6a86, 'BAD_P1P2'); // b2 RFU
  assertRejects(() => parseStoreDataCommand(cmd('80E28000')), 0x6700, 'WRONG_LENGTH');
  assertRejects(() => parseEidResponse(h('BF3E035A01AA')), 0x6a80, 'BAD_DATA');
});

test('§11.1.12 DGI coding and §11.11.2.3 block splitting', () => {
  assert.equal(toHex(encodeDgi(0x8113, h('00'.repeat(16)))), '811310' + '00'.repeat(16));
  const long = encodeDgi(0x0101, new Uint8Array(300));
  assert.equal(toHex(long.subarray(0, 5)), '0101FF012C');
  assert.deepEqual(parseDgis(concat2(encodeDgi(0x00b9, h('AA')), long)), [{ dgi: 0xb9, value: h('AA') }, { dgi: 0x0101, value: new Uint8Array(300) }]);
  assertRejects(() => parseDgis(h('0101FF01')), 0x6a80, 'TRUNCATED');
  assertRejects(() => parseDgis(h('010105AA')), 0x6a80, 'TRUNCATED');
  const blocks = buildStoreDataBlocks(long, { format: 'dgi', blockSize: 200 });
  assert.deepEqual(blocks.map((b) => [b.p1, b.p2, b.data.length]), [[0x08, 0, 200], [0x88, 1, 105]]);
});

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  return Uint8Array.from([...a, ...b]);
}

test('§11.10 Tables 11-85, 11-86: SET STATUS', () => {
  assertApdu(buildSetStatus({ scope: 0x80, state: 0x0f }), '80F0800F');
  assertApdu(buildSetStatus({ scope: 0x40, state: 0x83, aid: h('A000000151535041') }), '80F0408308A000000151535041');
  assertApdu(buildSetStatus({ scope: 0x60, state: 0x80, aid: h('A000000151535041') }), '80F0608008A000000151535041');
  assert.deepEqual(parseSetStatusCommand(cmd('80F0408308A000000151535041')), { scope: 0x40, state: 0x83, aid: h('A000000151535041') });
  assert.deepEqual(parseSetStatusCommand(cmd('80F0807F01AA')), { scope: 0x80, state: 0x7f });
  assertRejects(() => parseSetStatusCommand(cmd('80F0200F')), 0x6a86, 'BAD_P1P2');
  assertRejects(() => parseSetStatusCommand(cmd('80F0C00F')), 0x6a86, 'BAD_P1P2');
  assertRejects(() => parseSetStatusCommand(cmd('80F04083')), 0x6a80, 'BAD_AID');
  assertRejects(() => parseSetStatusCommand(cmd('80F0408303A00000')), 0x6a80, 'BAD_AID');
  assert.throws(() => buildSetStatus({ scope: 0x40, state: 0x83 }), RangeError);
});

test('§11.9 Tables 11-79..11-82: SELECT and FCI', () => {
  assertApdu(buildSelect(h('A000000151000000')), '00A4040008A00000015100000000');
  assertApdu(buildSelect(new Uint8Array(0)), '00A4040000');
  assertApdu(buildSelect(h('A000000151'), { next: true }), '00A4040205A00000015100');
  assert.deepEqual(parseSelectCommand(cmd('00A4040205A00000015100')), { aid: h('A000000151'), next: true });
  assertRejects(() => parseSelectCommand(cmd('00A4000008A00000015100000000')), 0x6a86, 'BAD_P1P2');
  assertRejects(() => parseSelectCommand(cmd('00A4040C08A00000015100000000')), 0x6a86, 'BAD_P1P2');
  const sd = encodeCardRecognitionData({ scp: [{ id: 3, i: 0x70 }] }, { template: 0x73 });
  const fci = encodeFci({ aid: h('A000000151000000'), securityDomainManagementData: sd, productionLifeCycleData: h('0102'), maxCommandLength: 0xff });
  assert.equal(toHex(fci), '6F' + '2D' + '8408A000000151000000' + 'A521' + toHex(sd) + '9F6E020102' + '9F6501FF');
  assert.deepEqual(parseFci(fci), { aid: h('A000000151000000'), securityDomainManagementData: sd, productionLifeCycleData: h('0102'), maxCommandLength: 0xff });
  assert.equal(toHex(encodeFci({ aid: h('A000000151000000'), maxCommandLength: 0x400 })), '6F118408A000000151000000A5059F65020400');
  for (const [hex, code] of [
    ['6F0A8408A0000001', 'TRUNCATED'],
    ['6E0A8408A000000151000000', 'BAD_TAG'],
    ['6F04A5029F65', 'TRUNCATED'],
    ['6F05A5039F6500', 'BAD_DATA'],
    ['6F02A500', 'BAD_DATA'], // no '84'
    ['6F0F8408A000000151000000A5039F6500', 'BAD_DATA'], // empty '9F65'
    ['6F058403A00000', 'BAD_AID'],
    ['6F078405A00000015100', 'TRAILING_DATA'],
  ] as const) {
    assertRejects(() => parseFci(h(hex)), 0x6a80, code);
  }
  void encodeCommand;
});
