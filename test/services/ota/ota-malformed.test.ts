/**
 * Malformed RAM over HTTP requests (GP Amendment B §3) get 4xx problem+json and change nothing: the script
 * stays out, the queue stays intact, the platform's call stays pending until a proper response comes.
 * The agent is played by hand over a real PSK-TLS connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { OtaError } from '../../../src/services/ota/errors.ts';
import { PskHttpsClient, type HttpReply } from '../../../src/device/psk-https.ts';
import { defaultAgentId } from '../../../src/device/device.ts';
import { CONTENT_TYPE_RESPONSE } from '../../../src/transport/ram-http/headers.ts';
import { encodeResponseScript } from '../../../src/transport/ram-http/script.ts';
import { rig, type Rig } from './helpers.ts';

const base = { 'x-admin-protocol': 'globalplatform-remote-admin/1.0', 'x-admin-from': defaultAgentId('dev0') };
const okHeaders = { ...base, 'x-admin-script-status': 'ok', 'content-type': CONTENT_TYPE_RESPONSE };
const R = (hex: string) => encodeResponseScript({ executed: 1, responses: [fromHex(hex)] });

function problemOf(reply: HttpReply): { status: number; code: string } {
  assert.equal(reply.headers['content-type'], 'application/problem+json');
  const p = JSON.parse(new TextDecoder().decode(reply.body)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(p).sort(), ['code', 'detail', 'instance', 'status', 'title', 'type']);
  assert.equal(p.type, `https://opentsm.dev/problems/${String(p.code)}`);
  assert.equal(p.status, reply.status);
  return { status: reply.status, code: p.code as string };
}

async function manual(): Promise<{ r: Rig; http: PskHttpsClient; path: string }> {
  const r = await rig();
  r.devices[0]!.stop(); // the test plays the agent
  const http = new PskHttpsClient({ url: r.url, identity: 'psk-dev0', key: r.keys[0]! });
  return { r, http, path: new URL(r.url).pathname };
}

test('§3.3–§3.6 malformed agent requests: exact 4xx problem codes, script still out, queue intact', async () => {
  const { r, http, path } = await manual();
  let settled = false;
  // Straight into the RAM endpoint's queue (the OTA server's per-card conversations would hold the second
  // script back until the first is answered; this test is about the endpoint's queue).
  const first = r.ota.endpoint.submit('dev0', [fromHex('80CA006600')], { timeoutMs: 30_000 }).finally(() => (settled = true));
  const second = r.ota.endpoint.submit('dev0', [fromHex('80CA004200')], { timeoutMs: 30_000 });
  first.catch(() => {});
  second.catch(() => {});
  try {
    const open = await http.request('POST', path, base);
    assert.equal(open.status, 200);
    assert.equal(toHex(open.body).toUpperCase(), 'AA07220580CA006600');
    const next = open.headers['x-admin-next-uri']!;
    assert.match(next, /^\/ram\/[0-9a-f]{32}\/1$/);
    const before = r.ota.endpoint.pending('dev0');
    assert.deepEqual(before, { queued: 1, outstandingSeq: 1, session: true });

    const cases: [string, () => Promise<HttpReply>, number, string][] = [
      ['no X-Admin-Protocol', () => http.request('POST', next, { ...okHeaders, 'x-admin-protocol': '' }, R('9000')), 400, 'BAD_PROTOCOL'],
      ['wrong X-Admin-Protocol', () => http.request('POST', next, { ...okHeaders, 'x-admin-protocol': 'globalplatform-remote-admin/2.0' }, R('9000')), 400, 'BAD_PROTOCOL'],
      ['no X-Admin-From', () => http.request('POST', next, { ...okHeaders, 'x-admin-from': '' }, R('9000')), 400, 'BAD_AGENT_ID'],
      ['another agent id', () => http.request('POST', next, { ...okHeaders, 'x-admin-from': '//se-id/dev/other' }, R('9000')), 403, 'AGENT_MISMATCH'],
      ['no X-Admin-Script-Status', () => http.request('POST', next, { ...base, 'content-type': CONTENT_TYPE_RESPONSE }, R('9000')), 400, 'BAD_HEADER'],
      ['unknown X-Admin-Script-Status', () => http.request('POST', next, { ...okHeaders, 'x-admin-script-status': 'fine' }, R('9000')), 400, 'BAD_HEADER'],
      ['bad X-Admin-Resume', () => http.request('POST', next, { ...okHeaders, 'x-admin-resume': 'maybe' }, R('9000')), 400, 'BAD_HEADER'],
      ['script content type instead of response', () => http.request('POST', next, { ...okHeaders, 'content-type': 'application/vnd.globalplatform.card-content-mgt;version=1.0' }, R('9000')), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['no content type', () => http.request('POST', next, { ...base, 'x-admin-script-status': 'ok' }, R('9000')), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['bad script encoding (truncated)', () => http.request('POST', next, okHeaders, fromHex('AB078001012302')), 400, 'BAD_SCRIPT'],
      ['command template posted back', () => http.request('POST', next, okHeaders, fromHex('AA07220580CA006600')), 400, 'BAD_SCRIPT'],
      ['two R-APDUs for a one-command script', () => http.request('POST', next, okHeaders, encodeResponseScript({ executed: 2, responses: [fromHex('9000'), fromHex('9000')] })), 400, 'BAD_SCRIPT'],
      ['error status with a body', () => http.request('POST', next, { ...base, 'x-admin-script-status': 'security-error' }, R('9000')), 400, 'UNEXPECTED_BODY'],
      ['unknown session', () => http.request('POST', next.replace(/\/[0-9a-f]{32}\//, '/' + '0'.repeat(32) + '/'), okHeaders, R('9000')), 404, 'UNKNOWN_SESSION'],
      ['response to a script never sent', () => http.request('POST', next.replace(/\/1$/, '/2'), okHeaders, R('9000')), 409, 'UNKNOWN_SCRIPT'],
      ['not a resource', () => http.request('POST', '/ram/x', okHeaders, R('9000')), 404, 'NOT_FOUND'],
      ['GET', () => http.request('GET', path, base), 405, 'METHOD_NOT_ALLOWED'],
      ['first POST with a body', () => http.request('POST', path, { ...base, 'x-admin-resume': 'true' }, R('9000')), 400, 'UNEXPECTED_BODY'],
      ['oversized body', () => http.request('POST', next, okHeaders, new Uint8Array(80_000)), 413, 'BODY_TOO_LARGE'],
    ];
    for (const [name, send, status, code] of cases) {
      const reply = await send();
      assert.deepEqual(problemOf(reply), { status, code }, name);
      assert.deepEqual(r.ota.endpoint.pending('dev0'), before, `${name}: state unchanged`);
      assert.equal(settled, false, `${name}: the platform call is still waiting`);
    }
    // Now the proper response: the first call gets exactly its R-APDU, the second script comes next.
    const good = await http.request('POST', next, okHeaders, R('6A88'));
    assert.equal(good.status, 200);
    assert.equal(toHex(good.body).toUpperCase(), 'AA07220580CA004200');
    assert.deepEqual((await first).map((b) => toHex(b).toUpperCase()), ['6A88']);
    // Repeating the processed response without X-Admin-Resume is refused, and changes nothing.
    assert.deepEqual(problemOf(await http.request('POST', next, okHeaders, R('6A88'))), { status: 409, code: 'DUPLICATE_RESPONSE' });
    // With X-Admin-Resume but a different body: refused too.
    assert.deepEqual(problemOf(await http.request('POST', next, { ...okHeaders, 'x-admin-resume': 'true' }, R('9000'))), { status: 409, code: 'DUPLICATE_RESPONSE' });
    // With X-Admin-Resume and the same body: the same next script again, not processed twice.
    const again = await http.request('POST', next, { ...okHeaders, 'x-admin-resume': 'true' }, R('6A88'));
    assert.equal(again.status, 200);
    assert.equal(again.headers['x-admin-next-uri'], good.headers['x-admin-next-uri']);
    assert.equal(r.ota.endpoint.stats.responsesProcessed, 1);
    const end = await http.request('POST', good.headers['x-admin-next-uri']!, okHeaders, R('420200019000'));
    assert.equal(end.status, 204);
    assert.deepEqual((await second).map((b) => toHex(b).toUpperCase()), ['420200019000']);
  } finally {
    http.reset();
    await r.close();
  }
});

test('a fresh session while a script is out fails that script with SESSION_LOST (whether it ran is unknown)', async () => {
  const { r, http, path } = await manual();
  try {
    const p = r.ota.transmitScript('dev0', [fromHex('80CA006600')]);
    assert.equal((await http.request('POST', path, base)).status, 200);
    const fresh = http.request('POST', path, base);
    await assert.rejects(p, (e: unknown) => e instanceof OtaError && e.code === 'SESSION_LOST');
    assert.equal((await fresh).status, 204);
  } finally {
    http.reset();
    await r.close();
  }
});

test('agent reports: security-error and Bad Format reject the platform call with typed errors', async () => {
  const { r, http, path } = await manual();
  try {
    const a = r.ota.transmitScript('dev0', [fromHex('80CA006600')]);
    const b = r.ota.transmitScript('dev0', [fromHex('80CA004200')]);
    const aDone = assert.rejects(a, (e: unknown) => e instanceof OtaError && e.code === 'SCRIPT_STATUS' && e.scriptStatus === 'security-error');
    const bDone = assert.rejects(b, (e: unknown) => e instanceof OtaError && e.code === 'BAD_FORMAT');
    const s1 = await http.request('POST', path, base);
    const s2 = await http.request('POST', s1.headers['x-admin-next-uri']!, { ...base, 'x-admin-script-status': 'security-error' });
    await aDone;
    await http.request('POST', s2.headers['x-admin-next-uri']!, okHeaders, fromHex('AB06800100900101'));
    await bDone;
  } finally {
    http.reset();
    await r.close();
  }
});
