/**
 * startCa end to end over real sockets with mutual TLS: the operator creates a CA for a provider, that provider
 * (its own platform certificate, CN = provider id) gets an SD certificate, another provider is refused (403).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { loadConfig } from '../../../src/platform/config/config.ts';
import { PlatformClient, RemoteProblemError } from '../../../src/platform/http/client.ts';
import { mutualTlsAgent } from '../../../src/platform/tls/options.ts';
import { ensureCa } from '../../../src/platform/tls/ca.ts';
import { issueCertificate } from '../../../src/platform/tls/issue.ts';
import { parseCertificate, verifyChain } from '../../../src/scp/scp11/certificate.ts';
import { generateKeyPair } from '../../../src/crypto/index.ts';
import { startCa } from '../../../src/services/ca/service.ts';
import { CARD_ID, SD_AID } from './harness.ts';

test('startCa serves the CA API over mutual TLS; a provider may only use its own CA', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-ca-svc-'));
  const config = loadConfig({ dataDir: dir, logLevel: 'silent', services: { ca: { host: '127.0.0.1', port: 0 } } });
  const tlsCa = await ensureCa(config.tlsDir);
  const caCertBefore = await readFile(join(config.tlsDir, 'ca.crt'), 'utf8');
  const ca = await startCa(config);
  // Regression: CN 'ca' must not take the internal TLS CA's own ca.crt/ca.key as its identity.
  assert.equal(await readFile(join(config.tlsDir, 'ca.crt'), 'utf8'), caCertBefore);
  const agents = [] as ReturnType<typeof mutualTlsAgent>[];
  const client = async (cn: string) => {
    const agent = mutualTlsAgent(await issueCertificate(tlsCa, { commonName: cn, usage: 'client' }));
    agents.push(agent);
    return new PlatformClient({ baseUrl: ca.url, agent });
  };
  try {
    const operator = await client('operator');
    const bank = await client('bank');
    const telco = await client('telco');
    const created = await operator.post<{ caId: string; publicKey: string }>('/v1/cas', { body: { owner: 'bank', kind: 'scp11' }, idempotencyKey: 'ca-bank-11' });
    assert.equal(created.status, 201);
    const sd = generateKeyPair('P-256');
    const body = { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: toHex(sd.publicKey) } };
    const issued = await bank.post<{ certificate: string }>(`/v1/cas/${created.body.caId}/certificates`, { body, headers: { 'idempotency-key': 'svc-1' } });
    assert.equal(issued.status, 201);
    verifyChain([parseCertificate(fromHex(issued.body.certificate))], { curve: 'P-256', point: fromHex(created.body.publicKey) });
    await assert.rejects(
      telco.post(`/v1/cas/${created.body.caId}/certificates`, { body, headers: { 'idempotency-key': 'svc-2' } }),
      (e: unknown) => e instanceof RemoteProblemError && e.status === 403 && e.problem?.code === 'NOT_OWNER',
    );
  } finally {
    for (const a of agents) a.destroy();
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  }
});
