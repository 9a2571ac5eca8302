/**
 * One card, one conversation at a time (issue 8 §2), end to end over real sockets: the issuer and provider
 * services reach one phone through the OTA admin API, and 50+ mixed operations hit that card at the same
 * moment — issuer lock/unlock and rotations of issuer-managed SSDs, provider rotations, provider SSD requests
 * (issuer SSD creation and hand-over inside), and GET STATUS reads in conversations of their own. Every
 * operation succeeds or gets a clear retryable answer (503 CARD_BUSY with Retry-After, which is then retried);
 * afterwards no flow is left running and every SSD opens with the keys its platform holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../../src/core/bytes.ts';
import { createCard } from '../../src/card/index.ts';
import { DeviceFleet } from '../../src/device/fleet.ts';
import { defaultAgentId } from '../../src/device/device.ts';
import { getStatus } from '../../src/gp/client.ts';
import { GetStatusScope } from '../../src/gp/registry.ts';
import type { InProcessPushGateway } from '../../src/services/ota/push.ts';
import { startOta } from '../../src/services/ota/service.ts';
import { loadConfig } from '../../src/platform/config/config.ts';
import { PlatformClient, RemoteProblemError } from '../../src/platform/http/client.ts';
import { ensureCa } from '../../src/platform/tls/ca.ts';
import { issueCertificate } from '../../src/platform/tls/issue.ts';
import { mutualTlsAgent } from '../../src/platform/tls/options.ts';
import { agentFetch } from '../../src/services/common/card-access.ts';
import { RemoteOtaChannel } from '../../src/services/ota/client.ts';
import { openSd, probeKeySet } from '../../src/services/sd-keys/operations.ts';
import { keySetFromHex } from '../../src/services/sd-keys/key-set.ts';
import { startIssuer } from '../../src/services/issuer/service.ts';
import { startProvider } from '../../src/services/provider/service.ts';
import { providerKeySlot } from '../../src/services/provider/key-slot.ts';
import { issuerKeySlot } from '../../src/services/issuer/key-slot.ts';
import { ISD_AID, TEST_KEY, cardIdOf } from './issuer/harness.ts';

const CARD = cardIdOf(7);
const PREFIX = 'A000000151535041';
const providerAid = (n: number) => `${PREFIX}${(0x10 + n).toString(16).toUpperCase()}01`;
const issuerAid = (n: number) => `A00000015153504199${(0x10 + n).toString(16).toUpperCase()}`;

type Outcome = { op: string; status: number; code?: string; retryAfter?: boolean };

test('50+ concurrent issuer and provider operations on one card: each succeeds or gets a retryable answer, no flow stuck, every key known', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-one-conversation-'));
  const base = { dataDir: dir, logLevel: 'silent', services: { issuer: { port: 0 }, provider: { port: 0 }, ota: { port: 0 }, 'ota-admin': { port: 0 } } };
  const otaService = await startOta(loadConfig(base), {
    scriptCallers: ['issuer', 'bank'],
    server: { lingerMs: 50, timeoutMs: 20_000, conversations: { maxWaitMs: 30_000, idleMs: 20_000 } },
  });
  const ota = otaService.ota;
  const fleet = new DeviceFleet({ serverUrl: otaService.ramUrl, push: otaService.push as InProcessPushGateway });
  const psk = new Uint8Array(randomBytes(16));
  fleet.add({ id: CARD, card: createCard({ ssdInitialKeys: null }), pskIdentity: `psk-${CARD}`, psk, retryDelayMs: 5, maxRetries: 5 });
  base.services['ota-admin'] = { port: Number(new URL(otaService.adminUrl).port) };
  const issuer = await startIssuer(loadConfig(base), { scheduleIntervalMs: 0 });
  const provider = await startProvider(loadConfig({ ...base, services: { ...base.services, issuer: { port: Number(new URL(issuer.url).port) } } }), {
    providerId: 'bank',
    sweepIntervalMs: 0,
  });
  const ca = await ensureCa(join(dir, 'tls'));
  const agentFor = async (cn: string) => mutualTlsAgent(await issueCertificate(ca, { commonName: cn, usage: 'client' }));
  const [operator, bankClient, issuerPeer] = await Promise.all([agentFor('operator'), agentFor('bank'), agentFor('issuer')]);
  const atIssuer = new PlatformClient({ baseUrl: issuer.url, agent: operator });
  const atProvider = new PlatformClient({ baseUrl: provider.url, agent: operator });
  const asBank = new PlatformClient({ baseUrl: issuer.url, agent: bankClient });
  let key = 0;
  const idem = () => `k-${++key}`;
  try {
    const atOta = new PlatformClient({ baseUrl: otaService.adminUrl, agent: operator });
    await atOta.post('/v1/devices', { body: { deviceId: CARD, pskIdentity: `psk-${CARD}`, psk: Buffer.from(psk).toString('hex'), agentId: defaultAgentId(CARD) }, idempotencyKey: idem() });
    await atIssuer.post('/v1/cards', {
      body: { cardId: CARD, iin: '0001', cin: '0102030405060708', profile: 'scp03', isdAid: ISD_AID, isdKeys: { kvn: 0x30, enc: TEST_KEY, mac: TEST_KEY, dek: TEST_KEY } },
    });
    await atIssuer.post('/v1/providers', { body: { providerId: 'bank', name: 'A Bank', aidPrefix: PREFIX, privileges: ['AuthorizedManagement'], maxSsds: 20 } });

    // Before: 3 provider-managed SSDs and 4 issuer-managed SSDs (2 to rotate, 2 to lock and unlock).
    for (let n = 0; n < 3; n += 1) {
      const r = await atProvider.post<{ state: string }>(`/v1/cards/${CARD}/ssds`, { body: { aid: providerAid(n), privileges: [], route: { kind: 'ota' } }, idempotencyKey: idem() });
      assert.equal(r.body.state, 'provider-managed');
    }
    for (let n = 0; n < 4; n += 1) {
      const r = await asBank.post<{ step: string }>('/v1/ssd-requests', {
        body: { cardId: CARD, aid: issuerAid(n), privileges: [], route: { kind: 'ota' }, managedBy: 'issuer' },
        idempotencyKey: idem(),
      });
      assert.equal(r.body.step, 'done');
    }

    const outcomes: Outcome[] = [];
    /** Run one operation; a retryable answer (503 with Retry-After) is recorded and the operation asked again. */
    const op = async (name: string, call: () => Promise<unknown>): Promise<void> => {
      for (let attempt = 0; attempt < 20; attempt += 1) {
        try {
          await call();
          outcomes.push({ op: name, status: 200 });
          return;
        } catch (e) {
          if (e instanceof RemoteProblemError && e.status === 503) {
            outcomes.push({ op: name, status: 503, code: String(e.problem?.code), retryAfter: true });
            continue;
          }
          outcomes.push({ op: name, status: e instanceof RemoteProblemError ? e.status : 0, code: e instanceof RemoteProblemError ? String(e.problem?.code) : String(e) });
          return;
        }
      }
    };
    const isdKeys = keySetFromHex(0x30, 3, TEST_KEY, TEST_KEY, TEST_KEY);
    const getStatusRead = async () => {
      const channel = new RemoteOtaChannel({ baseUrl: otaService.adminUrl, deviceId: CARD, fetch: agentFetch(issuerPeer), conversation: true });
      try {
        const session = await openSd(channel, fromHex(ISD_AID), isdKeys);
        const entries = await getStatus(session, GetStatusScope.APPLICATIONS);
        assert.ok(entries.length >= 7, `GET STATUS lists the SSDs (${entries.length})`);
      } catch (e) {
        // A busy card answers 503 CARD_BUSY: the same retryable answer as the services give.
        if (e instanceof Error && 'code' in e && e.code === 'BUSY') throw new RemoteProblemError('REMOTE_PROBLEM', e.message, 503, { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: e.message, instance: '', code: 'CARD_BUSY' });
        throw e;
      } finally {
        await channel.close();
      }
    };
    const lockChain = (aid: string) => async () => {
      for (let i = 0; i < 3; i += 1) {
        await op(`lock ${aid}`, () => atIssuer.post(`/v1/cards/${CARD}/ssds/${aid}/lock`, { body: {} }));
        await op(`unlock ${aid}`, () => atIssuer.post(`/v1/cards/${CARD}/ssds/${aid}/unlock`, { body: {} }));
      }
    };
    const work: Promise<void>[] = [];
    // A retry after a retryable answer repeats the request with the same Idempotency-Key, as a client would.
    for (let i = 0; i < 12; i += 1) {
      const aid = providerAid(i % 3);
      const k = idem();
      work.push(op(`provider rotation ${aid}`, () => atProvider.post(`/v1/cards/${CARD}/ssds/${aid}/rotation`, { body: { reason: 'forced' }, idempotencyKey: k })));
    }
    for (let i = 0; i < 8; i += 1) {
      const aid = issuerAid(i % 2);
      const k = idem();
      work.push(op(`issuer rotation ${aid}`, () => atIssuer.post(`/v1/cards/${CARD}/ssds/${aid}/rotation`, { body: { reason: 'forced' }, idempotencyKey: k })));
    }
    work.push(lockChain(issuerAid(2))(), lockChain(issuerAid(3))());
    for (let n = 3; n < 7; n += 1) {
      const k = idem();
      work.push(op(`provider SSD request ${providerAid(n)}`, () => atProvider.post(`/v1/cards/${CARD}/ssds`, { body: { aid: providerAid(n), privileges: [], route: { kind: 'ota' } }, idempotencyKey: k })));
    }
    for (let i = 0; i < 14; i += 1) work.push(op('GET STATUS', getStatusRead));
    await Promise.all(work);

    const finals = new Map<string, Outcome>();
    for (const o of outcomes) if (o.status !== 503) finals.set(`${o.op}#${[...finals.keys()].filter((k) => k.startsWith(`${o.op}#`)).length}`, o);
    const failed = [...finals.values()].filter((o) => o.status !== 200);
    assert.equal(finals.size, 12 + 8 + 12 + 4 + 14, 'every operation came to an end');
    assert.deepEqual(failed, [], 'no operation failed for good');
    for (const o of outcomes.filter((x) => x.status === 503)) assert.deepEqual([o.code, o.retryAfter], ['CARD_BUSY', true]);

    // No flow left running or failed, at either platform.
    for (const s of [issuer, provider]) {
      const open = await s.deps.db.query<{ kind: string; step: string; status: string; error: string | null }>("SELECT kind, step, status, error FROM flows WHERE status IN ('running', 'failed')");
      assert.deepEqual(open, []);
    }
    // Every SSD opens with the keys its platform holds, and the locked ones are unlocked again.
    const air = ota.channel(CARD);
    for (let n = 0; n < 7; n += 1) {
      const keys = await providerKeySlot(provider.deps.db, provider.deps.sealer, CARD, providerAid(n)).current();
      assert.equal(await probeKeySet(air, fromHex(providerAid(n)), keys), 'match', `provider SSD ${providerAid(n)}`);
    }
    for (let n = 0; n < 4; n += 1) {
      const keys = await issuerKeySlot(issuer.deps.db, issuer.deps.sealer, CARD, issuerAid(n)).current();
      assert.equal(await probeKeySet(air, fromHex(issuerAid(n)), keys), 'match', `issuer SSD ${issuerAid(n)}`);
    }
    const view = (await atIssuer.get<{ ssds: { aid: string; state: string }[] }>(`/v1/cards/${CARD}/ssds`)).body.ssds;
    assert.deepEqual(view.filter((s) => s.state !== 'provider-managed' && s.state !== 'issuer-managed'), []);
    assert.deepEqual(ota.conversations.state(CARD), { holder: undefined, waiting: 0 }, 'no conversation holds the card afterwards');
  } finally {
    for (const a of [operator, bankClient, issuerPeer]) a.destroy();
    await provider.close();
    await issuer.close();
    fleet.stop();
    await otaService.close();
    await rm(dir, { recursive: true, force: true });
  }
});
