import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  appendLoadBlock,
  buildDeleteCardContent,
  buildDeleteKey,
  buildLoadCommands,
  encodeLoadFile,
  parseDeleteCommand,
  parseLoadCommand,
  parseLoadFile,
  type LoadReassembly,
} from '../../src/gp/index.ts';
import { assertApdu, assertRejects, cmd, h, toHex } from './helpers.ts';

const ISD = h('A000000151000000');

test('§11.6.2.3 Table 11-58: Load File with a DAP block', () => {
  const lfdb = Uint8Array.from({ length: 200 }, (_, i) => i);
  const file = encodeLoadFile({ dapBlocks: [{ sdAid: ISD, signature: h('0102030405060708') }], loadFileDataBlock: lfdb });
  assert.equal(toHex(file.subarray(0, 25)), 'E214' + '4F08A000000151000000' + 'C3080102030405060708' + 'C481C8');
  assert.equal(file.length, 22 + 3 + 200);
  assert.deepEqual(parseLoadFile(file), { dapBlocks: [{ sdAid: ISD, signature: h('0102030405060708') }], loadFileDataBlock: lfdb });
  const ciphered = encodeLoadFile({ loadFileDataBlock: h('AABB'), ciphered: true, icv: h('00'.repeat(8)) });
  assert.equal(toHex(ciphered), 'D3080000000000000000D402AABB');
  assert.deepEqual(parseLoadFile(ciphered), { loadFileDataBlock: h('AABB'), ciphered: true, icv: h('00'.repeat(8)) });
});

test('§11.6.2.1-2 Tables 11-56, 11-57: blocks numbered from 00, last with P1 80', () => {
  const file = encodeLoadFile({ loadFileDataBlock: new Uint8Array(200) }); // 203 bytes
  const cmds = buildLoadCommands(file, 100);
  assert.equal(cmds.length, 3);
  assertApdu(cmds[0]!, '80E8000064C481C8' + '00'.repeat(97) + '00');
  assertApdu(cmds[1]!, '80E8000164' + '00'.repeat(100) + '00');
  assertApdu(cmds[2]!, '80E8800203' + '000000' + '00');
  let state: LoadReassembly | undefined;
  for (const c of cmds) state = appendLoadBlock(state, parseLoadCommand(c));
  assert.equal(state!.complete, true);
  assert.deepEqual(state!.loadFile, file);
});

test('property: any Load File survives split and reassembly', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.integer({ min: 16, max: 255 }), (lfdb, size) => {
      const file = encodeLoadFile({ loadFileDataBlock: lfdb });
      let s: LoadReassembly | undefined;
      for (const c of buildLoadCommands(file, size)) s = appendLoadBlock(s, parseLoadCommand(c));
      assert.deepEqual(parseLoadFile(s!.loadFile!).loadFileDataBlock, lfdb);
    }),
  );
});

test('LOAD: hostile inputs', () => {
  assertRejects(() => appendLoadBlock(undefined, { last: false, blockNumber: 1, data: h('00') }), 0x6a86, 'BAD_SEQUENCE');
  const s0 = appendLoadBlock(undefined, { last: false, blockNumber: 0, data: h('C4') });
  assertRejects(() => appendLoadBlock(s0, { last: true, blockNumber: 0, data: h('00') }), 0x6a86, 'BAD_SEQUENCE');
  const done = appendLoadBlock(s0, { last: true, blockNumber: 1, data: h('00') });
  assertRejects(() => appendLoadBlock(done, { last: true, blockNumber: 2, data: h('00') }), 0x6a86, 'BAD_SEQUENCE');
  assertRejects(() => parseLoadCommand(cmd('80E8010001AA')), 0x6a86, 'BAD_P1P2');
  assertRejects(() => parseLoadCommand(cmd('80E88000')), 0x6700, 'WRONG_LENGTH');
  for (const [hex, code] of [
    ['E20A4F08A000000151000000', 'BAD_DATA'], // DAP block only, no C4
    ['E20A4F08A000000151000000C401AA', 'BAD_DATA'], // DAP block without C3
    ['C401AAC401BB', 'BAD_DATA'], // two blocks
    ['C401AAE200', 'BAD_DATA'], // DAP after the block (E2 00)
    ['C405AA', 'TRUNCATED'],
    ['C501AA', 'BAD_DATA'], // unknown tag
    ['D3080000000000000000C401AA', 'BAD_DATA'], // ICV without ciphered block
  ] as const) {
    assertRejects(() => parseLoadFile(h(hex)), 0x6a80, code);
  }
  assert.throws(() => buildLoadCommands(new Uint8Array(257), 1), RangeError);
});

test('§11.2.2 Tables 11-20..11-23: DELETE [card content]', () => {
  const c = buildDeleteCardContent(h('A0000001515350'), { related: true });
  assertApdu(c, '80E400800' + '94F07A0000001515350' + '00');
  assert.deepEqual(parseDeleteCommand(c), { kind: 'content', aid: h('A0000001515350'), related: true });
  const t = buildDeleteCardContent(ISD, { tokenCrt: h('930101'), token: h('AABB') });
  assertApdu(t, '80E4000013' + '4F08A000000151000000' + 'B603930101' + '9E02AABB' + '00');
  assert.deepEqual(parseDeleteCommand(t), { kind: 'content', aid: ISD, related: false, tokenCrt: h('930101'), token: h('AABB') });
});

test('§11.2.2.3.2 Table 11-24: DELETE [key]', () => {
  const c = buildDeleteKey({ keyId: 1, kvn: 0x30 });
  assertApdu(c, '80E4000006D00101D2013000');
  assert.deepEqual(parseDeleteCommand(c), { kind: 'key', keyId: 1, kvn: 0x30 });
  assert.deepEqual(parseDeleteCommand(buildDeleteKey({ kvn: 0x20 })), { kind: 'key', kvn: 0x20 });
  assert.throws(() => buildDeleteKey({}), RangeError);
});

test('DELETE: hostile inputs', () => {
  for (const [hex, sw, code] of [
    ['80E4000103D00101', 0x6a86, 'BAD_P1P2'],
    ['80E4010003D00101', 0x6a86, 'BAD_P1P2'],
    ['80E40000054F03A00000', 0x6a80, 'BAD_AID'],
    ['80E4000004D0020102', 0x6a80, 'BAD_DATA'],
    ['80E400000D4F08A000000151000000D00101', 0x6a80, 'BAD_DATA'], // mixed content and key
    ['80E4000006D00101D00102', 0x6a80, 'BAD_DATA'], // repeated tag
    ['80E4000003D00201', 0x6a80, 'TRUNCATED'],
    ['80E4000003C00101', 0x6a80, 'BAD_DATA'],
  ] as const) {
    assertRejects(() => parseDeleteCommand(cmd(hex)), sw, code);
  }
});
