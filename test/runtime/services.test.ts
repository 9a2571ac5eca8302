/**
 * runtime/: each service starts from its configuration and its peers' URLs alone (what one service per process
 * needs, issue 8 §6): OTA, CA, issuer and provider started one by one with `runOta`, `runCa`, `runIssuer`,
 * `runProvider`, each on its own configuration object, reach each other over mutual TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformClient, RemoteProblemError } from '../../src/platform/http/client.ts';
import { ensureCa } from '../../src/platform/tls/ca.ts';
import { ensureIdentity } from '../../src/platform/tls/issue.ts';
import { mutualTlsAgent } from '../../src/platform/tls/options.ts';
import { anyPorts, ensureCaService, platformConfig, registerProvider, runIssuer, runOta, runProvider } from '../../src/runtime/index.ts';

test('the four services started separately from config + peer URLs call each other', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-runtime-'));
  const closers: (() => Promise<void> | void)[] = [];
  try {
    const own = () => platformConfig({ dataDir: dir, logLevel: 'silent' }, anyPorts(true));
    const ca = await ensureCa(own().tlsDir);
    const operator = mutualTlsAgent(await ensureIdentity(own().tlsDir, ca, { commonName: 'operator', usage: 'client' }));
    closers.push(() => operator.destroy());
    const ota = await runOta(own(), { scriptCallers: ['issuer', 'bank'] });
    closers.push(() => ota.close());
    const { service: caService, cas } = await ensureCaService(own(), dir, 'bank', operator);
    closers.push(() => caService.close());
    assert.match(cas.scp11 ?? '', /^[0-9A-F]{16}$/);
    const issuer = await runIssuer(own(), { otaAdmin: ota.adminUrl });
    closers.push(() => issuer.close());
    const provider = await runProvider(own(), { issuer: issuer.url, otaAdmin: ota.adminUrl, ca: caService.url }, { providerId: 'bank', cas, terminals: false });
    closers.push(() => provider.close());
    assert.equal(provider.relay, undefined);

    const asOperator = (url: string) => new PlatformClient({ baseUrl: url, agent: operator });
    await registerProvider(asOperator(issuer.url), 'bank');
    await registerProvider(asOperator(issuer.url), 'bank'); // idempotent: 409 ALREADY_EXISTS counts as done
    // provider → issuer (mutual TLS, CN bank): the issuer does not know the card (its answer, `remote: true`); the
    // provider keeps no SSD.
    const cardId = '8988210000000000009F';
    await assert.rejects(
      asOperator(provider.url).post(`/v1/cards/${cardId}/ssds`, { body: { aid: 'A0000001515350410001', privileges: [], route: { kind: 'ota' } }, idempotencyKey: 'runtime-1' }),
      (e: unknown) =>
        e instanceof RemoteProblemError &&
        e.status === 404 &&
        e.problem?.code === 'NOT_FOUND' &&
        e.problem.remote === true &&
        e.problem.detail === `remote platform: unknown card ${cardId}`,
    );
    assert.deepEqual((await asOperator(provider.url).get<{ ssds: unknown[] }>(`/v1/cards/${cardId}/ssds`)).body, { ssds: [] });
    // The CA answers the provider's CA (provider → CA is wired through the same peers).
    const view = await asOperator(caService.url).get<{ owner: string; kind: string }>(`/v1/cas/${cas.scp11}`);
    assert.deepEqual([view.body.owner, view.body.kind], ['bank', 'scp11']);
  } finally {
    for (const c of closers.reverse()) await c();
    await rm(dir, { recursive: true, force: true });
  }
});
