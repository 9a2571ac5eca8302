/**
 * The agent's side of a RAM over HTTP administration session (GP Card Spec v2.2 Amendment B §3), against a
 * scripted fake exchange: first POST, script → response POST to X-Admin-Next-URI, 204 end, X-Admin-Resume
 * after a lost connection, a script never run twice, X-Admin-Targeted-Application, and every bad answer
 * of the server ending the session with a typed error and nothing more sent or run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import {
  RamClientError,
  RamClientSession,
  runRamClientSession,
  runTargetedScript,
  selectApplication,
  isConnectionLost,
  type RamClientEvent,
  type RamClientOptions,
  type RamReply,
  type RamRequest,
  type ReceivedScript,
  type ScriptOutcome,
} from '../../../src/transport/ram-http/index.ts';

const FROM = '//se-id/eid/89049032000000000000000000000001';
const hex = (b: Uint8Array) => toHex(b).toUpperCase();
const SCRIPT_A = fromHex('AA07220580CA006600');
const SCRIPT_B = fromHex('AA07220580CA004200');
const RESPONSE_A = fromHex('AB088001012303019000');

function scriptReply(nextUri: string, body: Uint8Array, extra: Record<string, string> = {}): RamReply {
  return { status: 200, headers: { 'content-type': 'application/vnd.globalplatform.card-content-mgt;version=1.0', 'x-admin-next-uri': nextUri, ...extra }, body };
}
const END: RamReply = { status: 204, headers: {}, body: new Uint8Array(0) };
const lost = (code = 'ECONNRESET') => Object.assign(new Error(`read ${code}`), { code });

/** A server played from a list: each step is a reply, or an error the exchange rejects with. */
function fakeExchange(steps: readonly (RamReply | Error)[]) {
  const seen: RamRequest[] = [];
  let i = 0;
  return {
    seen,
    exchange: async (request: RamRequest): Promise<RamReply> => {
      seen.push(request);
      const step = steps[i++];
      if (step === undefined) throw new Error('the fake server has no more answers');
      if (step instanceof Error) throw step;
      return step;
    },
  };
}

/** An executor that records what it was asked to run and answers RESPONSE_A with 1 command. */
function recordingExecutor(outcome: (s: ReceivedScript) => ScriptOutcome = () => ({ status: 'ok', body: RESPONSE_A, executed: 1 })) {
  const ran: ReceivedScript[] = [];
  return { ran, execute: async (s: ReceivedScript) => (ran.push(s), outcome(s)) };
}

function options(exchange: RamClientOptions['exchange'], execute: RamClientOptions['execute'], more: Partial<RamClientOptions> = {}) {
  const delays: number[] = [];
  const events: RamClientEvent[] = [];
  const o: RamClientOptions = {
    initialPath: '/ram?d=1',
    agentId: FROM,
    peer: 'OTA server',
    exchange,
    execute,
    sleep: async (ms) => void delays.push(ms),
    onEvent: (e) => events.push(e),
    ...more,
  };
  return { o, delays, events };
}

const BASE = { 'x-admin-protocol': 'globalplatform-remote-admin/1.0', 'x-admin-from': FROM };
const OK_HEADERS = { ...BASE, 'x-admin-script-status': 'ok', 'content-type': 'application/vnd.globalplatform.card-content-mgt-response;version=1.0' };

