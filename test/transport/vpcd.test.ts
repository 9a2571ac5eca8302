/** vpcd client against a fake vpcd server on the loopback (vsmartcard ifd-vpcd wire protocol). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { serveVpcd, type VpcdState } from '../../src/transport/vpcd.ts';
import { VpcdFrameReader, VpcdSession, encodeVpcdFrame } from '../../src/transport/vpcd-protocol.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { FAKE_ATR, fakeCard } from './fake-card.ts';

/** A fake vpcd: accepts the card's connections and reads its framed answers. */
class FakeVpcd {
  readonly server: Server;
  readonly sockets: Socket[] = [];
  readonly #waiters: Array<(s: Socket) => void> = [];
  readonly #inbox = new Map<Socket, { bytes: Buffer; wake?: () => void }>();
  port = 0;

  constructor() {
    this.server = createServer((s) => {
      this.sockets.push(s);
      const box: { bytes: Buffer; wake?: () => void } = { bytes: Buffer.alloc(0) };
      this.#inbox.set(s, box);
      s.on('data', (d) => {
        box.bytes = Buffer.concat([box.bytes, d]);
        box.wake?.();
      });
      s.on('error', () => {});
      this.#waiters.shift()?.(s);
    });
  }

  async listen(port = 0): Promise<void> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
  }

  /** The next (or an already accepted but unclaimed) connection. */
  nextConnection(already = 0): Promise<Socket> {
    if (this.sockets.length > already) return Promise.resolve(this.sockets[already]!);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Read exactly `n` raw bytes sent by the card, or fail after a timeout. */
  async read(s: Socket, n: number, timeoutMs = 2000): Promise<string> {
    const box = this.#inbox.get(s)!;
    const deadline = Date.now() + timeoutMs;
    while (box.bytes.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout: got ${box.bytes.toString('hex')} waiting for ${n} bytes`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        box.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const out = box.bytes.subarray(0, n);
    box.bytes = box.bytes.subarray(n);
    return out.toString('hex').toUpperCase();
  }

  /** Bytes received and not read yet. */
  unread(s: Socket): string {
    return this.#inbox.get(s)!.bytes.toString('hex').toUpperCase();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** States of serveVpcd as they happen, and a promise for the first one that satisfies a condition (no sleeps). */
function stateLog() {
  const seen: { state: VpcdState; error?: Error }[] = [];
  const waiters: { test: (s: VpcdState, e?: Error) => boolean; resolve: () => void }[] = [];
  return {
    seen,
    on(state: VpcdState, error?: Error): void {
      seen.push({ state, ...(error === undefined ? {} : { error }) });
      for (const w of [...waiters]) {
        if (w.test(state, error)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    next(test: (s: VpcdState, e?: Error) => boolean): Promise<void> {
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

/** Write and wait until the bytes are handed to the kernel, one write per call. */
const written = (s: Socket, bytes: Uint8Array): Promise<void> => new Promise((resolve, reject) => s.write(bytes, (e) => (e ? reject(e) : resolve())));
const ATR_HEX = toHex(FAKE_ATR);

test('frames: GET ATR, power on, APDU, reset, power off — exact bytes', async () => {
  const vpcd = new FakeVpcd();
  await vpcd.listen();
  const card = fakeCard();
  const ac = new AbortController();
  const states: VpcdState[] = [];
  const served = serveVpcd(card, { port: vpcd.port, signal: ac.signal, onStateChange: (s) => states.push(s) });
  const s = await vpcd.nextConnection();

  s.write(fromHex('000104'));
  assert.equal(await vpcd.read(s, 2 + FAKE_ATR.length), '000F' + ATR_HEX);
  s.write(fromHex('000101'));
  s.write(fromHex('000D 00A4040008A000000151000000'));
  assert.equal(await vpcd.read(s, 4), '00029000');
  s.write(fromHex('0005 80CA9F7F00'));
  assert.equal(await vpcd.read(s, 8), '0006010203049000');
  s.write(fromHex('000102'));
  s.write(fromHex('000100'));
  s.write(fromHex('000104')); // presence polling after power off: the ATR, without powering on
  assert.equal(await vpcd.read(s, 17), '000F' + ATR_HEX);
  // Barrier: one more GET ATR is answered next, so nothing else was sent in between (answers come in order).
  s.write(fromHex('000104'));
  assert.equal(await vpcd.read(s, 17), '000F' + ATR_HEX);
  assert.equal(vpcd.unread(s), '');
  assert.deepEqual(card.calls, [
    'powerOn', // first GET ATR
    'powerOn', // 01
    'process 00A4040008A000000151000000',
    'process 80CA9F7F00',
    'reset',
    'powerOff',
  ]);

  ac.abort();
  await served;
  assert.deepEqual(states, ['connecting', 'connected', 'stopped']);
  await vpcd.close();
});

test('messages split across chunks and several messages in one chunk', async () => {
  const vpcd = new FakeVpcd();
  await vpcd.listen();
  const ac = new AbortController();
  const served = serveVpcd(fakeCard(), { port: vpcd.port, signal: ac.signal });
  const s = await vpcd.nextConnection();
  s.setNoDelay(true);
  for (const b of fromHex('0005 00A4040000')) await written(s, Uint8Array.of(b)); // one write per byte
  assert.equal(await vpcd.read(s, 4), '00029000');
  s.write(fromHex('000101 0004 00A40400 0005 80CA9F7F00'));
  assert.equal(await vpcd.read(s, 12), '00029000' + '0006010203049000');
  ac.abort();
  await served;
  await vpcd.close();
});

test('a malformed frame (length 0) and an unknown control code are reported and ignored', async () => {
  const vpcd = new FakeVpcd();
  await vpcd.listen();
  const ac = new AbortController();
  const errors: Error[] = [];
  const served = serveVpcd(fakeCard(), { port: vpcd.port, signal: ac.signal, onError: (e) => errors.push(e) });
  const s = await vpcd.nextConnection();
  s.write(fromHex('0000'));
  s.write(fromHex('000107'));
  s.write(fromHex('0004 00A40400'));
  assert.equal(await vpcd.read(s, 4), '00029000');
  s.write(fromHex('000104')); // barrier: answered next, so the two bad frames got no answer
  assert.equal(await vpcd.read(s, 17), '000F' + ATR_HEX);
  assert.equal(vpcd.unread(s), '');
  assert.deepEqual(errors.map((e) => (e as TransportError).code), ['PROTOCOL', 'PROTOCOL']);
  assert.match(errors[1]!.message, /control code 7/);
  ac.abort();
  await served;
  await vpcd.close();
});

test('a card that throws answers 6F00 and the error is reported', async () => {
  const vpcd = new FakeVpcd();
  await vpcd.listen();
  const ac = new AbortController();
  const errors: Error[] = [];
  const served = serveVpcd(fakeCard(), { port: vpcd.port, signal: ac.signal, onError: (e) => errors.push(e) });
  const s = await vpcd.nextConnection();
  s.write(fromHex('0004 00EE0000'));
  assert.equal(await vpcd.read(s, 4), '00026F00');
  assert.equal(errors[0]!.message, 'card bug');
  ac.abort();
  await served;
  await vpcd.close();
});

test('reconnects after the connection drops and after vpcd restarts; the card is powered off meanwhile', async () => {
  const vpcd = new FakeVpcd();
  await vpcd.listen();
  const card = fakeCard();
  const ac = new AbortController();
  const log = stateLog();
  const served = serveVpcd(card, {
    port: vpcd.port,
    reconnectDelayMs: 20,
    signal: ac.signal,
    onStateChange: (s, e) => log.on(s, e),
  });
  const s1 = await vpcd.nextConnection(0);
  s1.write(fromHex('000101'));
  s1.write(fromHex('0004 00A40400'));
  assert.equal(await vpcd.read(s1, 4), '00029000');
  s1.destroy();
  const s2 = await vpcd.nextConnection(1);
  s2.write(fromHex('0004 00A40400'));
  assert.equal(await vpcd.read(s2, 4), '00029000');
  assert.deepEqual(card.calls, ['powerOn', 'process 00A40400', 'powerOff', 'powerOn', 'process 00A40400']);

  // pcscd restart: the listening socket goes away for a while, then comes back on the same port.
  const port = vpcd.port;
  const refused = log.next((s, e) => s === 'disconnected' && (e as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED');
  await vpcd.close();
  await refused; // the card tried while nothing listened
  const vpcd2 = new FakeVpcd();
  await vpcd2.listen(port);
  const s3 = await vpcd2.nextConnection(0);
  s3.write(fromHex('0004 00A40400'));
  assert.equal(await vpcd2.read(s3, 4), '00029000');

  ac.abort();
  await served;
  const states = log.seen.map((x) => x.state);
  assert.equal(states[0], 'connecting');
  assert.equal(states.at(-1), 'stopped');
  assert.ok(states.filter((s) => s === 'connected').length === 3, states.join(','));
  assert.ok(states.includes('disconnected'));
  await vpcd2.close();
});

test('abort while waiting to reconnect resolves promptly', { timeout: 10_000 }, async () => {
  const ac = new AbortController();
  const vpcd = new FakeVpcd();
  await vpcd.listen();
  const port = vpcd.port;
  await vpcd.close(); // nothing listens there now
  const log = stateLog();
  const waiting = log.next((s) => s === 'disconnected');
  const served = serveVpcd(fakeCard(), { port, reconnectDelayMs: 60_000, signal: ac.signal, onStateChange: (s, e) => log.on(s, e) });
  await waiting; // refused; now in the 60 s wait before the next attempt
  ac.abort();
  await served; // resolves on the abort, not after 60 s (the test's 10 s limit would fail it)
  assert.deepEqual(log.seen.map((x) => x.state), ['connecting', 'disconnected', 'stopped']);
});

test('an already aborted signal returns at once', async () => {
  await serveVpcd(fakeCard(), { port: 1, signal: AbortSignal.abort() });
});

test('reconnect: false rejects with CONNECTION_FAILED when nothing listens', async () => {
  const vpcd = new FakeVpcd();
  await vpcd.listen();
  const port = vpcd.port;
  await vpcd.close();
  await assert.rejects(
    serveVpcd(fakeCard(), { port, reconnect: false }),
    (e: unknown) => e instanceof TransportError && e.code === 'CONNECTION_FAILED' && e.cause instanceof Error,
  );
});

test('reconnect: false resolves when vpcd closes the connection', async () => {
  const vpcd = new FakeVpcd();
  await vpcd.listen();
  const served = serveVpcd(fakeCard(), { port: vpcd.port, reconnect: false });
  const s = await vpcd.nextConnection();
  s.end();
  await served;
  await vpcd.close();
});

test('sans-IO: frame encoding and reassembly', () => {
  assert.equal(toHex(encodeVpcdFrame(fromHex('04'))), '000104');
  assert.equal(toHex(encodeVpcdFrame(new Uint8Array(0))), '0000');
  assert.throws(() => encodeVpcdFrame(new Uint8Array(0x10000)), RangeError);
  const r = new VpcdFrameReader();
  assert.deepEqual(r.push(fromHex('00')), []);
  assert.deepEqual(r.push(fromHex('0201')).map(toHex), []);
  assert.equal(r.pending, 3);
  assert.deepEqual(r.push(fromHex('02 0000 000104 0003AA')).map(toHex), ['0102', '', '04']);
  assert.equal(r.pending, 3);
});

test('sans-IO: session answers an APDU while unpowered by powering on first', () => {
  const card = fakeCard();
  const s = new VpcdSession(card);
  assert.equal(toHex(s.handle(fromHex('00A40400')).reply!), '9000');
  assert.equal(s.powered, true);
  assert.deepEqual(card.calls, ['powerOn', 'process 00A40400']);
  const short = new VpcdSession({ ...card, process: () => fromHex('90') });
  const r = short.handle(fromHex('00A40400'));
  assert.equal(toHex(r.reply!), '6F00');
  assert.equal((r.error as TransportError).code, 'PROTOCOL');
});
