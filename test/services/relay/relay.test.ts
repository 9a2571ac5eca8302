/**
 * The provider's terminal relay over real mutual-TLS sockets (docs/architecture.md §4 flow 3): the provider
 * and the issuer reach a card held at a business terminal; who may use the terminal is decided by the
 * certificate identity and by the open service request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { DEFAULT_STATIC_KEY } from '../../../src/card/index.ts';
import { SecureSession } from '../../../src/scp/secure-session.ts';
import { listRegistry } from '../../../src/gp/client.ts';
import { terminalCardAccess } from '../../../src/services/provider/relay/index.ts';
import { PlatformClient } from '../../../src/platform/http/index.ts';
import type { ServiceRequestView } from '../../../src/services/provider/relay/index.ts';
import { ICCID, ISD, TERMINAL_ID, relayRig } from './rig.ts';

const K = fromHex(DEFAULT_STATIC_KEY);
const SSD_AID = 'A0000001515350415344';

test('(a) the provider opens SCP03 on the card through the terminal and lists the registry; the terminal follows its request to done', async () => {
  const r = await relayRig();
  try {
    const access = terminalCardAccess(r.relay);
    r.handler = async (req, progress) => {
      progress('open-scp03');
      const ch = await access(req.cardId, { kind: 'terminal', terminalId: req.terminalId });
      const s = await SecureSession.open(ch, { sdAid: fromHex(ISD), keys: { enc: K, mac: K, dek: K }, level: 0x33 });
      progress('list-registry');
      const reg = await listRegistry(s);
      return { isd: reg.isd.map((e) => toHex(e.aid).toUpperCase()), loadFiles: reg.loadFiles.length };
    };
    const seen: string[] = [];
    const done = await r.terminal.requestService({ aid: SSD_AID, privileges: ['DelegatedManagement'] }, { onProgress: (v) => seen.push(`${v.state}:${v.step}`), pollMs: 5 });
    assert.equal(done.state, 'done');
    assert.equal(done.cardId, ICCID);
    assert.equal(done.terminalId, TERMINAL_ID);
    assert.equal(done.aid, SSD_AID);
    assert.deepEqual(done.result, { isd: [ISD], loadFiles: (done.result as { loadFiles: number }).loadFiles });
    assert.ok((done.result as { loadFiles: number }).loadFiles >= 1);
    assert.equal(seen[0], 'open:received');
    assert.equal(seen[seen.length - 1], 'done:done');
    // What the card saw: the terminal's SELECT + GET DATA 5A, then the provider's SELECT ISD, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, GET STATUS…
    assert.deepEqual(r.apdus.slice(0, 3), ['00A4040000', '80CA005A00', '00A4040008' + ISD + '00']);
    assert.equal(r.apdus[3]!.slice(0, 8), '80500000');
    assert.equal(r.apdus[4]!.slice(0, 8), '84823300');
    assert.ok(r.apdus.slice(5).every((a) => a.startsWith('84F2')), 'GET STATUS under C-MAC');
    assert.equal(r.terminal.agent.stats.resumes, 0);
    // The relay's routes are in the service's OpenAPI document.
    const doc = (await new PlatformClient({ baseUrl: r.url, agent: r.issuerAgent }).get<{ paths: Record<string, Record<string, unknown>> }>('/openapi.json')).body;
    assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/')).sort(), [
      '/v1/relay/terminals/{terminalId}/conversations',
      '/v1/relay/terminals/{terminalId}/conversations/{cid}',
      '/v1/relay/terminals/{terminalId}/conversations/{cid}/scripts',
      '/v1/relay/terminals/{terminalId}/scripts',
      '/v1/terminal/ram',
      '/v1/terminal/requests',
      '/v1/terminal/requests/{id}',
    ]);
  } finally {
    await r.close();
  }
});

test('(b) the issuer opens the ISD through the provider relay and the terminal, while the provider has an open request for that card', async () => {
  const r = await relayRig();
  try {
    r.handler = async (req) => {
      const ch = await r.issuerAccess(req.cardId, { kind: 'terminal', terminalId: req.terminalId });
      const s = await SecureSession.open(ch, { sdAid: fromHex(ISD), keys: { enc: K, mac: K, dek: K }, level: 0x33 });
      const reg = await listRegistry(s);
      return { isd: reg.isd.map((e) => toHex(e.aid).toUpperCase()), apps: reg.applications.map((e) => toHex(e.aid).toUpperCase()) };
    };
    const done = await r.terminal.requestService({ aid: SSD_AID, privileges: [] }, { pollMs: 5 });
    assert.equal(done.state, 'done');
    assert.deepEqual((done.result as { isd: string[] }).isd, [ISD]);
    assert.deepEqual(r.apdus.slice(0, 3), ['00A4040000', '80CA005A00', '00A4040008' + ISD + '00']);
    assert.equal(r.apdus[3]!.slice(0, 8), '80500000');
    assert.equal(r.apdus[4]!.slice(0, 8), '84823300');
  } finally {
    await r.close();
  }
});

test('a failing provider flow ends the request as failed with its code; the terminal reports REQUEST_FAILED', async () => {
  const r = await relayRig();
  try {
    const { FlowError } = await import('../../../src/services/common/flow-error.ts');
    r.handler = async () => {
      throw new FlowError('NOT_PERMITTED', 'provider bank may not use AID A000000151535344');
    };
    const seen: ServiceRequestView[] = [];
    await assert.rejects(r.terminal.requestService({ aid: SSD_AID, privileges: [] }, { pollMs: 5, onProgress: (v) => seen.push(v) }), {
      name: 'TerminalError',
      code: 'REQUEST_FAILED',
      problemCode: 'NOT_PERMITTED',
    });
    assert.deepEqual(seen[seen.length - 1]!.error, { code: 'NOT_PERMITTED', detail: 'provider bank may not use AID A000000151535344' });
    assert.equal(seen[seen.length - 1]!.state, 'failed');
  } finally {
    await r.close();
  }
});
