/** In-process transport over a CardPort. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { FAKE_ATR, fakeCard } from './fake-card.ts';

test('powers on lazily, exchanges APDUs, traces them, powers off on close', async () => {
  const card = fakeCard();
  const trace: string[] = [];
  const ch = new InProcessChannel(card, { onExchange: (c, r) => trace.push(`${toHex(c)} -> ${toHex(r)}`) });
  assert.equal(ch.atr, undefined);
  assert.deepEqual(card.calls, []);
  const r = await ch.transmit(fromHex('00A4040008A000000151000000'));
  assert.equal(toHex(r), '9000');
  assert.equal(toHex(ch.atr!), toHex(FAKE_ATR));
  assert.equal(toHex(await ch.transmit(fromHex('80CA9F7F00'))), '010203049000');
  assert.deepEqual(trace, ['00A4040008A000000151000000 -> 9000', '80CA9F7F00 -> 010203049000']);
  assert.equal(toHex(ch.reset()), toHex(FAKE_ATR));
  await ch.close();
  await ch.close();
  assert.deepEqual(card.calls, ['powerOn', 'process 00A4040008A000000151000000', 'process 80CA9F7F00', 'reset', 'powerOff']);
  await assert.rejects(ch.transmit(fromHex('00A40400')), (e: unknown) => e instanceof TransportError && e.code === 'CLOSED');
});

test('the card cannot alias the caller buffers', async () => {
  const card = fakeCard();
  let seen: Uint8Array | undefined;
  const ch = new InProcessChannel({ ...card, process: (c) => ((seen = c), fromHex('9000')) });
  const cmd = fromHex('00A40400');
  await ch.transmit(cmd);
  seen![0] = 0xff;
  assert.equal(cmd[0], 0x00);
});