test('§3 session: first POST without body, script run, Response Scripting template POSTed to X-Admin-Next-URI, 204 ends', async () => {
  const s = fakeExchange([scriptReply('/ram/s/1', SCRIPT_A), scriptReply('/ram/s/2', SCRIPT_B), END]);
  const x = recordingExecutor();
  const { o, delays, events } = options(s.exchange, x.execute);
  const summary = await runRamClientSession(o);
  assert.deepEqual(summary, { scripts: 2, commands: 2, resumes: 0, replays: 0 });
  assert.deepEqual(
    s.seen.map((r) => ({ path: r.path, headers: r.headers, body: hex(r.body) })),
    [
      { path: '/ram?d=1', headers: BASE, body: '' },
      { path: '/ram/s/1', headers: OK_HEADERS, body: hex(RESPONSE_A) },
      { path: '/ram/s/2', headers: OK_HEADERS, body: hex(RESPONSE_A) },
    ],
  );
  assert.deepEqual(
    x.ran.map((r) => [r.nextUri, hex(r.body), r.targetedApplication, r.select]),
    [
      ['/ram/s/1', hex(SCRIPT_A), undefined, false],
      ['/ram/s/2', hex(SCRIPT_B), undefined, false],
    ],
  );
  assert.deepEqual(delays, []);
  assert.deepEqual(events, [
    { type: 'script', nextUri: '/ram/s/1', status: 'ok', executed: 1 },
    { type: 'script', nextUri: '/ram/s/2', status: 'ok', executed: 1 },
  ]);
});

test('§3 session: a 204 to the first POST ends the session with nothing run', async () => {
  const s = fakeExchange([END]);
  const x = recordingExecutor();
  const { o } = options(s.exchange, x.execute);
  assert.deepEqual(await runRamClientSession(o), { scripts: 0, commands: 0, resumes: 0, replays: 0 });
  assert.equal(s.seen.length, 1);
  assert.equal(x.ran.length, 0);
});

test('resume: a lost connection repeats the same POST with X-Admin-Resume: true, doubling the delay', async () => {
  const s = fakeExchange([scriptReply('/ram/s/1', SCRIPT_A), lost(), lost('ERR_SOCKET_CLOSED'), Object.assign(new Error('socket hang up'), {}), END]);
  const x = recordingExecutor();
  const { o, delays, events } = options(s.exchange, x.execute, { retry: { delayMs: 10 } });
  const summary = await runRamClientSession(o);
  assert.deepEqual(summary, { scripts: 1, commands: 1, resumes: 3, replays: 0 });
  assert.equal(x.ran.length, 1);
  assert.deepEqual(delays, [10, 20, 40]);
  assert.deepEqual(s.seen[1], { path: '/ram/s/1', headers: OK_HEADERS, body: RESPONSE_A });
  for (const r of s.seen.slice(2)) {
    assert.deepEqual(r, { path: '/ram/s/1', headers: { ...OK_HEADERS, 'x-admin-resume': 'true' }, body: RESPONSE_A });
  }
  assert.deepEqual(
    events.filter((e) => e.type === 'resume').map((e) => (e.type === 'resume' ? [e.attempt, e.delayMs] : [])),
    [
      [1, 10],
      [2, 20],
      [3, 40],
    ],
  );
});

test('resume: the delay starts again for every request and is capped by maxDelayMs', async () => {
  const s = fakeExchange([lost(), lost(), lost(), lost(), scriptReply('/ram/s/1', SCRIPT_A), lost(), END]);
  const x = recordingExecutor();
  const { o, delays } = options(s.exchange, x.execute, { retry: { delayMs: 10, maxDelayMs: 25 } });
  assert.equal((await runRamClientSession(o)).resumes, 5);
  assert.deepEqual(delays, [10, 20, 25, 25, 10]);
  assert.equal(s.seen[0]!.headers['x-admin-resume'], undefined);
  assert.equal(s.seen[4]!.headers['x-admin-resume'], 'true');
  assert.equal(s.seen[4]!.path, '/ram?d=1');
  assert.equal(s.seen[5]!.headers['x-admin-resume'], undefined, 'a new request is not a resume');
});

