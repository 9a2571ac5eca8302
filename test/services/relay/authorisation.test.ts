/**
 * Who may use a terminal (issue 3, item 7/8): the issuer only while the provider has an open service request
 * for that card at that terminal; the issuer-facing route only with the issuer's certificate; the
 * terminal-facing routes only with a terminal's certificate — identity from mutual TLS, never from the URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../../src/core/bytes.ts';
import { PlatformClient, RemoteProblemError } from '../../../src/platform/http/index.ts';
import { issueCertificate, mutualTlsAgent } from '../../../src/platform/tls/index.ts';
import { RELAY_PATHS, RelayError, terminalCardAccess } from '../../../src/services/provider/relay/index.ts';
import { ADMIN_HEADER, ADMIN_PROTOCOL } from '../../../src/transport/ram-http/headers.ts';
import { binaryRequest } from '../../../src/terminal/mtls-http.ts';
import { issueTerminalIdentity } from '../../../src/terminal/index.ts';
import { ICCID, ISD, TERMINAL_ID, relayRig } from './rig.ts';

const SELECT_ISD = fromHex('00A4040008' + ISD + '00');

function problem(status: number, code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof RemoteProblemError, String(e));
    assert.equal(e.status, status);
    assert.equal(e.problem?.code, code);
    return true;
  };
}

test('(c) the issuer is refused (403 NO_OPEN_REQUEST) without an open request for that card; nothing reaches the card', async () => {
  const r = await relayRig();
  const issuer = new PlatformClient({ baseUrl: r.url, agent: r.issuerAgent });
  try {
    // No request at all.
    const ch = await r.issuerAccess(ICCID, { kind: 'terminal', terminalId: TERMINAL_ID });
    await assert.rejects(ch.transmit(SELECT_ISD), (e: unknown) => e instanceof RelayError && e.code === 'NO_OPEN_REQUEST');
    await assert.rejects(issuer.post(RELAY_PATHS.scripts(TERMINAL_ID), { body: { cardId: ICCID, apdus: ['00A4040000'] } }), (e: unknown) => {
      assert.ok(e instanceof RemoteProblemError);
      assert.equal(e.status, 403);
      assert.equal(e.problem?.code, 'NO_OPEN_REQUEST');
      assert.equal(e.problem?.type, 'https://opentsm.dev/problems/NO_OPEN_REQUEST');
      assert.equal(e.problem?.instance, '/v1/relay/terminals/T1/scripts');
      return true;
    });
    // The provider has no request open for the card yet: the provider's own access is refused too.
    await assert.rejects((await terminalCardAccess(r.relay)(ICCID, { kind: 'terminal', terminalId: TERMINAL_ID })).transmit(SELECT_ISD), {
      name: 'RelayError',
      code: 'CARD_NOT_PRESENT',
    });
    // A request open for the card: another card id, another terminal are still refused; this card is admitted.
    let release!: () => void;
    const held = new Promise<void>((res) => (release = res));
    let duringRequest: number[] = [];
    let reached!: () => void;
    const inRequest = new Promise<void>((res) => (reached = res));
    r.handler = async () => {
      await assert.rejects(issuer.post(RELAY_PATHS.scripts(TERMINAL_ID), { body: { cardId: '89000000000000000001', apdus: ['00A4040000'] } }), problem(403, 'NO_OPEN_REQUEST'));
      await assert.rejects(issuer.post(RELAY_PATHS.scripts('T2'), { body: { cardId: ICCID, apdus: ['00A4040000'] } }), problem(403, 'NO_OPEN_REQUEST'));
      const ok = await issuer.post<{ responses: string[] }>(RELAY_PATHS.scripts(TERMINAL_ID), { body: { cardId: ICCID.toLowerCase(), apdus: ['00A4040000', '80CA005A00'] } });
      duringRequest = [ok.status];
      reached();
      assert.deepEqual(ok.body.responses.map((x) => x.slice(-4)), ['9000', '9000']);
      assert.equal(ok.body.responses[1], '5A0A' + ICCID + '9000');
      await held;
      return {};
    };
    const done = r.terminal.requestService({ aid: 'A0000001515350415344', privileges: [] }, { pollMs: 5 });
    await inRequest; // the handler got its answers while the request was open (an event, no polling)
    release();
    assert.equal((await done).state, 'done');
    assert.deepEqual(duringRequest, [200]);
    // The request is over: the issuer is refused again.
    const before = r.apdus.length;
    await assert.rejects(issuer.post(RELAY_PATHS.scripts(TERMINAL_ID), { body: { cardId: ICCID, apdus: ['00A4040000'] } }), problem(403, 'NO_OPEN_REQUEST'));
    assert.equal(r.apdus.length, before);
    assert.deepEqual(r.apdus, ['00A4040000', '80CA005A00', '00A4040000', '80CA005A00']);
    assert.equal(r.relay.endpoint.pending(TERMINAL_ID).queued, 0);
  } finally {
    await r.close();
  }
});

test('(c) a terminal certificate cannot call the issuer-facing route, and the issuer cannot call the terminal-facing routes', async () => {
  const r = await relayRig();
  const terminalAgent = mutualTlsAgent(r.terminalIdentity);
  const asTerminal = new PlatformClient({ baseUrl: r.url, agent: terminalAgent });
  const asIssuer = new PlatformClient({ baseUrl: r.url, agent: r.issuerAgent });
  const other = await issueCertificate(r.ca, { commonName: 'bank-backoffice', usage: 'client' });
  const otherAgent = mutualTlsAgent(other);
  const asOther = new PlatformClient({ baseUrl: r.url, agent: otherAgent });
  try {
    // The provider's handler holds the request open until the checks below are done (no sleep).
    let opened!: () => void;
    const handlerRuns = new Promise<void>((res) => (opened = res));
    let finish!: () => void;
    const checksDone = new Promise<void>((res) => (finish = res));
    r.handler = async () => {
      opened();
      await checksDone;
      return {};
    };
    const open = r.terminal.requestService({ aid: 'A0000001515350415344', privileges: [] }, { pollMs: 5 });
    await handlerRuns;
    assert.notEqual(r.relay.requests.open(TERMINAL_ID), undefined);
    // Even while a request is open, the terminal may not use the issuer's route.
    await assert.rejects(asTerminal.post(RELAY_PATHS.scripts(TERMINAL_ID), { body: { cardId: ICCID, apdus: ['00A4040000'] } }), (e: unknown) => {
      assert.ok(e instanceof RemoteProblemError);
      assert.equal(e.status, 403);
      assert.equal(e.problem?.code, 'FORBIDDEN');
      assert.equal(e.problem?.detail, "peer 'terminal.T1' may not call this route");
      return true;
    });
    await assert.rejects(asOther.post(RELAY_PATHS.scripts(TERMINAL_ID), { body: { cardId: ICCID, apdus: ['00A4040000'] } }), problem(403, 'FORBIDDEN'));
    // The issuer may not open requests, read them, or play a terminal's admin agent.
    await assert.rejects(asIssuer.post(RELAY_PATHS.requests, { body: { cardId: ICCID, aid: 'A0000001515350415344', privileges: [] } }), (e: unknown) => {
      assert.ok(e instanceof RemoteProblemError);
      assert.equal(e.status, 403);
      assert.equal(e.problem?.detail, "peer 'issuer' is not an admitted terminal");
      return true;
    });
    await assert.rejects(asIssuer.get(RELAY_PATHS.request(r.relay.requests.open(TERMINAL_ID)!.id)), problem(403, 'FORBIDDEN'));
    const ram = await binaryRequest(r.issuerAgent, new URL(RELAY_PATHS.ram, r.url), 'POST', { [ADMIN_HEADER.protocol]: ADMIN_PROTOCOL, [ADMIN_HEADER.from]: '//se-id/terminal/T1' }, new Uint8Array(0), 5000);
    assert.equal(ram.status, 403);
    assert.equal(ram.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(JSON.parse(new TextDecoder().decode(ram.body)).code, 'FORBIDDEN');
    finish();
    assert.equal((await open).state, 'done');
    // A terminal sees only its own requests.
    const t2 = await issueTerminalIdentity(r.ca, 'T2');
    const t2Agent = mutualTlsAgent(t2);
    try {
      const asT2 = new PlatformClient({ baseUrl: r.url, agent: t2Agent });
      await assert.rejects(asT2.get(RELAY_PATHS.request(r.relay.requests.latest(TERMINAL_ID)!.id)), problem(404, 'UNKNOWN_REQUEST'));
      // A terminal's X-Admin-From must be its own.
      const spoof = await binaryRequest(t2Agent, new URL(RELAY_PATHS.ram, r.url), 'POST', { [ADMIN_HEADER.protocol]: ADMIN_PROTOCOL, [ADMIN_HEADER.from]: '//se-id/terminal/T1' }, new Uint8Array(0), 5000);
      assert.equal(spoof.status, 403);
      assert.equal(JSON.parse(new TextDecoder().decode(spoof.body)).code, 'AGENT_MISMATCH');
    } finally {
      t2Agent.destroy();
    }
  } finally {
    terminalAgent.destroy();
    otherAgent.destroy();
    await r.close();
  }
});

test('(c) a terminal not on the provider\'s list is refused (403) even with a certificate from the CA', async () => {
  const r = await relayRig({ startTerminal: false, terminals: ['T9'] });
  const agent = mutualTlsAgent(r.terminalIdentity);
  try {
    await assert.rejects(
      new PlatformClient({ baseUrl: r.url, agent }).post(RELAY_PATHS.requests, { body: { cardId: ICCID, aid: 'A0000001515350415344', privileges: [] } }),
      (e: unknown) => e instanceof RemoteProblemError && e.status === 403 && e.problem?.detail === "peer 'terminal.T1' is not an admitted terminal",
    );
    const ram = await binaryRequest(agent, new URL(RELAY_PATHS.ram, r.url), 'POST', { [ADMIN_HEADER.protocol]: ADMIN_PROTOCOL, [ADMIN_HEADER.from]: '//se-id/terminal/T1' }, new Uint8Array(0), 5000);
    assert.equal(ram.status, 403);
    assert.equal(r.relay.requests.latest(TERMINAL_ID), undefined);
  } finally {
    agent.destroy();
    await r.close();
  }
});
