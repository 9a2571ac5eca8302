/**
 * issue 8 §4: a request whose body stops arriving is not held forever. With a short configured timeout, a socket
 * that sends the headers and half the body gets 408 and is closed; the handler never runs; a handler that runs
 * longer than the timeout after its body arrived still answers. No sleeps: the test waits for the close event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createService, requestTimeoutOptions } from '../../../src/platform/http/service.ts';

function halfBody(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.on('connect', () => socket.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"kcv":"0'));
  });
}

test('a body that stops arriving: 408 and the connection closed after the configured time; the handler never ran', async () => {
  const app = await createService({ name: 't', version: '1', logger: false, requestTimeoutMs: 150 });
  const ran: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  app.post(
    '/slow',
    { schema: { body: { type: 'object' }, response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } },
    async (request) => {
      ran.push(JSON.stringify(request.body));
      await released; // a handler may take longer than the request timeout: only receiving the request is bounded
      return { ok: true };
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const port = (app.server.address() as AddressInfo).port;
    const slowHandler = fetch(`http://127.0.0.1:${port}/slow`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    const answer = await halfBody(port);
    const [head, body] = answer.split('\r\n\r\n') as [string, string];
    assert.match(head, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(head, /\r\nConnection: close(\r\n|$)/);
    assert.match(head, /\r\nContent-Type: application\/problem\+json/);
    const problem = JSON.parse(body) as { status: number; code: string };
    assert.deepEqual([problem.status, problem.code], [408, 'REQUEST_TIMEOUT']);
    release();
    const r = await slowHandler;
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ok: true });
    assert.deepEqual(ran, ['{"a":1}'], 'only the complete request reached a handler');
  } finally {
    release();
    await app.close();
  }
});

test('request timeout options: default 30 s, checked at most every second; bad values refused', () => {
  assert.deepEqual(requestTimeoutOptions(), { requestTimeout: 30_000, headersTimeout: 30_000, connectionsCheckingInterval: 1000 });
  assert.deepEqual(requestTimeoutOptions(200), { requestTimeout: 200, headersTimeout: 200, connectionsCheckingInterval: 50 });
  assert.throws(() => requestTimeoutOptions(0), RangeError);
  assert.throws(() => requestTimeoutOptions(1.5), RangeError);
});