test('never twice: the script just run, sent again (same Next-URI), is not run; its stored response is repeated', async () => {
  // The response POST was lost after the server took it; on resume the server sends the same script again.
  const s = fakeExchange([scriptReply('/ram/s/1', SCRIPT_A), lost(), scriptReply('/ram/s/1', SCRIPT_A), scriptReply('/ram/s/2', SCRIPT_A), END]);
  const x = recordingExecutor();
  const { o, events } = options(s.exchange, x.execute);
  const summary = await runRamClientSession(o);
  assert.deepEqual(summary, { scripts: 2, commands: 2, resumes: 1, replays: 1 });
  assert.deepEqual(
    x.ran.map((r) => r.nextUri),
    ['/ram/s/1', '/ram/s/2'],
    'the same body under a new Next-URI is a new script and runs',
  );
  assert.deepEqual(s.seen[3], s.seen[1], 'the stored response, byte for byte, without X-Admin-Resume');
  assert.ok(events.some((e) => e.type === 'replay' && e.nextUri === '/ram/s/1'));
});

test('never twice: a reported unknown-application is repeated too, not retried on the card', async () => {
  const s = fakeExchange([scriptReply('/ram/s/1', SCRIPT_A, { 'x-admin-targeted-application': '//aid/A000000003/1010' }), scriptReply('/ram/s/1', SCRIPT_A), END]);
  const x = recordingExecutor(() => ({ status: 'unknown-application', body: new Uint8Array(0) }));
  const { o } = options(s.exchange, x.execute);
  assert.deepEqual(await runRamClientSession(o), { scripts: 0, commands: 0, resumes: 0, replays: 1 });
  assert.equal(x.ran.length, 1);
  const report = { path: '/ram/s/1', headers: { ...BASE, 'x-admin-script-status': 'unknown-application' }, body: new Uint8Array(0) };
  assert.deepEqual(s.seen[1], report);
  assert.deepEqual(s.seen[2], report);
});

test('resume limit: beyond maxRetries the session fails with CONNECTION_FAILED (cause kept), nothing run', async () => {
  const s = fakeExchange([lost(), lost(), lost(), scriptReply('/ram/s/1', SCRIPT_A)]);
  const x = recordingExecutor();
  const { o, delays } = options(s.exchange, x.execute, { retry: { maxRetries: 2, delayMs: 5 } });
  await assert.rejects(runRamClientSession(o), (e: unknown) => {
    assert.ok(e instanceof RamClientError);
    assert.equal(e.code, 'CONNECTION_FAILED');
    assert.equal(e.message, 'RAM over HTTP request failed: read ECONNRESET');
    assert.equal((e.cause as { code: string }).code, 'ECONNRESET');
    return true;
  });
  assert.equal(s.seen.length, 3);
  assert.deepEqual(delays, [5, 10]);
  assert.equal(x.ran.length, 0);
});

test('a failure that is not a lost connection is not resumed', async () => {
  for (const err of [new TypeError('bad header value'), Object.assign(new Error('handshake'), { code: 'EPROTO' })]) {
    const s = fakeExchange([err, END]);
    const { o, delays } = options(s.exchange, recordingExecutor().execute);
    await assert.rejects(runRamClientSession(o), { name: 'RamClientError', code: 'CONNECTION_FAILED' });
    assert.equal(s.seen.length, 1);
    assert.deepEqual(delays, []);
  }
  // and the retry test is the caller's when it says so
  const s = fakeExchange([Object.assign(new Error('aborted'), {}), END]);
  const { o } = options(s.exchange, recordingExecutor().execute, { isRetryable: (e) => /aborted/.test((e as Error).message) });
  assert.equal((await runRamClientSession(o)).resumes, 1);
});

test('isConnectionLost: node network error codes and "socket hang up", nothing else', () => {
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_CLOSED']) {
    assert.equal(isConnectionLost(lost(code)), true, code);
  }
  assert.equal(isConnectionLost(new Error('socket hang up')), true);
  for (const e of [new Error('x'), Object.assign(new Error('x'), { code: 'EPROTO' }), null, undefined, 'ECONNRESET', { code: 42 }]) {
    assert.equal(isConnectionLost(e), false, String(e));
  }
});

