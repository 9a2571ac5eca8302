/** Idempotency keys on POSTs that move keys: required, replayed, reuse refused, in-flight refused, scoped per peer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createService } from '../../../src/platform/http/index.ts';
import { ProblemError } from '../../../src/platform/errors.ts';
import { IdempotencyStore, canonicalJson, requestHash } from '../../../src/platform/idempotency/index.ts';
import { idempotencyMigrations } from '../../../src/platform/idempotency/migration.ts';
import type { Database } from '../../../src/platform/storage/database.ts';
import { migrate } from '../../../src/platform/storage/migrate.ts';
import { forEachDatabase } from '../databases.ts';

interface Harness {
  app: FastifyInstance;
  db: Database;
  calls: number;
  gate: { release: () => void; wait: Promise<void> } | undefined;
  fail: 'none' | 'problem' | 'crash';
}

async function harness(db: Database, options: { now?: () => number; lockTimeoutMs?: number } = {}): Promise<Harness> {
  await migrate(db, idempotencyMigrations, { component: 'platform-idempotency' });
  const h: Harness = { app: undefined as unknown as FastifyInstance, db, calls: 0, gate: undefined, fail: 'none' };
  const app = await createService({
    name: 'issuer',
    version: '1',
    logger: false,
    idempotency: new IdempotencyStore(db, options),
    identify: (req) => {
      const cn = req.headers['x-test-peer'];
      return typeof cn === 'string' ? { commonName: cn, fingerprint256: '00', serialNumber: '01' } : null;
    },
  });
  app.post(
    '/cards/:iccid/keys',
    {
      config: { idempotent: true },
      schema: {
        body: { type: 'object', required: ['kvn'], properties: { kvn: { type: 'integer' }, kcv: { type: 'string' } } },
        response: { 201: { type: 'object', properties: { call: { type: 'integer' }, kvn: { type: 'integer' } } } },
      },
    },
    async (request, reply) => {
      h.calls++;
      const call = h.calls;
      if (h.gate !== undefined) await h.gate.wait;
      if (h.fail === 'problem') throw new ProblemError({ status: 422, code: 'KCV_MISMATCH', detail: 'KCV does not match' });
      if (h.fail === 'crash') throw new Error('card went away');
      return reply.code(201).header('location', `/cards/x/keys/${call}`).send({ call, kvn: (request.body as { kvn: number }).kvn });
    },
  );
  app.post(
    '/other',
    { config: { idempotent: true }, schema: { body: { type: 'object' }, response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => ({ other: true }),
  );
  await app.ready();
  h.app = app;
  return h;
}

const post = (h: Harness, key: string | undefined, payload: unknown, url = '/cards/1/keys', peer?: string) =>
  h.app.inject({
    method: 'POST',
    url,
    payload: payload as Record<string, unknown>,
    headers: { ...(key === undefined ? {} : { 'idempotency-key': key }), ...(peer === undefined ? {} : { 'x-test-peer': peer }) },
  });

async function rows(h: Harness) {
  return h.db.query('SELECT scope, idem_key, state, status, headers FROM platform_idempotency ORDER BY scope, idem_key');
}

forEachDatabase('missing Idempotency-Key: 400 IDEMPOTENCY_KEY_REQUIRED, handler not run, nothing stored', async ({ db }) => {
  const h = await harness(db);
  const res = await post(h, undefined, { kvn: 48 });
  assert.equal(res.statusCode, 400);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(res.json().code, 'IDEMPOTENCY_KEY_REQUIRED');
  assert.equal(h.calls, 0);
  assert.deepEqual(await rows(h), []);
  for (const bad of ['', 'a b', 'x'.repeat(256), 'é']) {
    const r = await h.app.inject({ method: 'POST', url: '/cards/1/keys', payload: { kvn: 48 }, headers: { 'idempotency-key': bad } });
    assert.equal(r.statusCode, 400, bad);
    assert.equal(r.json().code, 'IDEMPOTENCY_KEY_INVALID');
  }
  assert.equal(h.calls, 0);
  await h.app.close();
});

forEachDatabase('first response stored; a retry replays it exactly with Idempotent-Replayed: true', async ({ db }) => {
  const h = await harness(db);
  const first = await post(h, 'k1', { kvn: 48, kcv: '1A2B3C' });
  assert.equal(first.statusCode, 201);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  assert.deepEqual(first.json(), { call: 1, kvn: 48 });
  // same body, keys in another order: the same request
  const again = await post(h, 'k1', { kcv: '1A2B3C', kvn: 48 });
  assert.equal(again.statusCode, 201);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(again.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(again.headers.location, '/cards/x/keys/1');
  assert.equal(again.body, first.body);
  assert.equal(h.calls, 1);
  assert.deepEqual(await rows(h), [
    { scope: '', idem_key: 'k1', state: 'done', status: 201, headers: '{"content-type":"application/json; charset=utf-8","location":"/cards/x/keys/1"}' },
  ]);
  await h.app.close();
});

forEachDatabase('same key, different request (body, path parameter or route): 422 IDEMPOTENCY_KEY_REUSED, nothing changed', async ({ db }) => {
  const h = await harness(db);
  await post(h, 'k1', { kvn: 48 });
  for (const [payload, url] of [
    [{ kvn: 49 }, '/cards/1/keys'],
    [{ kvn: 48 }, '/cards/2/keys'],
    [{ kvn: 48 }, '/other'],
  ] as const) {
    const res = await post(h, 'k1', payload, url);
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(res.json().type, 'https://opentsm.dev/problems/IDEMPOTENCY_KEY_REUSED');
  }
  assert.equal(h.calls, 1);
  assert.equal((await rows(h)).length, 1);
  await h.app.close();
});

forEachDatabase('same key while the first is in flight: 409 IDEMPOTENCY_IN_PROGRESS; afterwards replay', async ({ db }) => {
  const h = await harness(db);
  let release!: () => void;
  h.gate = { release: () => release(), wait: new Promise<void>((r) => (release = r)) };
  const first = post(h, 'k1', { kvn: 48 });
  while (h.calls === 0) await new Promise((r) => setImmediate(r));
  const second = await post(h, 'k1', { kvn: 48 });
  assert.equal(second.statusCode, 409);
  assert.equal(second.json().code, 'IDEMPOTENCY_IN_PROGRESS');
  assert.equal(second.headers['retry-after'], '1');
  assert.deepEqual((await rows(h)).map((r) => r.state), ['in_flight']);
  h.gate.release();
  assert.equal((await first).statusCode, 201);
  const third = await post(h, 'k1', { kvn: 48 });
  assert.equal(third.headers['idempotent-replayed'], 'true');
  assert.equal(h.calls, 1);
  await h.app.close();
});

forEachDatabase('a 4xx problem is kept and replayed; a 5xx releases the key so the client can retry', async ({ db }) => {
  const h = await harness(db);
  h.fail = 'problem';
  const p1 = await post(h, 'k1', { kvn: 48 });
  assert.equal(p1.statusCode, 422);
  const p2 = await post(h, 'k1', { kvn: 48 });
  assert.equal(p2.statusCode, 422);
  assert.equal(p2.headers['idempotent-replayed'], 'true');
  assert.equal(p2.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(p2.json().code, 'KCV_MISMATCH');
  assert.equal(h.calls, 1);

  h.fail = 'crash';
  const c1 = await post(h, 'k2', { kvn: 48 });
  assert.equal(c1.statusCode, 500);
  assert.deepEqual((await rows(h)).map((r) => r.idem_key), ['k1']);
  h.fail = 'none';
  const c2 = await post(h, 'k2', { kvn: 48 });
  assert.equal(c2.statusCode, 201);
  assert.equal(c2.headers['idempotent-replayed'], undefined);
  assert.equal(h.calls, 3);
  await h.app.close();
});

forEachDatabase('keys are scoped per authenticated peer', async ({ db }) => {
  const h = await harness(db);
  const a = await post(h, 'k1', { kvn: 48 }, '/cards/1/keys', 'provider-a');
  const b = await post(h, 'k1', { kvn: 48 }, '/cards/1/keys', 'provider-b');
  assert.deepEqual([a.statusCode, b.statusCode], [201, 201]);
  assert.equal(b.headers['idempotent-replayed'], undefined);
  assert.equal(h.calls, 2);
  assert.deepEqual((await rows(h)).map((r) => `${r.scope}/${r.idem_key}`), ['provider-a/k1', 'provider-b/k1']);
  await h.app.close();
});

forEachDatabase('a claim left by a crashed process is taken over after the lock timeout; records expire after the TTL', async ({ db }) => {
  let now = 1_000_000;
  const h = await harness(db, { now: () => now, lockTimeoutMs: 5_000 });
  const hash = requestHash({ method: 'POST', route: '/cards/:iccid/keys', params: { iccid: '1' }, query: {}, peer: '', body: { kvn: 48 } });
  await h.db.execute(`INSERT INTO platform_idempotency (scope, idem_key, request_hash, state, created_at) VALUES ('', 'k1', $1, 'in_flight', $2)`, [hash, now]);
  assert.equal((await post(h, 'k1', { kvn: 48 })).statusCode, 409);
  now += 5_001;
  const taken = await post(h, 'k1', { kvn: 48 });
  assert.equal(taken.statusCode, 201);
  assert.equal(h.calls, 1);
  now += 86_400_001;
  const fresh = await post(h, 'k1', { kvn: 49 });
  assert.equal(fresh.statusCode, 201);
  assert.equal(fresh.json().kvn, 49);
  await h.app.close();
});

test('an idempotent route on a service without a store throws at startup', async () => {
  const app = await createService({ name: 't', version: '1', logger: false });
  assert.throws(
    () => app.post('/x', { config: { idempotent: true }, schema: { body: { type: 'object' }, response: { 200: { type: 'object' } } } }, async () => ({})),
    { code: 'ROUTE_SCHEMA', message: 'route POST /x is idempotent but the service has no idempotency store' },
  );
  await app.close();
});

test('canonical JSON sorts keys and marks bytes', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined }), '{"a":[true,null,"x"],"b":1}');
  assert.equal(canonicalJson(new Uint8Array([1, 255])), '{"$bytes":"01ff"}');
});
