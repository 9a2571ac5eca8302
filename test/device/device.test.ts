/** The phone: Device, DeviceFleet and the admin agent's own rules (GP Amendment B §3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { createCard } from '../../src/card/index.ts';
import { Device, defaultAgentId } from '../../src/device/device.ts';
import { DeviceFleet } from '../../src/device/fleet.ts';
import { DeviceError } from '../../src/device/errors.ts';
import { InProcessPushGateway } from '../../src/services/ota/push.ts';
import { encodeCommandScript } from '../../src/transport/ram-http/script.ts';
import { rig } from '../services/ota/helpers.ts';

const KEY = new Uint8Array(16).fill(5);

/** A hand-written RAM server: answers each POST with the next entry of `replies`. */
async function fakeServer(replies: { status: number; headers?: Record<string, string>; body?: Uint8Array }[]) {
  const seen: { url: string; headers: Record<string, unknown>; body: string }[] = [];
  const server = https.createServer(
    { pskCallback: () => Buffer.from(KEY), ciphers: 'PSK-AES128-GCM-SHA256', maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('hex').toUpperCase() });
        const r = replies.shift() ?? { status: 204 };
        res.writeHead(r.status, r.headers ?? {});
        res.end(r.body ?? Buffer.alloc(0));
      });
    },
  );
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { seen, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/ram`, close: () => new Promise<void>((res) => (server.closeAllConnections(), server.close(() => res()))) };
}

const scriptHeaders = (next: string) => ({
  'content-type': 'application/vnd.globalplatform.card-content-mgt;version=1.0',
  'x-admin-protocol': 'globalplatform-remote-admin/1.0',
  'x-admin-next-uri': next,
});

test('agent: first POST has no body, X-Admin-Protocol and X-Admin-From; the response goes to X-Admin-Next-URI', async () => {
  const s = await fakeServer([{ status: 200, headers: scriptHeaders('/ram/abc/1'), body: encodeCommandScript([fromHex('80CA006600')], 'indefinite') }]);
  const d = new Device({ id: 'p1', card: createCard(), serverUrl: s.url, pskIdentity: 'id', psk: KEY, logApdus: true });
  try {
    await d.wake();
    assert.equal(s.seen.length, 2);
    assert.deepEqual([s.seen[0]!.url, s.seen[0]!.body, s.seen[0]!.headers['x-admin-from'], s.seen[0]!.headers['x-admin-protocol']], ['/ram', '', '//se-id/dev/p1', 'globalplatform-remote-admin/1.0']);
    assert.equal(s.seen[0]!.headers['content-type'], undefined);
    assert.equal(s.seen[1]!.url, '/ram/abc/1');
    assert.equal(s.seen[1]!.headers['x-admin-script-status'], 'ok');
    assert.equal(s.seen[1]!.headers['content-type'], 'application/vnd.globalplatform.card-content-mgt-response;version=1.0');
    const r = d.apduLog![0]!.response;
    assert.equal(s.seen[1]!.body, 'AF80800101' + '23' + (r.length / 2).toString(16).padStart(2, '0').toUpperCase() + r + '0000');
  } finally {
    d.stop();
    await s.close();
  }
});

test('agent: the same script (same Next-URI) sent twice runs once; the stored response is posted again', async () => {
  const script = encodeCommandScript([fromHex('80CA006600')]);
  const s = await fakeServer([
    { status: 200, headers: scriptHeaders('/ram/abc/1'), body: script },
    { status: 200, headers: scriptHeaders('/ram/abc/1'), body: script },
  ]);
  const d = new Device({ id: 'p2', card: createCard(), serverUrl: s.url, pskIdentity: 'id', psk: KEY, logApdus: true });
  try {
    await d.wake();
    assert.equal(d.apduLog!.length, 1);
    assert.equal(s.seen.length, 3);
    assert.equal(s.seen[1]!.body, s.seen[2]!.body);
  } finally {
    d.stop();
    await s.close();
  }
});

test('agent: a reply that is not RAM over HTTP, or a 4xx, fails the session with a typed error and runs nothing', async () => {
  for (const [reply, code] of [
    [{ status: 200, headers: { 'content-type': 'text/html' }, body: new Uint8Array(3) }, 'PROTOCOL'],
    [{ status: 200, headers: { ...scriptHeaders('https://elsewhere.example/x') }, body: encodeCommandScript([fromHex('80CA006600')]) }, 'PROTOCOL'],
    [{ status: 409, headers: { 'content-type': 'application/problem+json' }, body: new TextEncoder().encode('{"code":"UNKNOWN_SCRIPT"}') }, 'REFUSED'],
  ] as const) {
    const s = await fakeServer([reply]);
    const d = new Device({ id: 'p3', card: createCard(), serverUrl: s.url, pskIdentity: 'id', psk: KEY, logApdus: true });
    try {
      await d.wake();
      assert.ok(d.agent.lastError instanceof DeviceError);
      assert.equal((d.agent.lastError as DeviceError).code, code);
      assert.deepEqual(d.apduLog, []);
    } finally {
      d.stop();
      await s.close();
    }
  }
});

test('agent: a push during a session runs one more session after it', async () => {
  const r = await rig();
  try {
    const agent = r.devices[0]!.agent;
    const a = agent.trigger({ type: 'ram-http-trigger', deviceId: 'dev0', id: 4 });
    const b = agent.trigger({ type: 'ram-http-trigger', deviceId: 'dev0', id: 5 });
    await Promise.all([a, b]);
    assert.equal(agent.stats.sessions, 2);
    assert.equal(agent.lastTriggerId, 5);
    assert.equal(agent.busy, false);
  } finally {
    await r.close();
  }
});

test('DeviceFleet: add/get/remove, duplicate ids refused, 1 000 idle devices hold no connection and no timer', async () => {
  const push = new InProcessPushGateway();
  const fleet = new DeviceFleet({ serverUrl: 'https://127.0.0.1:1/ram', push });
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  for (let i = 0; i < 1000; i++) fleet.add({ id: `d${i}`, card: createCard(), pskIdentity: `p${i}`, psk: KEY });
  assert.equal(fleet.size, 1000);
  assert.equal((process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length, handles);
  assert.throws(() => fleet.add({ id: 'd1', card: createCard(), pskIdentity: 'x', psk: KEY }), RangeError);
  assert.equal(fleet.get('d7')!.id, 'd7');
  assert.equal(fleet.busy(), 0);
  assert.equal(fleet.remove('d7'), true);
  assert.equal(fleet.get('d7'), undefined);
  fleet.stop();
  assert.equal(fleet.size, 0);
});

test('defaultAgentId keeps what a se-id value allows', () => {
  assert.equal(defaultAgentId('dev-0'), '//se-id/dev/dev0');
  assert.equal(defaultAgentId('---'), '//se-id/dev/0');
});

test('agent (issue 8 §3): the changes of one RAM script are made durable together, once, before its response is POSTed', async () => {
  const order: string[] = [];
  const iu = (c: string) => fromHex(`8050300008${c}`);
  const s = await fakeServer([
    { status: 200, headers: scriptHeaders('/ram/abc/1'), body: encodeCommandScript([iu('0102030405060708'), iu('1112131415161718'), fromHex('80CA006600')], 'indefinite') },
  ]);
  const card = createCard();
  card.attachStorage({
    stage: () => void order.push('stage'),
    sync: async () => void order.push('durable'),
  });
  const seen = s.seen;
  const d = new Device({ id: 'p1', card, serverUrl: s.url, pskIdentity: 'id', psk: KEY, logApdus: true });
  const posts = () => seen.length;
  const origPush = seen.push.bind(seen);
  seen.push = (...items) => {
    for (const _ of items) order.push(`post ${posts() + 1}`);
    return origPush(...items);
  };
  try {
    await d.wake();
    // Both INITIALIZE UPDATEs moved the sequence counter; one barrier covers them, and it comes before the POST
    // that carries their responses off the phone.
    assert.deepEqual(order, ['post 1', 'stage', 'stage', 'durable', 'post 2']);
    assert.equal(d.apduLog!.length, 3);
  } finally {
    d.stop();
    await s.close();
  }
});
