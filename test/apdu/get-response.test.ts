/** ISO/IEC 7816-4 §5.6 / 7816-3 §12.2: 61xx (GET RESPONSE) and 6Cxx (wrong Le) handled transparently. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { ApduError } from '../../src/apdu/errors.ts';
import { withGetResponse } from '../../src/apdu/get-response.ts';
import { scriptedChannel } from './scripted-channel.ts';

const SELECT_ISD = '00A4040008A000000151000000';
const hexBytes = (n: number, start = 0): string => toHex(Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff));

test('9000 passes through with a single command', async () => {
  const card = scriptedChannel([[SELECT_ISD, '6F009000']]);
  assert.equal(toHex(await withGetResponse(card).transmit(fromHex(SELECT_ISD))), '6F009000');
  card.done();
});

test('61xx: one GET RESPONSE with Le = SW2', async () => {
  const card = scriptedChannel([
    [SELECT_ISD, '6110'],
    ['00C0000010', hexBytes(16) + '9000'],
  ]);
  assert.equal(toHex(await withGetResponse(card).transmit(fromHex(SELECT_ISD))), hexBytes(16) + '9000');
  card.done();
});

test('61xx: several rounds are concatenated, 6100 asks for 256 bytes', async () => {
  const card = scriptedChannel([
    [SELECT_ISD, '6100'],
    ['00C0000000', hexBytes(256) + '6105'],
    ['00C0000005', hexBytes(5, 256) + '9000'],
  ]);
  const r = await withGetResponse(card).transmit(fromHex(SELECT_ISD));
  assert.equal(toHex(r), hexBytes(261) + '9000');
  card.done();
});

test('61xx: data returned with 61xx is kept (T=1 partial answers)', async () => {
  const card = scriptedChannel([
    ['80F24000024F0000', 'AABB6102'],
    ['00C0000002', 'CCDD9000'],
  ]);
  assert.equal(toHex(await withGetResponse(card).transmit(fromHex('80F24000024F0000'))), 'AABBCCDD9000');
  card.done();
});

test('GET RESPONSE goes out on the logical channel of the original command', async () => {
  const card = scriptedChannel([
    ['81CA006600', '6104'],
    ['01C0000004', '010203049000'],
    ['C3CA006600', '6101'],
    ['43C0000001', '059000'],
  ]);
  const plain = withGetResponse(card);
  assert.equal(toHex(await plain.transmit(fromHex('81CA006600'))), '010203049000');
  assert.equal(toHex(await plain.transmit(fromHex('C3CA006600'))), '059000');
  card.done();
});

test('an explicit GET RESPONSE class is moved to the original channel', async () => {
  const card = scriptedChannel([
    ['E2CA006600', '6101'],
    ['C2C0000001', '069000'],
    ['82CA006600', '6101'],
    ['82C0000001', '079000'],
  ]);
  const gp = withGetResponse(card, { cla: 0x80 });
  assert.equal(toHex(await gp.transmit(fromHex('E2CA006600'))), '069000');
  assert.equal(toHex(await gp.transmit(fromHex('82CA006600'))), '079000');
  card.done();
});

test('6Cxx: the same command is sent again with Le = SW2', async () => {
  const card = scriptedChannel([
    ['80CA9F7F00', '6C2D'],
    ['80CA9F7F2D', hexBytes(45) + '9000'],
    ['00B00000', '6C10'],
    ['00B0000010', hexBytes(16) + '9000'],
    ['00B0000001', '6C00'],
    ['00B0000000', hexBytes(256) + '9000'],
  ]);
  const ch = withGetResponse(card);
  assert.equal(toHex(await ch.transmit(fromHex('80CA9F7F00'))), hexBytes(45) + '9000');
  assert.equal(toHex(await ch.transmit(fromHex('00B00000'))), hexBytes(16) + '9000');
  assert.equal(toHex(await ch.transmit(fromHex('00B0000001'))), hexBytes(256) + '9000');
  card.done();
});

test('6Cxx is retried once only, then returned', async () => {
  const card = scriptedChannel([
    ['80CA9F7F00', '6C2D'],
    ['80CA9F7F2D', '6C2E'],
  ]);
  assert.equal(toHex(await withGetResponse(card).transmit(fromHex('80CA9F7F00'))), '6C2E');
  card.done();
});

test('6Cxx then 61xx, and 6Cxx in answer to GET RESPONSE', async () => {
  const card = scriptedChannel([
    ['80CA9F7F00', '6C2D'],
    ['80CA9F7F2D', '6120'],
    ['00C0000020', '6C08'],
    ['00C0000008', hexBytes(8) + '9000'],
  ]);
  assert.equal(toHex(await withGetResponse(card).transmit(fromHex('80CA9F7F00'))), hexBytes(8) + '9000');
  card.done();
});

test('an error during GET RESPONSE ends the loop with the data so far and that status', async () => {
  const card = scriptedChannel([
    [SELECT_ISD, 'AA6102'],
    ['00C0000002', '6A86'],
  ]);
  assert.equal(toHex(await withGetResponse(card).transmit(fromHex(SELECT_ISD))), 'AA6A86');
  card.done();
});

test('a card that never stops answering 61xx hits the round limit', async () => {
  const card = scriptedChannel([
    [SELECT_ISD, '6101'],
    ['00C0000001', '016101'],
    ['00C0000001', '026101'],
  ]);
  await assert.rejects(
    withGetResponse(card, { maxRounds: 2 }).transmit(fromHex(SELECT_ISD)),
    (e: unknown) => e instanceof ApduError && e.code === 'GET_RESPONSE_LIMIT' && e.sw === 0x6101 && e.ins === 0xa4,
  );
  card.done();
});

test('close is forwarded', async () => {
  const card = scriptedChannel([]);
  await withGetResponse(card).close!();
  assert.equal(card.closed, true);
});
