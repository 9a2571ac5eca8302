/** PlatformClient over mutual TLS: provider → issuer, an idempotent POST scoped by certificate identity. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { PlatformClient, RemoteProblemError, createService, requirePeer } from '../../../src/platform/http/index.ts';
import { IdempotencyStore, idempotencyMigrations } from '../../../src/platform/idempotency/index.ts';
import { migrate } from '../../../src/platform/storage/migrate.ts';
import { openDatabase } from '../../../src/platform/storage/open.ts';
import { createCa, issueCertificate, mutualTlsAgent, mutualTlsOptions } from '../../../src/platform/tls/index.ts';

test('idempotent POST over mTLS: replayed on retry, keyed by the peer certificate; problems reject with the remote code', async () => {
  const db = await openDatabase({ driver: 'sqlite', path: ':memory:' });
  await migrate(db, idempotencyMigrations, { component: 'platform-idempotency' });
  const { ca } = await createCa();
  const issuer = await issueCertificate(ca, { commonName: 'issuer', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const provider = await issueCertificate(ca, { commonName: 'provider', usage: 'client' });
  let calls = 0;
  const app = await createService({ name: 'issuer', version: '1', logger: false, tls: mutualTlsOptions(issuer).server, idempotency: new IdempotencyStore(db) });
  app.post(
    '/ssds',
    {
      onRequest: requirePeer('provider'),
      config: { idempotent: true },
      schema: {
        body: { type: 'object', required: ['aid'], properties: { aid: { type: 'string', pattern: '^[0-9A-F]{10,32}$' } } },
        response: { 201: { type: 'object', properties: { aid: { type: 'string' }, by: { type: 'string' }, n: { type: 'integer' } } } },
      },
    },
    async (request, reply) => reply.code(201).send({ aid: (request.body as { aid: string }).aid, by: request.peer!.commonName, n: ++calls }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const agent = mutualTlsAgent(provider);
  const client = new PlatformClient({ baseUrl: `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`, agent });
  try {
    const first = await client.post<{ aid: string; by: string; n: number }>('/ssds', { body: { aid: 'A000000151535344' }, idempotencyKey: 'ssd-1', requestId: 'req-1' });
    assert.equal(first.status, 201);
    assert.deepEqual(first.body, { aid: 'A000000151535344', by: 'provider', n: 1 });
    assert.equal(first.headers['x-request-id'], 'req-1');
    const retry = await client.post<{ n: number }>('/ssds', { body: { aid: 'A000000151535344' }, idempotencyKey: 'ssd-1' });
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.body.n, 1);
    assert.deepEqual(await db.query('SELECT scope, idem_key, state, status FROM platform_idempotency'), [
      { scope: 'provider', idem_key: 'ssd-1', state: 'done', status: 201 },
    ]);
    await assert.rejects(client.post('/ssds', { body: { aid: 'xyz' }, idempotencyKey: 'ssd-2' }), (e: unknown) => {
      assert.ok(e instanceof RemoteProblemError);
      assert.equal(e.code, 'REMOTE_PROBLEM');
      assert.equal(e.status, 400);
      assert.equal(e.problem?.code, 'VALIDATION');
      assert.equal(e.message, 'POST /ssds: VALIDATION: body /aid must match pattern "^[0-9A-F]{10,32}$"');
      return true;
    });
    await assert.rejects(client.post('/ssds', { body: { aid: 'A000000151535345' }, idempotencyKey: 'ssd-1' }), { code: 'REMOTE_PROBLEM', status: 422 });
    assert.equal(calls, 1);
  } finally {
    agent.destroy();
    await app.close();
    await db.close();
  }
});
