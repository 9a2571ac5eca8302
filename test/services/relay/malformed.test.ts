/**
 * Bad input to the relay (issue 3 "done when": malformed RAM over HTTP requests and API bodies get 4xx
 * problem+json and change nothing): issuer-facing script bodies, terminal service requests, and RAM over
 * HTTP responses from a terminal's admin agent. After each refusal nothing is queued, no request is
 * created and the card saw no APDU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from 'node:https';
import { toHex } from '../../../src/core/bytes.ts';
import { mutualTlsAgent } from '../../../src/platform/tls/index.ts';
import { RELAY_PATHS, terminalCardAccess } from '../../../src/services/provider/relay/index.ts';
import { ADMIN_HEADER, ADMIN_PROTOCOL, CONTENT_TYPE_RESPONSE, RAM_MAX_BODY_BYTES } from '../../../src/transport/ram-http/headers.ts';
import { encodeResponseScript } from '../../../src/transport/ram-http/script.ts';
import { binaryRequest } from '../../../src/terminal/mtls-http.ts';
import { ICCID, TERMINAL_ID, relayRig, until } from './rig.ts';

const json = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

async function call(agent: Agent, url: string, path: string, body: Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const r = await binaryRequest(agent, new URL(path, url), 'POST', headers, body, 5000);
  const text = new TextDecoder().decode(r.body);
  return { status: r.status, type: r.headers['content-type'], problem: text === '' ? undefined : (JSON.parse(text) as { code: string; detail: string; status: number }) };
}

test('(e) malformed issuer script bodies: 400/404/415 problem+json, nothing queued, nothing sent to the card', async () => {
  const r = await relayRig();
  let release!: () => void;
  const held = new Promise<void>((res) => (release = res));
  try {
    r.handler = async () => {
      await held;
      return {};
    };
    const done = r.terminal.requestService({ aid: 'A0000001515350415344', privileges: [] }, { pollMs: 5 });
    done.catch(() => {});
    await until(() => r.relay.requests.open(TERMINAL_ID) !== undefined);
    const seen = r.apdus.length; // the terminal's SELECT + GET DATA 5A
    const path = RELAY_PATHS.scripts(TERMINAL_ID);
    const cases: [string, Uint8Array, number, string, string?][] = [
      ['no body', json({}), 400, 'VALIDATION', 'body /cardId is required'],
      ['no APDU', json({ cardId: ICCID, apdus: [] }), 400, 'VALIDATION', 'body /apdus must NOT have fewer than 1 items'],
      ['short APDU', json({ cardId: ICCID, apdus: ['00A404'] }), 400, 'VALIDATION'],
      ['odd hex', json({ cardId: ICCID, apdus: ['00A4040000F'] }), 400, 'VALIDATION'],
      ['not hex', json({ cardId: ICCID, apdus: ['00A40400ZZ'] }), 400, 'VALIDATION'],
      ['number', json({ cardId: ICCID, apdus: [1234] }), 400, 'VALIDATION'],
      ['too many', json({ cardId: ICCID, apdus: Array(256).fill('00A4040000') }), 400, 'VALIDATION', 'body /apdus must NOT have more than 255 items'],
      ['extra member', json({ cardId: ICCID, apdus: ['00A4040000'], target: 'x' }), 400, 'VALIDATION', 'body /target is not allowed'],
      ['bad card id', json({ cardId: 'card-1', apdus: ['00A4040000'] }), 400, 'VALIDATION'],
      ['not JSON', json('{"cardId":'), 400, 'MALFORMED_JSON'],
    ];
    for (const [name, body, status, code, detail] of cases) {
      const res = await call(r.issuerAgent, r.url, path, body);
      assert.equal(res.status, status, name);
      assert.equal(res.type, 'application/problem+json; charset=utf-8', name);
      assert.equal(res.problem?.code, code, name);
      if (detail !== undefined) assert.equal(res.problem?.detail, detail, name);
    }
    const badTerminal = await call(r.issuerAgent, r.url, '/v1/relay/terminals/T-1/scripts', json({ cardId: ICCID, apdus: ['00A4040000'] }));
    assert.equal(badTerminal.status, 400);
    assert.equal(badTerminal.problem?.code, 'VALIDATION');
    const wrongType = await call(r.issuerAgent, r.url, path, json({ cardId: ICCID, apdus: ['00A4040000'] }), { 'content-type': 'application/octet-stream' });
    assert.equal(wrongType.status, 415);
    assert.equal(wrongType.type, 'application/problem+json; charset=utf-8');
    assert.equal(wrongType.problem?.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal(r.relay.endpoint.pending(TERMINAL_ID).queued, 0);
    assert.equal(r.relay.endpoint.pending(TERMINAL_ID).outstandingSeq, undefined);
    assert.equal(r.apdus.length, seen);
    release();
    await done;
  } finally {
    release();
    await r.close();
  }
});

test('(e) malformed service requests from a terminal: 400 problem+json, no request created', async () => {
  const r = await relayRig({ startTerminal: false });
  const agent = mutualTlsAgent(r.terminalIdentity);
  try {
    const cases: [unknown, string][] = [
      [{ aid: 'A0000001515350415344', privileges: [] }, 'body /cardId is required'],
      [{ cardId: ICCID, aid: 'A00000', privileges: [] }, 'body /aid must match pattern "^(?:[0-9A-F]{2}){5,16}$"'],
      [{ cardId: ICCID, aid: 'A0000001515350415344', privileges: ['Everything'] }, 'body /privileges/0 must be equal to one of the allowed values'],
      [{ cardId: ICCID, aid: 'A0000001515350415344', privileges: ['CardLock', 'CardLock'] }, 'body /privileges must NOT have duplicate items (items ## 1 and 0 are identical)'],
      [{ cardId: ICCID, aid: 'A0000001515350415344', privileges: [], terminalId: 'T2' }, 'body /terminalId is not allowed'],
    ];
    for (const [body, detail] of cases) {
      const res = await call(agent, r.url, RELAY_PATHS.requests, json(body));
      assert.equal(res.status, 400, detail);
      assert.equal(res.problem?.code, 'VALIDATION');
      assert.equal(res.problem?.detail, detail);
    }
    assert.equal(r.relay.requests.latest(TERMINAL_ID), undefined);
    const unknown = await binaryRequest(agent, new URL(RELAY_PATHS.request('0'.repeat(32)), r.url), 'GET', {}, new Uint8Array(0), 5000);
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(new TextDecoder().decode(unknown.body)).code, 'UNKNOWN_REQUEST');
  } finally {
    agent.destroy();
    await r.close();
  }
});

test('(e) malformed RAM over HTTP from a terminal: refused with the RAM problem codes; the script stays out and completes afterwards', async () => {
  const r = await relayRig({ startTerminal: false });
  const agent = mutualTlsAgent(r.terminalIdentity);
  const base = { [ADMIN_HEADER.protocol]: ADMIN_PROTOCOL, [ADMIN_HEADER.from]: '//se-id/terminal/T1' };
  const post = (path: string, headers: Record<string, string>, body: Uint8Array = new Uint8Array(0)) => binaryRequest(agent, new URL(path, r.url), 'POST', headers, body, 5000);
  const code = (res: { body: Uint8Array }) => JSON.parse(new TextDecoder().decode(res.body)).code as string;
  try {
    // The provider's card access needs the card reported by a request: open one by hand.
    const open = await post(RELAY_PATHS.requests, { 'content-type': 'application/json' }, json({ cardId: ICCID, aid: 'A0000001515350415344', privileges: [] }));
    assert.equal(open.status, 202);
    const ch = await terminalCardAccess(r.relay)(ICCID, { kind: 'terminal', terminalId: TERMINAL_ID });
    const pending = ch.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00));
    // Headers first.
    assert.equal(code(await post(RELAY_PATHS.ram, { [ADMIN_HEADER.from]: '//se-id/terminal/T1' })), 'BAD_PROTOCOL');
    assert.equal(code(await post(RELAY_PATHS.ram, { [ADMIN_HEADER.protocol]: ADMIN_PROTOCOL })), 'BAD_AGENT_ID');
    assert.equal(code(await post(RELAY_PATHS.ram, base, Uint8Array.of(1))), 'UNEXPECTED_BODY');
    assert.equal(r.relay.endpoint.pending(TERMINAL_ID).queued, 1);
    const first = await post(RELAY_PATHS.ram, base);
    assert.equal(first.status, 200);
    assert.equal(toHex(first.body).toUpperCase(), 'AA0722' + '05' + '00A4040000');
    const next = first.headers[ADMIN_HEADER.nextUri]!;
    assert.match(next, /^\/v1\/terminal\/ram\/[0-9a-f]{32}\/1$/);
    const ok = encodeResponseScript({ executed: 1, responses: [Uint8Array.of(0x6f, 0x10, 0x90, 0x00)] });
    const withStatus = { ...base, [ADMIN_HEADER.scriptStatus]: 'ok' };
    const refusals: [Record<string, string>, Uint8Array, number, string][] = [
      [{ ...withStatus, 'content-type': CONTENT_TYPE_RESPONSE }, Uint8Array.of(0xab, 0x05, 0x80, 0x01), 400, 'BAD_SCRIPT'],
      [{ ...withStatus, 'content-type': CONTENT_TYPE_RESPONSE }, encodeResponseScript({ executed: 2, responses: [Uint8Array.of(0x90, 0x00), Uint8Array.of(0x90, 0x00)] }), 400, 'BAD_SCRIPT'],
      [{ ...withStatus, 'content-type': 'application/json' }, ok, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ ...base, 'content-type': CONTENT_TYPE_RESPONSE }, ok, 400, 'BAD_HEADER'],
      [{ ...withStatus, [ADMIN_HEADER.scriptStatus]: 'fine', 'content-type': CONTENT_TYPE_RESPONSE }, ok, 400, 'BAD_HEADER'],
    ];
    for (const [headers, body, status, c] of refusals) {
      const res = await post(next, headers, body);
      assert.equal(res.status, status, c);
      assert.equal(res.headers['content-type'], 'application/problem+json');
      assert.equal(code(res), c);
    }
    // issue 8 §4: the 413 quotes the limit actually enforced (one constant): RAM_MAX_BODY_BYTES accepted size, one byte more refused
    const big = await post(next, { ...withStatus, 'content-type': CONTENT_TYPE_RESPONSE }, new Uint8Array(RAM_MAX_BODY_BYTES + 1));
    assert.equal(big.status, 413);
    const bigProblem = JSON.parse(new TextDecoder().decode(big.body)) as { code: string; detail: string; limit: number };
    assert.deepEqual([bigProblem.code, bigProblem.detail, bigProblem.limit], ['BODY_TOO_LARGE', `request body exceeds ${RAM_MAX_BODY_BYTES} bytes`, 70_000]);
    assert.equal(code(await post(next.replace(/\/1$/, '/2'), { ...withStatus, 'content-type': CONTENT_TYPE_RESPONSE }, ok)), 'UNKNOWN_SCRIPT');
    assert.equal(code(await post(RELAY_PATHS.ram + '/' + '0'.repeat(32) + '/1', { ...withStatus, 'content-type': CONTENT_TYPE_RESPONSE }, ok)), 'UNKNOWN_SESSION');
    assert.equal(code(await post(RELAY_PATHS.ram + '/x/y', { ...withStatus, 'content-type': CONTENT_TYPE_RESPONSE }, ok)), 'NOT_FOUND');
    // Still out; the right response completes it.
    assert.equal(r.relay.endpoint.pending(TERMINAL_ID).outstandingSeq, 1);
    const fine = await post(next, { ...withStatus, 'content-type': CONTENT_TYPE_RESPONSE }, ok);
    assert.equal(fine.status, 204);
    assert.equal(toHex(await pending).toUpperCase(), '6F109000');
  } finally {
    agent.destroy();
    await r.close();
  }
});