test('stop: STOPPED before the first attempt (nothing sent) and after a failed attempt (no resume)', async () => {
  const s1 = fakeExchange([END]);
  await assert.rejects(runRamClientSession(options(s1.exchange, recordingExecutor().execute, { isStopped: () => true }).o), { name: 'RamClientError', code: 'STOPPED' });
  assert.equal(s1.seen.length, 0);
  const s2 = fakeExchange([scriptReply('/ram/s/1', SCRIPT_A), lost(), END]);
  const x = recordingExecutor();
  // the owner stops while the response POST is on the wire
  const { o, delays } = options(s2.exchange, x.execute, { isStopped: () => s2.seen.length >= 2 });
  await assert.rejects(runRamClientSession(o), (e: unknown) => e instanceof RamClientError && e.code === 'STOPPED' && (e.cause as { code: string }).code === 'ECONNRESET');
  assert.equal(s2.seen.length, 2, 'no resume after the stop');
  assert.equal(x.ran.length, 1);
  assert.deepEqual(delays, []);
});

test('bad server answers end the session with a typed error; nothing run, nothing more sent', async () => {
  const problem = (status: number, body: string): RamReply => ({ status, headers: { 'content-type': 'application/problem+json' }, body: new TextEncoder().encode(body) });
  const cases: [string, RamReply, string, Partial<{ status: number; problemCode: string; message: string }>][] = [
    ['409 problem', problem(409, '{"code":"UNKNOWN_SCRIPT","title":"x"}'), 'REFUSED', { status: 409, problemCode: 'UNKNOWN_SCRIPT', message: 'OTA server answered 409 UNKNOWN_SCRIPT' }],
    ['500 not JSON', problem(500, '<html>'), 'REFUSED', { status: 500, problemCode: undefined, message: 'OTA server answered 500' }],
    ['401 JSON null', problem(401, 'null'), 'REFUSED', { status: 401, problemCode: undefined }],
    ['400 numeric code', problem(400, '{"code":7}'), 'REFUSED', { status: 400, problemCode: undefined }],
    ['302 redirect', { status: 302, headers: { location: '/elsewhere' }, body: new Uint8Array(0) }, 'REFUSED', { status: 302 }],
    ['200 text/html', { status: 200, headers: { 'content-type': 'text/html' }, body: new Uint8Array(3) }, 'PROTOCOL', {}],
    ['200 no content type', { status: 200, headers: { 'x-admin-next-uri': '/ram/s/1' }, body: SCRIPT_A }, 'PROTOCOL', {}],
    ['200 script without version', { ...scriptReply('/ram/s/1', SCRIPT_A), headers: { 'content-type': 'application/vnd.globalplatform.card-content-mgt', 'x-admin-next-uri': '/ram/s/1' } }, 'PROTOCOL', {}],
    ['200 response media type', { ...scriptReply('/ram/s/1', SCRIPT_A), headers: { 'content-type': 'application/vnd.globalplatform.card-content-mgt-response;version=1.0', 'x-admin-next-uri': '/ram/s/1' } }, 'PROTOCOL', {}],
    ['200 no Next-URI', { ...scriptReply('', SCRIPT_A), headers: { 'content-type': 'application/vnd.globalplatform.card-content-mgt;version=1.0' } }, 'PROTOCOL', {}],
    ['200 absolute Next-URI', scriptReply('https://elsewhere.example/x', SCRIPT_A), 'PROTOCOL', {}],
    ['200 network-path Next-URI', scriptReply('//elsewhere.example/x', SCRIPT_A), 'PROTOCOL', {}],
    ['200 Next-URI with a space', scriptReply('/ram/a b', SCRIPT_A), 'PROTOCOL', {}],
  ];
  for (const [label, reply, code, fields] of cases) {
    const s = fakeExchange([reply, END]);
    const x = recordingExecutor();
    const { o } = options(s.exchange, x.execute);
    await assert.rejects(
      runRamClientSession(o),
      (e: unknown) => {
        assert.ok(e instanceof RamClientError, label);
        assert.equal(e.code, code, label);
        if ('status' in fields) assert.equal(e.status, fields.status, label);
        if ('problemCode' in fields) assert.equal(e.problemCode, fields.problemCode, label);
        if (fields.message) assert.equal(e.message, fields.message, label);
        if (code === 'PROTOCOL') assert.match(e.message, /^OTA server reply is not a RAM over HTTP script: /, label);
        return true;
      },
      label,
    );
    assert.equal(s.seen.length, 1, label);
    assert.equal(x.ran.length, 0, label);
  }
});

