/**
 * End to end through a real pcscd: a CardPort served to vpcd (vsmartcard), reached by opensc-tool
 * and by PcscChannel (the on-demand libpcsclite bridge). Skipped where pcscd/vpcd/cc are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { serveVpcd } from '../../src/transport/vpcd.ts';
import { PcscChannel } from '../../src/transport/pcsc-channel.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { pcscdUnavailableReason, startPcscd, type PcscdHandle } from './pcscd-harness.ts';
import { FAKE_ATR, fakeCard } from './fake-card.ts';

const reason =
  pcscdUnavailableReason() ??
  (existsSync('/usr/include/PCSC/winscard.h') ? undefined : 'libpcsclite-dev is not installed (the bridge compiles against it)');

/** Run a program without blocking the event loop (the card answers from this very process). */
function run(file: string, args: readonly string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Index of `name` in `opensc-tool -l` ("Nr.  Card  Features  Name" table). */
async function openscReaderIndex(name: string): Promise<number> {
  const { stdout } = await run('opensc-tool', ['-l']);
  for (const line of stdout.split('\n')) {
    const m = /^(\d+)\s+(Yes|No)\s+.*?\s*(\S.*)$/.exec(line.trim());
    if (m !== null && line.trim().endsWith(name)) return Number(m[1]);
  }
  throw new Error(`reader ${name} not in opensc-tool -l:\n${stdout}`);
}

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await attempt();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms`, { cause: last });
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a simulated card behind pcscd + vpcd answers opensc-tool and PcscChannel', { skip: reason, timeout: 90_000 }, async (t) => {
  let pcscd: PcscdHandle | undefined;
  const ac = new AbortController();
  let served: Promise<void> | undefined;
  try {
    pcscd = await startPcscd();
    const card = fakeCard();
    let connected!: () => void;
    const isConnected = new Promise<void>((r) => (connected = r));
    served = serveVpcd(card, {
      port: pcscd.vpcdPort,
      reconnectDelayMs: 200,
      signal: ac.signal,
      onStateChange: (s) => s === 'connected' && connected(),
    });
    await isConnected;

    await t.test('opensc-tool sends SELECT and prints 90 00', async () => {
      const index = await until('vpcd reader listed', 10_000, async () => openscReaderIndex(pcscd!.readerName));
      const out = await until('opensc-tool answer', 15_000, async () => {
        const r = await run('opensc-tool', ['-r', String(index), '-s', '00A4040008A000000151000000', '-s', '80CA9F7F00']);
        return r.code === 0 && r.stdout.includes('Received') ? r.stdout : undefined;
      });
      assert.equal(
        out,
        'Sending: 00 A4 04 00 08 A0 00 00 01 51 00 00 00 \nReceived (SW1=0x90, SW2=0x00)\n' +
          'Sending: 80 CA 9F 7F 00 \nReceived (SW1=0x90, SW2=0x00):\n01 02 03 04 ....\n',
      );
      assert.ok(card.calls.includes('process 00A4040008A000000151000000'));
    });

    await t.test('PcscChannel: ATR, SELECT, GET DATA, warm reset', async () => {
      const ch = await PcscChannel.open({ reader: pcscd!.readerName, waitMs: 15_000 });
      try {
        assert.equal(ch.reader, 'Virtual PCD 00 00');
        assert.equal(toHex(ch.atr), toHex(FAKE_ATR));
        assert.equal(toHex(await ch.transmit(fromHex('00A4040008A000000151000000'))), '9000');
        assert.equal(toHex(await ch.transmit(fromHex('80CA9F7F00'))), '010203049000');
        assert.equal(toHex(await ch.transmit(fromHex('00EE0000'))), '6F00'); // the card threw
        const calls = card.calls.length;
        assert.equal(toHex(await ch.reset()), toHex(FAKE_ATR));
        assert.ok(card.calls.slice(calls).includes('reset'), card.calls.slice(calls).join());
        assert.equal(toHex(await ch.transmit(fromHex('00A40400'))), '9000');
      } finally {
        await ch.close();
      }
      await assert.rejects(ch.transmit(fromHex('00A40400')), (e: unknown) => e instanceof TransportError && e.code === 'CLOSED');
    });

    await t.test('PcscChannel: reader lookup by index, RegExp; an empty slot has no card', async () => {
      const names = await PcscChannel.listReaders();
      assert.ok(names.includes('Virtual PCD 00 00') && names.includes('Virtual PCD 00 01'), names.join());
      const byRe = await PcscChannel.open({ reader: /Virtual PCD 00 00$/ });
      assert.equal(byRe.reader, 'Virtual PCD 00 00');
      await byRe.close();
      const byIndex = await PcscChannel.open({ reader: names.indexOf('Virtual PCD 00 00') });
      assert.equal(toHex(await byIndex.transmit(fromHex('00A40400'))), '9000');
      await byIndex.close();
      await assert.rejects(PcscChannel.open({ reader: 'Virtual PCD 00 01' }), (e: unknown) => e instanceof TransportError && e.code === 'NO_CARD');
      await assert.rejects(PcscChannel.open({ reader: 'No Such Reader' }), (e: unknown) => e instanceof TransportError && e.code === 'NO_READER');
    });

    await t.test('the card comes back after pcscd restarts', { skip: pcscd.started ? false : 'pcscd was not started here' }, async () => {
      await pcscd!.restart();
      const ch = await PcscChannel.open({ reader: 'Virtual PCD 00 00', waitMs: 20_000 });
      try {
        assert.equal(toHex(await ch.transmit(fromHex('00A4040008A000000151000000'))), '9000');
      } finally {
        await ch.close();
      }
    });
  } catch (e) {
    t.diagnostic(`pcscd output:\n${pcscd?.log() ?? '(not started)'}`);
    throw e;
  } finally {
    ac.abort();
    await served;
    await pcscd?.stop();
  }
});
