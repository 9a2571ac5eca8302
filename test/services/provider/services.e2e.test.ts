/**
 * End to end over real sockets (docs/architecture.md §4 flow 3 over OTA): the issuer and provider services started
 * from a PlatformConfig (SQLite files, file KEK, internal CA, mutual TLS between them), the OTA server with a
 * simulated phone behind its admin agent (PSK-TLS), and the OTA admin API (mutual TLS) the services reach cards
 * through; the operator registers the phone's PSK with the OTA service.
 * The operator registers the card and the provider; the provider asks for an SSD; afterwards the provider's
 * keys open the SSD over the air, and neither the issuer's ISD keys nor the initial key version do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../../../src/core/bytes.ts';
import { createCard } from '../../../src/card/index.ts';
import { DeviceFleet } from '../../../src/device/fleet.ts';
import { defaultAgentId } from '../../../src/device/device.ts';
import type { InProcessPushGateway } from '../../../src/services/ota/push.ts';
import { startOta } from '../../../src/services/ota/service.ts';
import { loadConfig } from '../../../src/platform/config/config.ts';
import { PlatformClient, RemoteProblemError } from '../../../src/platform/http/client.ts';
import { ensureCa } from '../../../src/platform/tls/ca.ts';
import { issueCertificate } from '../../../src/platform/tls/issue.ts';
import { mutualTlsAgent } from '../../../src/platform/tls/options.ts';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { probeKeySet } from '../../../src/services/sd-keys/operations.ts';
import { keySetFromHex } from '../../../src/services/sd-keys/key-set.ts';
import { startIssuer } from '../../../src/services/issuer/service.ts';
import { startProvider } from '../../../src/services/provider/service.ts';
import { providerKeySlot } from '../../../src/services/provider/key-slot.ts';
import { issuerKeySlot } from '../../../src/services/issuer/key-slot.ts';
import { ISD_AID, SSD_AID, TEST_KEY, cardIdOf } from '../issuer/harness.ts';

const CARD = cardIdOf(1);
const ISSUER_SSD = 'A0000001515350419901';

test('issuer + provider over mutual TLS, card over OTA: the provider takes over an SSD only its keys open', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-e2e-'));
  const base = { dataDir: dir, logLevel: 'silent', services: { issuer: { port: 0 }, provider: { port: 0 }, ota: { port: 0 }, 'ota-admin': { port: 0 } } };
  const otaService = await startOta(loadConfig(base), { scriptCallers: ['issuer', 'bank'], server: { lingerMs: 50, timeoutMs: 10_000 } });
  const ota = otaService.ota;
  const adminPort = Number(new URL(otaService.adminUrl).port);
  const fleet = new DeviceFleet({ serverUrl: otaService.ramUrl, push: otaService.push as InProcessPushGateway });
  const psk = new Uint8Array(randomBytes(16));
  fleet.add({ id: CARD, card: createCard({ ssdInitialKeys: null }), pskIdentity: `psk-${CARD}`, psk, retryDelayMs: 5, maxRetries: 5 });
  base.services['ota-admin'] = { port: adminPort };
  const issuer = await startIssuer(loadConfig(base), { scheduleIntervalMs: 0 });
  const issuerPort = Number(new URL(issuer.url).port);
  const provider = await startProvider(loadConfig({ ...base, services: { ...base.services, issuer: { port: issuerPort } } }), { providerId: 'bank', sweepIntervalMs: 0 });
  const ca = await ensureCa(join(dir, 'tls'));
  const agentFor = async (cn: string) => mutualTlsAgent(await issueCertificate(ca, { commonName: cn, usage: 'client' }));
  const operator = await agentFor('operator');
  const bankClient = await agentFor('bank');
  const mallory = await agentFor('mallory');
  const atIssuer = new PlatformClient({ baseUrl: issuer.url, agent: operator });
  const atProvider = new PlatformClient({ baseUrl: provider.url, agent: operator });
  try {
    // The operator registers the phone's admin agent PSK with the OTA server (sealed there, never answered).
    const atOta = new PlatformClient({ baseUrl: otaService.adminUrl, agent: operator });
    const dev = await atOta.post<Record<string, unknown>>('/v1/devices', { body: { deviceId: CARD, pskIdentity: `psk-${CARD}`, psk: Buffer.from(psk).toString('hex'), agentId: defaultAgentId(CARD) }, idempotencyKey: 'e2e-dev-1' });
    assert.equal(dev.status, 201);
    assert.deepEqual(Object.keys(dev.body).sort(), ['agentId', 'createdAt', 'deviceId', 'pskIdentity']);
    // Scripts are for the issuer and the provider only, by certificate identity.
    await assert.rejects(
      new PlatformClient({ baseUrl: otaService.adminUrl, agent: mallory }).post(`/devices/${CARD}/scripts`, { body: { apdus: ['80CA006600'] } }),
      (e: unknown) => e instanceof RemoteProblemError && e.status === 403 && e.problem?.code === 'FORBIDDEN',
    );
    const card = await atIssuer.post('/v1/cards', {
      body: { cardId: CARD, iin: '0001', cin: '0102030405060708', profile: 'scp03', isdAid: ISD_AID, isdKeys: { kvn: 0x30, enc: TEST_KEY, mac: TEST_KEY, dek: TEST_KEY } },
    });
    assert.equal(card.status, 201);
    const p = await atIssuer.post('/v1/providers', { body: { providerId: 'bank', name: 'A Bank', aidPrefix: 'A000000151535041', privileges: ['AuthorizedManagement'], maxSsds: 2 } });
    assert.equal(p.status, 201);

    // A peer the issuer does not know is refused by its certificate identity.
    await assert.rejects(
      new PlatformClient({ baseUrl: issuer.url, agent: mallory }).get(`/v1/cards/${CARD}/ssds`),
      (e: unknown) => e instanceof RemoteProblemError && e.status === 403 && e.problem?.code === 'FORBIDDEN',
    );

    const r = await atProvider.post<{ state: string; kvn: number; kcvs: { kvn: number } }>(`/v1/cards/${CARD}/ssds`, {
      body: { aid: SSD_AID, privileges: ['AuthorizedManagement'], route: { kind: 'ota' } },
      idempotencyKey: 'e2e-take-over-1',
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.state, 'provider-managed');
    assert.equal(r.body.kvn, 0x30);

    const air = ota.channel(CARD);
    const own = await providerKeySlot(provider.deps.db, provider.deps.sealer, CARD, SSD_AID).current();
    assert.equal(await probeKeySet(air, fromHex(SSD_AID), own), 'match', "the provider's keys open the SSD");
    assert.equal(await probeKeySet(air, fromHex(SSD_AID), keySetFromHex(0x30, 3, TEST_KEY, TEST_KEY, TEST_KEY)), 'mismatch', "the issuer's ISD keys do not");
    assert.equal(await probeKeySet(air, fromHex(SSD_AID), keySetFromHex(1, 3, TEST_KEY, TEST_KEY, TEST_KEY)), 'absent', 'the initial key version is gone');
    const issuerView = (await atIssuer.get<{ ssds: { aid: string; state: string; keysHeld: boolean }[] }>(`/v1/cards/${CARD}/ssds`)).body.ssds;
    assert.deepEqual(issuerView.map((s) => [s.aid, s.state, s.keysHeld]), [[SSD_AID, 'provider-managed', false]]);
    const rows = await issuer.deps.db.query<{ keys: Uint8Array | null }>('SELECT keys FROM ssds WHERE aid = $1', [SSD_AID]);
    assert.equal(rows[0]!.keys, null, 'the issuer holds no key of the SSD');

    // Forced rotation at the provider, over the air.
    const rot = await atProvider.post<{ kvn: number }>(`/v1/cards/${CARD}/ssds/${SSD_AID}/rotation`, { body: { reason: 'forced' }, idempotencyKey: 'e2e-rot-1' });
    assert.equal(rot.body.kvn, 0x31);
    assert.equal(await probeKeySet(air, fromHex(SSD_AID), await providerKeySlot(provider.deps.db, provider.deps.sealer, CARD, SSD_AID).current()), 'match');

    // An issuer-managed SSD, and its forced rotation by the issuer's operator.
    const asBank = new PlatformClient({ baseUrl: issuer.url, agent: bankClient });
    const im = await asBank.post<{ step: string }>('/v1/ssd-requests', {
      body: { cardId: CARD, aid: ISSUER_SSD, privileges: [], route: { kind: 'ota' }, managedBy: 'issuer' },
      idempotencyKey: 'e2e-im-1',
    });
    assert.equal(im.body.step, 'done');
    const irot = await atIssuer.post<{ kvn: number }>(`/v1/cards/${CARD}/ssds/${ISSUER_SSD}/rotation`, { body: { reason: 'forced' }, idempotencyKey: 'e2e-im-rot' });
    assert.equal(irot.body.kvn, 2);
    assert.equal(await probeKeySet(air, fromHex(ISSUER_SSD), await issuerKeySlot(issuer.deps.db, issuer.deps.sealer, CARD, ISSUER_SSD).current()), 'match');

    for (const s of [issuer, provider]) assert.equal((await new AuditLog(s.deps.db).verify()).ok, true);
    const openapi = await atIssuer.get<{ paths: Record<string, unknown> }>('/openapi.json');
    assert.ok('/v1/ssd-requests' in openapi.body.paths);
  } finally {
    for (const a of [operator, bankClient, mallory]) a.destroy();
    await provider.close();
    await issuer.close();
    fleet.stop();
    await otaService.close();
    await rm(dir, { recursive: true, force: true });
  }
});