test('a bad answer after a script (resumed or not) fails the same way; the script ran once', async () => {
  const s = fakeExchange([scriptReply('/ram/s/1', SCRIPT_A), lost(), { status: 409, headers: {}, body: new TextEncoder().encode('{"code":"UNKNOWN_SESSION"}') }]);
  const x = recordingExecutor();
  const { o } = options(s.exchange, x.execute, { peer: 'provider' });
  await assert.rejects(runRamClientSession(o), { name: 'RamClientError', code: 'REFUSED', status: 409, problemCode: 'UNKNOWN_SESSION', message: 'provider answered 409 UNKNOWN_SESSION' });
  assert.equal(x.ran.length, 1);
});

test('an executor error propagates as it is and nothing more is sent', async () => {
  const s = fakeExchange([scriptReply('/ram/s/1', SCRIPT_A), END]);
  const boom = new Error('card gone');
  const { o } = options(s.exchange, async () => {
    throw boom;
  });
  await assert.rejects(runRamClientSession(o), (e) => e === boom);
  assert.equal(s.seen.length, 1);
});

test('X-Admin-Targeted-Application: SELECT only when the stream changes target; unknown-application clears it', async () => {
  const A = '//aid/A000000003/1010';
  const B = '//aid/A000000004';
  const s = fakeExchange([
    scriptReply('/1', SCRIPT_A, { 'x-admin-targeted-application': A }),
    scriptReply('/2', SCRIPT_A, { 'x-admin-targeted-application': A }),
    scriptReply('/3', SCRIPT_A, { 'x-admin-targeted-application': B }),
    scriptReply('/4', SCRIPT_A, { 'x-admin-targeted-application': B }),
    scriptReply('/5', SCRIPT_A),
    scriptReply('/6', SCRIPT_A, { 'x-admin-targeted-application': B }),
    scriptReply('/7', SCRIPT_A, { 'x-admin-targeted-application': 'not-an-aid' }),
    END,
  ]);
  const x = recordingExecutor((sc) => (sc.nextUri === '/3' ? { status: 'unknown-application', body: new Uint8Array(0) } : { status: 'ok', body: RESPONSE_A, executed: 1 }));
  const { o } = options(s.exchange, x.execute);
  assert.deepEqual(await runRamClientSession(o), { scripts: 5, commands: 5, resumes: 0, replays: 0 });
  assert.deepEqual(
    x.ran.map((r) => [r.nextUri, r.targetedApplication && hex(r.targetedApplication), r.select]),
    [
      ['/1', 'A0000000031010', true],
      ['/2', 'A0000000031010', false],
      ['/3', 'A000000004', true],
      ['/4', 'A000000004', true],
      ['/5', undefined, false],
      ['/6', 'A000000004', true],
    ],
    'a malformed target (/7) reaches no executor',
  );
  assert.deepEqual(s.seen[3], { path: '/3', headers: { ...BASE, 'x-admin-script-status': 'unknown-application' }, body: new Uint8Array(0) });
  assert.deepEqual(s.seen[7], { path: '/7', headers: { ...BASE, 'x-admin-script-status': 'unknown-application' }, body: new Uint8Array(0) });
});

test('the selection does not outlive the session: a new session SELECTs again', async () => {
  const A = { 'x-admin-targeted-application': '//aid/A000000003/1010' };
  const x = recordingExecutor();
  for (let i = 0; i < 2; i++) {
    const s = fakeExchange([scriptReply('/1', SCRIPT_A, A), END]);
    await runRamClientSession(options(s.exchange, x.execute).o);
  }
  assert.deepEqual(
    x.ran.map((r) => r.select),
    [true, true],
  );
});

