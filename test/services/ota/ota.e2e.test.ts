/**
 * OTA end to end over real loopback PSK-TLS (GP Amendment B, ETSI TS 102 225 SCP81 with
 * PSK-AES128-GCM-SHA256): platform side opens SCP03 THROUGH the OTA channel and lists the registry of a
 * simulated phone's card; wrong PSK; time-outs; unknown devices; targeted applications; long-poll push;
 * 20 devices in parallel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { DEFAULT_STATIC_KEY, createCard } from '../../../src/card/index.ts';
import { SecureSession } from '../../../src/scp/secure-session.ts';
import { listRegistry } from '../../../src/gp/client.ts';
import { OtaError } from '../../../src/services/ota/errors.ts';
import { OtaServer } from '../../../src/services/ota/ota-server.ts';
import { MemoryPskStore } from '../../../src/services/ota/psk-store.ts';
import { LongPollPushGateway } from '../../../src/services/ota/push-long-poll.ts';
import { Device, defaultAgentId } from '../../../src/device/device.ts';
import { DeviceError } from '../../../src/device/errors.ts';
import { LongPollPushClient } from '../../../src/device/push-long-poll.ts';
import type { CardChannel } from '../../../src/apdu/channel.ts';
import { rig } from './helpers.ts';

const ISD = 'A000000151000000';
const K = fromHex(DEFAULT_STATIC_KEY);
const keys = { enc: K, mac: K, dek: K };

async function registryOver(ch: CardChannel): Promise<string[]> {
  const s = await SecureSession.open(ch, { sdAid: fromHex(ISD), keys, level: 0x33 });
  const reg = await listRegistry(s);
  await s.close();
  return [...reg.isd, ...reg.applications, ...reg.loadFiles].map((e) => toHex(e.aid).toUpperCase());
}

test('SCP03 (level 33) opened through the OTA channel lists the registry; every APDU reached the card once', async () => {
  const r = await rig({ logApdus: true });
  try {
    const aids = await registryOver(r.ota.channel('dev0'));
    assert.equal(aids[0], ISD);
    assert.ok(aids.includes('A0000001515350'), 'the SSD load file is listed');
    // Same listing as a card reached without OTA.
    const { InProcessChannel } = await import('../../../src/transport/in-process.ts');
    assert.deepEqual(await registryOver(new InProcessChannel(createCard())), aids);
    const log = r.devices[0]!.apduLog!;
    assert.equal(log[0]!.command, '00A4040008' + ISD + '00');
    assert.equal(log[1]!.command.slice(0, 4), '8050');
    assert.equal(log[2]!.command.slice(0, 4), '8482');
    // SELECT and INITIALIZE UPDATE travel as one script; every other command as its own.
    assert.equal(log.length, r.ota.endpoint.stats.responsesProcessed + 1);
    assert.equal(r.ota.endpoint.stats.sessions, 1, 'one admin session carried the whole flow (linger)');
    assert.equal(r.push.delivered, 1);
  } finally {
    await r.close();
  }
});

test('transmitScript batches C-APDUs into one script and stops at the first error status word', async () => {
  const r = await rig({ logApdus: true });
  try {
    const out = await r.ota.transmitScript('dev0', [fromHex('00A4040008' + ISD), fromHex('80CA9F7F00'), fromHex('80CA00DD00'), fromHex('80CA006600')]);
    assert.equal(out.length, 3);
    assert.equal(toHex(out[2]!).toUpperCase(), '6A88');
    assert.equal(r.devices[0]!.apduLog!.length, 3);
    assert.equal(r.ota.endpoint.stats.scriptsSent, 1);
  } finally {
    await r.close();
  }
});

test('20 devices in parallel: SCP03 + registry on each', async () => {
  const r = await rig({ devices: 20 });
  try {
    const results = await Promise.all(r.devices.map((d) => registryOver(r.ota.channel(d.id))));
    for (const aids of results) assert.equal(aids[0], ISD);
    assert.equal(r.ota.endpoint.stats.sessions, 20);
  } finally {
    await r.close();
  }
});

test('SCP81: a wrong PSK or an unknown identity is refused in the TLS handshake; the card sees nothing', async () => {
  const r = await rig({ logApdus: true, maxRetries: 0, server: { timeoutMs: 300 } });
  try {
    const wrong = new Device({ id: 'dev0', card: createCard(), serverUrl: r.url, pskIdentity: 'psk-dev0', psk: new Uint8Array(16).fill(9), logApdus: true, maxRetries: 0 });
    r.devices[0]!.stop(); // the rightful phone stops listening; the impostor answers the push
    r.push.subscribe('dev0', () => void wrong.wake());
    await assert.rejects(r.ota.channel('dev0').transmit(fromHex('80CA006600')), (e: unknown) => e instanceof OtaError && e.code === 'TIMEOUT');
    assert.ok(wrong.agent.lastError instanceof DeviceError);
    assert.equal((wrong.agent.lastError as DeviceError).code, 'CONNECTION_FAILED');
    assert.deepEqual(wrong.apduLog, []);
    assert.equal(r.ota.endpoint.stats.sessions, 0);
    const port = Number(new URL(r.url).port);
    for (const [identity, psk] of [['psk-dev0', Buffer.alloc(16, 1)], ['nobody', Buffer.from(r.keys[0]!)]] as const) {
      const err = await new Promise<Error>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, pskCallback: () => ({ identity, psk }), ciphers: 'PSK-AES128-GCM-SHA256', maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined });
        s.on('secureConnect', () => resolve(new Error('handshake succeeded')));
        s.on('error', resolve);
      });
      assert.match(String((err as NodeJS.ErrnoException).code ?? err.message), /ERR_SSL|EPROTO|ECONNRESET/, `${identity}: ${err.message}`);
    }
  } finally {
    await r.close();
  }
});

test('unknown device: channel() and transmitScript refuse with UNKNOWN_DEVICE, nothing is queued', async () => {
  const r = await rig();
  try {
    assert.throws(() => r.ota.channel('nope'), (e: unknown) => e instanceof OtaError && e.code === 'UNKNOWN_DEVICE');
    await assert.rejects(r.ota.transmitScript('nope', [fromHex('80CA006600')]), (e: unknown) => e instanceof OtaError && e.code === 'UNKNOWN_DEVICE');
    assert.deepEqual(r.ota.endpoint.pending('nope'), { queued: 0, outstandingSeq: undefined, session: false });
    await assert.rejects(r.ota.transmitScript('dev0', []), RangeError);
    await assert.rejects(r.ota.transmitScript('dev0', [fromHex('80CA00')]), RangeError);
  } finally {
    await r.close();
  }
});

test('time-out: a phone that never answers gives OtaError TIMEOUT and leaves no queued work', async () => {
  // An injected scheduler: the test fires the timers itself (no wall clock).
  const timers: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  const schedule = (ms: number, fn: () => void) => {
    const t = { ms, fn, cancelled: false };
    timers.push(t);
    return () => void (t.cancelled = true);
  };
  const r = await rig({ server: { timeoutMs: 10_000, schedule } });
  try {
    r.devices[0]!.stop();
    let settled = false;
    const pending = r.ota.channel('dev0', { timeoutMs: 150 }).transmit(fromHex('80CA006600'));
    pending.then(() => (settled = true), () => (settled = true));
    // The script waits its turn for the card (one conversation) before it is queued: let those steps run.
    for (let turns = 0; turns < 50 && !timers.some((t) => t.ms === 150); turns++) await new Promise<void>((resolve) => setImmediate(resolve));
    const timeout = timers.find((t) => t.ms === 150);
    assert.ok(timeout !== undefined, 'the script time limit is a 150 ms timer');
    await Promise.resolve();
    assert.equal(settled, false, 'nothing answers before the time limit');
    timeout.fn();
    await assert.rejects(pending, (e: unknown) => e instanceof OtaError && e.code === 'TIMEOUT' && e.deviceId === 'dev0');
    assert.equal(r.ota.endpoint.pending('dev0').queued, 0);
    assert.equal(r.push.dropped, 1);
  } finally {
    await r.close();
  }
});

test('X-Admin-Targeted-Application: the agent selects the target; an unknown one answers unknown-application', async () => {
  const r = await rig({ logApdus: true });
  try {
    const ok = await r.ota.transmitScript('dev0', [fromHex('80CA006600')], { targetAid: fromHex(ISD) });
    assert.equal(toHex(ok[0]!.subarray(ok[0]!.length - 2)), '9000');
    const log = r.devices[0]!.apduLog!;
    assert.deepEqual(log.map((e) => e.command), ['00A4040008' + ISD + '00', '80CA006600']);
    await assert.rejects(
      r.ota.transmitScript('dev0', [fromHex('80CA006600')], { targetAid: fromHex('A0000009990001') }),
      (e: unknown) => e instanceof OtaError && e.code === 'SCRIPT_STATUS' && e.scriptStatus === 'unknown-application',
    );
    assert.equal(log.length, 3, 'only the SELECT of the unknown target reached the card');
  } finally {
    await r.close();
  }
});

test('long-poll push over the PSK-TLS port wakes a device without an in-process push', async () => {
  const store = new MemoryPskStore();
  const push = new LongPollPushGateway();
  const ota = new OtaServer({ pskStore: store, push, lingerMs: 20 });
  const { url } = await ota.listen();
  const key = new Uint8Array(16).fill(3);
  store.register('psk-lp', { deviceId: 'lp', key });
  const device = new Device({ id: 'lp', card: createCard(), serverUrl: url, pskIdentity: 'psk-lp', psk: key, agentId: defaultAgentId('lp') });
  const poller = new LongPollPushClient({ url, pskIdentity: 'psk-lp', psk: key, waitMs: 5000, onTrigger: (t) => void device.agent.trigger(t) });
  poller.start();
  try {
    const r = await ota.channel('lp').transmit(fromHex('00A4040008' + ISD));
    assert.equal(toHex(r.subarray(r.length - 2)), '9000');
    assert.equal(poller.received, 1);
    assert.equal(device.agent.lastTriggerId, 1);
  } finally {
    await poller.stop();
    device.stop();
    await ota.close();
  }
});
