/** ISO/IEC 7816-4 §5.1.1.1: command chaining; transmitCommand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { CodecError } from '../../src/core/errors.ts';
import { command, encodeCommand } from '../../src/apdu/command.ts';
import { splitChained, transmitCommand } from '../../src/apdu/chaining.ts';
import { scriptedChannel } from './scripted-channel.ts';

const data = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

test('a command that fits is returned alone and unchanged', () => {
  const c = command(0x80, 0xe2, 0x90, 0x00, data(10), 256);
  const blocks = splitChained(c);
  assert.equal(blocks.length, 1);
  assert.equal(toHex(encodeCommand(blocks[0]!)), toHex(encodeCommand(c)));
});

test('600 bytes: blocks of 255, 255 and 90; CLA b5 on all but the last; Le on the last only', () => {
  const blocks = splitChained(command(0x00, 0xdb, 0x3f, 0xff, data(600), 256));
  assert.deepEqual(blocks.map((b) => [b.cla, b.data.length, b.le]), [
    [0x10, 255, undefined],
    [0x10, 255, undefined],
    [0x00, 90, 256],
  ]);
  assert.equal(toHex(encodeCommand(blocks[0]!)), '10DB3FFFFF' + toHex(data(255)));
  assert.equal(toHex(encodeCommand(blocks[2]!)), '00DB3FFF5A' + toHex(data(600).subarray(510)) + '00');
});

test('Ne above 256 becomes Le=00 on the last block', () => {
  const blocks = splitChained(command(0x00, 0xdb, 0x3f, 0xff, data(300), 1000), 200);
  assert.deepEqual(blocks.map((b) => [b.cla, b.data.length, b.le]), [
    [0x10, 200, undefined],
    [0x00, 100, 256],
  ]);
});

test('caller mistakes', () => {
  assert.throws(() => splitChained(command(0x10, 0xdb, 0, 0, data(300))), RangeError);
  assert.throws(() => splitChained(command(0x00, 0xdb, 0, 0, data(300)), 256), RangeError);
  assert.throws(() => splitChained(command(0x00, 0xdb, 0, 0, data(300)), 0), RangeError);
});

test('transmitCommand: short command, decoded response', async () => {
  const card = scriptedChannel([['00A4040008A00000015100000000', '6F0A9000']]);
  const r = await transmitCommand(card, command(0x00, 0xa4, 0x04, 0x00, fromHex('A000000151000000'), 256));
  assert.equal(toHex(r.data), '6F0A');
  assert.equal(r.sw, 0x9000);
  card.done();
});

test('transmitCommand chains a long command on its logical channel', async () => {
  const d = data(300);
  const card = scriptedChannel([
    ['13DB3FFFFF' + toHex(d.subarray(0, 255)), '9000'],
    ['03DB3FFF2D' + toHex(d.subarray(255)), '9000'],
  ]);
  const r = await transmitCommand(card, command(0x03, 0xdb, 0x3f, 0xff, d));
  assert.equal(r.sw, 0x9000);
  card.done();
});

test('transmitCommand stops a chain at the first block not answered 9000', async () => {
  const d = data(600);
  const card = scriptedChannel([
    ['10DB3FFFFF' + toHex(d.subarray(0, 255)), '9000'],
    ['10DB3FFFFF' + toHex(d.subarray(255, 510)), '6884'],
  ]);
  const r = await transmitCommand(card, command(0x00, 0xdb, 0x3f, 0xff, d));
  assert.equal(r.sw, 0x6884);
  card.done();
});

test('transmitCommand sends one extended APDU when the card supports extended length', async () => {
  const d = data(300);
  const card = scriptedChannel([['00DB3FFF00012C' + toHex(d) + '0000', '9000']]);
  await transmitCommand(card, command(0x00, 0xdb, 0x3f, 0xff, d, 65536), { extendedLength: true });
  card.done();
});

test('transmitCommand keeps a command marked extended as one APDU', async () => {
  const card = scriptedChannel([['00B00000000001', '019000']]);
  const r = await transmitCommand(card, { ...command(0x00, 0xb0, 0x00, 0x00, undefined, 1), extended: true });
  assert.equal(toHex(r.data), '01');
  card.done();
});

test('transmitCommand: a response shorter than SW1 SW2 is a CodecError', async () => {
  const card = scriptedChannel([['00B0000000', '90']]);
  await assert.rejects(transmitCommand(card, command(0x00, 0xb0, 0, 0, undefined, 256)), CodecError);
});
