/** PC/SC through the optional pcsclite package: missing package, and the API use against a fake. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { NativePcscChannel, loadPcsclite, type PcscliteContext, type PcscliteReader } from '../../src/transport/pcsc.ts';
import { TransportError } from '../../src/transport/errors.ts';

test('without the optional package: PCSC_UNAVAILABLE naming it', async () => {
  await assert.rejects(
    loadPcsclite(['opentsm-no-such-package-pcsclite']),
    (e: unknown) => e instanceof TransportError && e.code === 'PCSC_UNAVAILABLE' && e.message.startsWith("PC/SC support needs the optional package 'opentsm-no-such-package-pcsclite'"),
  );
  await assert.rejects(NativePcscChannel.open({ packages: ['opentsm-no-such-package-pcsclite'] }), (e: unknown) => e instanceof TransportError && e.code === 'PCSC_UNAVAILABLE');
});

class FakeReader extends EventEmitter {
  readonly SCARD_SHARE_SHARED = 2;
  readonly SCARD_SHARE_EXCLUSIVE = 1;
  readonly SCARD_STATE_PRESENT = 0x20;
  readonly SCARD_LEAVE_CARD = 0;
  readonly SCARD_PROTOCOL_T0 = 1;
  readonly SCARD_PROTOCOL_T1 = 2;
  readonly log: string[] = [];
  readonly name: string;
  constructor(name: string) {
    super();
    this.name = name;
  }
  connect(options: { share_mode?: number; protocol?: number }, cb: (err: Error | null, protocol: number) => void): void {
    this.log.push(`connect share=${options.share_mode} protocol=${options.protocol}`);
    cb(null, 2);
  }
  transmit(data: Uint8Array, resLen: number, protocol: number, cb: (err: Error | null, data: Uint8Array) => void): void {
    this.log.push(`transmit ${toHex(data)} ${resLen} ${protocol} buffer=${Buffer.isBuffer(data)}`);
    cb(null, Buffer.from('9000', 'hex'));
  }
  disconnect(disposition: number, cb: (err: Error | null) => void): void {
    this.log.push(`disconnect ${disposition}`);
    cb(null);
  }
  close(): void {}
}

function fakeFactory(readers: FakeReader[], closed: string[]) {
  return async () => () => {
    const ctx = new EventEmitter() as EventEmitter & PcscliteContext;
    ctx.close = () => closed.push('closed');
    setImmediate(() => {
      for (const r of readers) {
        ctx.emit('reader', r);
        setImmediate(() => r.emit('status', { state: 0x10 })); // empty first
        setTimeout(() => r.emit('status', { state: 0x22, atr: Buffer.from('3B8001', 'hex') }), 5);
      }
    });
    return ctx;
  };
}

test('waits for a matching reader with a card, connects shared T=0|T=1, transmits, disconnects', async () => {
  const a = new FakeReader('Other Reader 00 00');
  const b = new FakeReader('Virtual PCD 00 00');
  const closed: string[] = [];
  const ch = await NativePcscChannel.open({ reader: /Virtual PCD/, load: fakeFactory([a, b], closed) });
  assert.equal(ch.reader, 'Virtual PCD 00 00');
  assert.equal(toHex(ch.atr), '3B8001');
  assert.equal(toHex(await ch.transmit(fromHex('00A40400'))), '9000');
  await ch.close();
  await ch.close();
  assert.deepEqual(a.log, []);
  assert.deepEqual(b.log, ['connect share=2 protocol=3', 'transmit 00A40400 65538 2 buffer=true', 'disconnect 0']);
  assert.deepEqual(closed, ['closed']);
  await assert.rejects(ch.transmit(fromHex('00A40400')), (e: unknown) => e instanceof TransportError && e.code === 'CLOSED');
});

test('no matching reader within the time limit: NO_CARD, context closed', async () => {
  const closed: string[] = [];
  await assert.rejects(
    NativePcscChannel.open({ reader: 'Absent', timeoutMs: 50, load: fakeFactory([new FakeReader('Virtual PCD 00 00')], closed) }),
    (e: unknown) => e instanceof TransportError && e.code === 'NO_CARD',
  );
  assert.deepEqual(closed, ['closed']);
});

test('the reader list type matches the fake (compile-time check)', () => {
  const r: PcscliteReader = new FakeReader('x');
  assert.equal(r.name, 'x');
});