test('runTargetedScript / selectApplication: exact SELECT, then the script; a failed SELECT runs nothing', async () => {
  const aid = fromHex('A0000000031010');
  const script: ReceivedScript = { nextUri: '/1', body: SCRIPT_A, targetedApplication: aid, select: true };
  for (const [answer, expected] of [
    [async () => fromHex('6F1A840E9000'), 'ok'],
    [async () => fromHex('6A82'), 'unknown-application'],
    [async () => fromHex('90'), 'unknown-application'],
    [async () => Promise.reject(new Error('reader gone')), 'unknown-application'],
  ] as const) {
    const sent: string[] = [];
    const runs: string[] = [];
    const out = await runTargetedScript(
      script,
      (c) => (sent.push(hex(c)), answer()),
      async (b) => (runs.push(hex(b)), { body: RESPONSE_A, executed: 1 }),
    );
    assert.deepEqual(sent, ['00A4040007A000000003101000']);
    assert.equal(out.status, expected);
    if (expected === 'ok') {
      assert.deepEqual(runs, [hex(SCRIPT_A)]);
      assert.deepEqual(out, { status: 'ok', body: RESPONSE_A, executed: 1 });
    } else {
      assert.deepEqual(runs, []);
      assert.deepEqual(out, { status: 'unknown-application', body: new Uint8Array(0), executed: 0 });
    }
  }
  const sent: Uint8Array[] = [];
  await runTargetedScript({ ...script, select: false }, async (c) => (sent.push(c), fromHex('9000')), async () => ({ body: RESPONSE_A, executed: 1 }));
  assert.equal(sent.length, 0, 'no SELECT when the application is already selected');
  assert.equal(await selectApplication(fromHex('A000000004'), async (c) => (assert.equal(hex(c), '00A4040005A00000000400'), fromHex('9000'))), true);
});

test('RamClientSession (sans-IO): a caller that breaks the order gets a TypeError and the state does not move', () => {
  assert.throws(() => new RamClientSession({ initialPath: 'ram', agentId: FROM }), TypeError);
  assert.throws(() => new RamClientSession({ initialPath: '/ram', agentId: '' }), TypeError);
  const session = new RamClientSession({ initialPath: '/ram', agentId: FROM });
  assert.deepEqual(session.request, { path: '/ram', headers: BASE, body: new Uint8Array(0) });
  assert.throws(() => session.executed({ status: 'ok', body: RESPONSE_A }), /no script is running/);
  const step = session.receive(scriptReply('/1', SCRIPT_A));
  assert.equal(step.kind, 'run');
  assert.throws(() => session.receive(END), /no outcome yet/);
  assert.throws(() => session.executed({ status: 'fine' as 'ok', body: RESPONSE_A }), /unknown script status/);
  assert.throws(() => session.executed({ status: 'ok', body: undefined as unknown as Uint8Array }), TypeError);
  const next = session.executed({ status: 'ok', body: RESPONSE_A });
  assert.equal(session.request, next);
  assert.deepEqual(next, { path: '/1', headers: OK_HEADERS, body: RESPONSE_A });
  assert.deepEqual(session.receive(END), { kind: 'end' });
  assert.equal(session.ended, true);
  assert.throws(() => session.receive(END), /has ended/);
});

test('RamClientSession: a refused answer ends the session (later replies are a caller mistake)', () => {
  const session = new RamClientSession({ initialPath: '/ram', agentId: FROM });
  assert.throws(() => session.receive({ status: 503, headers: {}, body: new Uint8Array(0) }), { name: 'RamClientError', code: 'REFUSED', message: 'server answered 503' });
  assert.equal(session.ended, true);
  assert.throws(() => session.receive(END), TypeError);
});
