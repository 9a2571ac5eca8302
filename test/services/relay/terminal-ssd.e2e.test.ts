/**
 * End to end over real sockets (docs/architecture.md §4 flow 3 through a business terminal): the user asks for an
 * application at the provider's terminal → the provider's take-over flow → the issuer creates the SSD and
 * sends its initial keys through provider relay and terminal to the ISD → hand-over → the provider replaces
 * the initial keys through the terminal. Afterwards the card (asked by APDUs) holds the SSD with the
 * provider's keys only; the issuer is refused the terminal once the request is over.
 *
 * The relay runs on its own createService app with the provider's certificate (the provider service mounts
 * it the same way on its own app).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { createCard } from '../../../src/card/index.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { loadConfig } from '../../../src/platform/config/config.ts';
import { PlatformClient, createService } from '../../../src/platform/http/index.ts';
import { ensureCa, issueCertificate, mutualTlsAgent, mutualTlsOptions } from '../../../src/platform/tls/index.ts';
import { probeKeySet } from '../../../src/services/sd-keys/operations.ts';
import { keySetFromHex } from '../../../src/services/sd-keys/key-set.ts';
import { startIssuer } from '../../../src/services/issuer/service.ts';
import { startProvider } from '../../../src/services/provider/service.ts';
import { providerKeySlot } from '../../../src/services/provider/key-slot.ts';
import { issuerTerminalAccess } from '../../../src/services/issuer/terminal-access.ts';
import { RELAY_PATHS, terminalCardAccess, terminalRelay, type ServiceRequestView } from '../../../src/services/provider/relay/index.ts';
import { getStatus } from '../../../src/gp/client.ts';
import { GetStatusScope } from '../../../src/gp/registry.ts';
import { SecureSession } from '../../../src/scp/secure-session.ts';
import { RemoteProblemError } from '../../../src/platform/http/client.ts';
import { Terminal, issueTerminalIdentity } from '../../../src/terminal/index.ts';
import { ISD_AID, SSD_AID, TEST_KEY } from '../issuer/harness.ts';

const ICCID = '98001032547698103214';

test('terminal-ssd: a request at the counter ends with an SSD on the card that only the provider\'s keys open', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-terminal-'));
  const ca = await ensureCa(join(dir, 'tls'));
  const relayApp = await createService({
    name: 'provider-terminals',
    version: '1',
    logger: false,
    tls: mutualTlsOptions(await issueCertificate(ca, { commonName: 'provider', ipAddresses: ['127.0.0.1'], usage: 'server' })).server,
  });
  const box: { onRequest: (r: ServiceRequestView, progress: (s: string) => void) => Promise<Record<string, unknown>> } = { onRequest: async () => ({}) };
  const relay = await terminalRelay(relayApp, { onServiceRequest: (r, p) => box.onRequest(r, p), lingerMs: 1000 });
  await relayApp.listen({ host: '127.0.0.1', port: 0 });
  const relayUrl = `https://127.0.0.1:${(relayApp.server.address() as AddressInfo).port}`;

  const issuerAgent = mutualTlsAgent(await issueCertificate(ca, { commonName: 'issuer', usage: 'client' }));
  const base = { dataDir: dir, logLevel: 'silent', services: { issuer: { port: 0 }, provider: { port: 0 }, 'ota-admin': { port: 1 } } };
  const issuer = await startIssuer(loadConfig(base), { scheduleIntervalMs: 0, terminalAccess: issuerTerminalAccess({ providerUrl: () => relayUrl, agent: issuerAgent }) });
  const provider = await startProvider(loadConfig({ ...base, services: { ...base.services, issuer: { port: Number(new URL(issuer.url).port) } } }), {
    providerId: 'bank',
    sweepIntervalMs: 0,
    terminalAccess: terminalCardAccess(relay),
  });
  const operator = mutualTlsAgent(await issueCertificate(ca, { commonName: 'operator', usage: 'client' }));
  const atIssuer = new PlatformClient({ baseUrl: issuer.url, agent: operator });
  const atProvider = new PlatformClient({ baseUrl: provider.url, agent: operator });

  const card = createCard({ profile: 'scp03', ssdInitialKeys: null });
  const terminal = new Terminal({ id: 'T1', reader: new InProcessChannel(card), providerUrl: relayUrl, identity: await issueTerminalIdentity(ca, 'T1'), retryDelayMs: 5 });
  terminal.start();
  try {
    await atIssuer.post('/v1/cards', {
      body: { cardId: ICCID, iin: '0001', cin: '0102030405060708', profile: 'scp03', isdAid: ISD_AID, isdKeys: { kvn: 0x30, enc: TEST_KEY, mac: TEST_KEY, dek: TEST_KEY } },
    });
    await atIssuer.post('/v1/providers', { body: { providerId: 'bank', name: 'A Bank', aidPrefix: 'A000000151535041', privileges: ['AuthorizedManagement'], maxSsds: 2 } });

    // The provider's business logic for a request at the counter: its take-over flow over the terminal route.
    box.onRequest = async (req, progress) => {
      progress('take-over');
      const r = await atProvider.post<{ state: string; kvn: number; kcvs: Record<string, unknown> }>(`/v1/cards/${req.cardId}/ssds`, {
        body: { aid: req.aid, privileges: req.privileges, route: { kind: 'terminal', terminalId: req.terminalId } },
        idempotencyKey: `terminal-request-${req.id}`,
      });
      return { state: r.body.state, kvn: r.body.kvn, kcvs: r.body.kcvs };
    };
    const steps: string[] = [];
    const done = await terminal.requestService({ aid: SSD_AID, privileges: ['AuthorizedManagement'] }, { pollMs: 10, onProgress: (v) => steps.push(`${v.state}:${v.step}`) });
    assert.equal(done.state, 'done');
    assert.equal(done.cardId, ICCID);
    assert.equal((done.result as { state: string }).state, 'provider-managed');
    assert.equal((done.result as { kvn: number }).kvn, 0x30);
    assert.equal(steps[0], 'open:received');
    assert.equal(steps[steps.length - 1], 'done:done');
    assert.ok(steps.includes('open:take-over'));

    // Ask the card.
    const direct = new InProcessChannel(card);
    const own = await providerKeySlot(provider.deps.db, provider.deps.sealer, ICCID, SSD_AID).current();
    assert.equal(own.kvn, 0x30);
    assert.equal(await probeKeySet(direct, fromHex(SSD_AID), own), 'match', "the provider's keys open the SSD");
    assert.equal(await probeKeySet(direct, fromHex(SSD_AID), keySetFromHex(0x30, 3, TEST_KEY, TEST_KEY, TEST_KEY)), 'mismatch', "the issuer's ISD keys do not");
    assert.equal(await probeKeySet(direct, fromHex(SSD_AID), keySetFromHex(1, 3, TEST_KEY, TEST_KEY, TEST_KEY)), 'absent', 'the initial key version is gone');
    const isd = await SecureSession.open(direct, { sdAid: fromHex(ISD_AID), keys: { enc: fromHex(TEST_KEY), mac: fromHex(TEST_KEY), dek: fromHex(TEST_KEY) }, level: 0x33 });
    const sds = (await getStatus(isd, GetStatusScope.APPLICATIONS)).map((e) => toHex(e.aid).toUpperCase());
    assert.ok(sds.includes(SSD_AID), 'the SSD is on the card');
    const rows = await issuer.deps.db.query<{ keys: Uint8Array | null; state: string }>('SELECT keys, state FROM ssds WHERE aid = $1', [SSD_AID]);
    assert.deepEqual(rows.map((r) => [r.keys, r.state]), [[null, 'provider-managed']]);

    // The request is over: the issuer can no longer reach the card through the terminal.
    assert.equal(relay.requests.open('T1'), undefined);
    await assert.rejects(
      new PlatformClient({ baseUrl: relayUrl, agent: issuerAgent }).post(RELAY_PATHS.scripts('T1'), { body: { cardId: ICCID, apdus: ['00A4040000'] } }),
      (e: unknown) => e instanceof RemoteProblemError && e.status === 403 && e.problem?.code === 'NO_OPEN_REQUEST',
    );
    assert.equal(terminal.agent.stats.failures, 0);
  } finally {
    await terminal.stop();
    operator.destroy();
    await provider.close();
    await issuer.close();
    issuerAgent.destroy();
    await relayApp.close();
    await rm(dir, { recursive: true, force: true });
  }
});
