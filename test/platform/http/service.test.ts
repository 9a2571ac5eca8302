/** createService: the one error handler (every error path is problem+json), route contract, request ids, health. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createService } from '../../../src/platform/http/index.ts';
import { ProblemError } from '../../../src/platform/errors.ts';

const itemSchema = {
  type: 'object',
  required: ['iccid', 'keys'],
  additionalProperties: false,
  properties: {
    iccid: { type: 'string', pattern: '^[0-9]{19,20}$' },
    keys: { type: 'array', items: { type: 'object', required: ['kcv'], properties: { kcv: { type: 'string', pattern: '^[0-9A-F]{6}$' } } } },
  },
} as const;

async function app(options: { bodyLimit?: number } = {}): Promise<FastifyInstance> {
  const a = await createService({ name: 'test', version: '0.0.1', logger: false, ...options });
  a.post(
    '/cards/:iccid',
    {
      schema: {
        params: { type: 'object', properties: { iccid: { type: 'string' } }, required: ['iccid'] },
        body: itemSchema,
        response: { 201: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async (_req, reply) => reply.code(201).send({ ok: true }),
  );
  a.get('/boom', { schema: { response: { 200: { type: 'object' } } } }, async () => {
    throw new Error('database password=hunter2 at /var/secret');
  });
  a.get('/problem', { schema: { response: { 200: { type: 'object' } } } }, async () => {
    throw new ProblemError({ status: 422, code: 'KCV_MISMATCH', detail: 'KCV 1A2B3C does not match', extra: { kvn: 48 } });
  });
  a.get('/undeclared', { schema: { response: { 200: { type: 'object' } } } }, async (_r, reply) => reply.code(202 as 200).send({})); // deliberately undeclared
  a.delete('/cards/:iccid', { schema: { response: { 204: { type: 'null' } } } }, async (_r, reply) => reply.code(204).send());
  await a.ready();
  return a;
}

function assertProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string, instance: string) {
  assert.equal(res.statusCode, status);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  const body = res.json() as Record<string, unknown>;
  assert.equal(body.type, `https://opentsm.dev/problems/${code}`);
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(body.instance, instance);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  assert.equal(body.requestId, res.headers['x-request-id']);
  return body;
}

const goodBody = { iccid: '8949000000000000001', keys: [{ kcv: '1A2B3C' }] };

test('a valid request passes', async () => {
  const a = await app();
  const res = await a.inject({ method: 'POST', url: '/cards/1', payload: goodBody });
  assert.equal(res.statusCode, 201);
  assert.deepEqual(res.json(), { ok: true });
  await a.close();
});

test('validation errors: 400 VALIDATION with the failing field path', async () => {
  const a = await app();
  const missing = await a.inject({ method: 'POST', url: '/cards/1?x=1', payload: { keys: [] } });
  const b1 = assertProblem(missing, 400, 'VALIDATION', '/cards/1');
  assert.equal(b1.detail, 'body /iccid is required');
  assert.deepEqual(b1.errors, [{ in: 'body', path: '/iccid', message: 'is required' }]);

  const nested = await a.inject({ method: 'POST', url: '/cards/1', payload: { ...goodBody, keys: [{ kcv: 'zz' }] } });
  const b2 = assertProblem(nested, 400, 'VALIDATION', '/cards/1');
  assert.deepEqual(b2.errors, [{ in: 'body', path: '/keys/0/kcv', message: 'must match pattern "^[0-9A-F]{6}$"' }]);

  const extra = await a.inject({ method: 'POST', url: '/cards/1', payload: { ...goodBody, key: '00112233' } });
  const b3 = assertProblem(extra, 400, 'VALIDATION', '/cards/1');
  assert.deepEqual(b3.errors, [{ in: 'body', path: '/key', message: 'is not allowed' }]);
  await a.close();
});

test('issue 8 §4: no type coercion — a value of the wrong type is 400 VALIDATION, never converted', async () => {
  const a = await createService({ name: 'test', version: '0.0.1', logger: false });
  const seen: unknown[] = [];
  a.post(
    '/typed',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { providerId: { type: 'string' }, kvn: { type: 'integer' }, counter: { type: 'integer' }, flag: { type: 'boolean' }, list: { type: 'array', items: { type: 'string' } } },
        },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async (request) => {
      seen.push(request.body);
      return { ok: true };
    },
  );
  await a.ready();
  const cases: [object, string][] = [
    [{ providerId: 123 }, 'body /providerId must be string'],
    [{ kvn: true }, 'body /kvn must be integer'],
    [{ kvn: '48' }, 'body /kvn must be integer'],
    [{ counter: null }, 'body /counter must be integer'],
    [{ flag: 'true' }, 'body /flag must be boolean'],
    [{ flag: 1 }, 'body /flag must be boolean'],
    [{ list: 'one' }, 'body /list must be array'],
  ];
  for (const [payload, detail] of cases) {
    const res = await a.inject({ method: 'POST', url: '/typed', payload });
    const p = assertProblem(res, 400, 'VALIDATION', '/typed');
    assert.equal(p.detail, detail, JSON.stringify(payload));
  }
  assert.deepEqual(seen, [], 'no handler ran');
  const ok = await a.inject({ method: 'POST', url: '/typed', payload: { providerId: 'bank', kvn: 48, counter: 0, flag: true, list: ['a'] } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(seen, [{ providerId: 'bank', kvn: 48, counter: 0, flag: true, list: ['a'] }]);
  await a.close();
});

test('malformed JSON, empty JSON body: 400 MALFORMED_JSON', async () => {
  const a = await app();
  const headers = { 'content-type': 'application/json' };
  assertProblem(await a.inject({ method: 'POST', url: '/cards/1', payload: '{"iccid":', headers }), 400, 'MALFORMED_JSON', '/cards/1');
  assertProblem(await a.inject({ method: 'POST', url: '/cards/1', payload: '', headers }), 400, 'MALFORMED_JSON', '/cards/1');
  // prototype poisoning is refused as malformed, never merged
  const poisoned = await a.inject({ method: 'POST', url: '/cards/1', payload: '{"__proto__":{"x":1}}', headers });
  assertProblem(poisoned, 400, 'MALFORMED_JSON', '/cards/1');
  await a.close();
});

test('unsupported media type: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
  const a = await app();
  const res = await a.inject({ method: 'POST', url: '/cards/1', payload: '<x/>', headers: { 'content-type': 'application/xml' } });
  const body = assertProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE', '/cards/1');
  assert.equal(body.detail, "content type 'application/xml' is not accepted here");
  await a.close();
});

test('body too large: 413 BODY_TOO_LARGE', async () => {
  const a = await app({ bodyLimit: 64 });
  const res = await a.inject({ method: 'POST', url: '/cards/1', payload: { ...goodBody, pad: 'x'.repeat(100) } });
  const body = assertProblem(res, 413, 'BODY_TOO_LARGE', '/cards/1');
  assert.equal(body.limit, 64);
  await a.close();
});

test('not found 404 NOT_FOUND; wrong method 405 METHOD_NOT_ALLOWED with Allow', async () => {
  const a = await app();
  assertProblem(await a.inject({ method: 'GET', url: '/nope' }), 404, 'NOT_FOUND', '/nope');
  const res = await a.inject({ method: 'PUT', url: '/cards/42' });
  const body = assertProblem(res, 405, 'METHOD_NOT_ALLOWED', '/cards/42');
  assert.equal(res.headers.allow, 'DELETE, POST');
  assert.deepEqual(body.allowed, ['DELETE', 'POST']);
  assertProblem(await a.inject({ method: 'GET', url: '/cards/42/more' }), 404, 'NOT_FOUND', '/cards/42/more');
  await a.close();
});

test('malformed URL: 400 BAD_REQUEST problem', async () => {
  const a = await app();
  assertProblem(await a.inject({ method: 'GET', url: '/cards/%zz' }), 400, 'BAD_REQUEST', '/cards/%zz');
  await a.close();
});

test('ProblemError from a route keeps status, code and extension members', async () => {
  const a = await app();
  const body = assertProblem(await a.inject({ method: 'GET', url: '/problem' }), 422, 'KCV_MISMATCH', '/problem');
  assert.equal(body.detail, 'KCV 1A2B3C does not match');
  assert.equal(body.title, 'Unprocessable Entity');
  assert.equal(body.kvn, 48);
  await a.close();
});

test('any other error: 500 INTERNAL, nothing of the message leaks', async () => {
  const a = await app();
  const res = await a.inject({ method: 'GET', url: '/boom' });
  const body = assertProblem(res, 500, 'INTERNAL', '/boom');
  assert.doesNotMatch(res.body, /hunter2|password|var\/secret|stack|at /);
  assert.match(String(body.detail), new RegExp(String(res.headers['x-request-id'])));
  await a.close();
});

test('a success status the route did not declare becomes 500 INTERNAL', async () => {
  const a = await app();
  assertProblem(await a.inject({ method: 'GET', url: '/undeclared' }), 500, 'INTERNAL', '/undeclared');
  const del = await a.inject({ method: 'DELETE', url: '/cards/1' });
  assert.equal(del.statusCode, 204);
  assert.equal(del.body, '');
  await a.close();
});

test('route contract: no response schemas, no success status, or no body schema throws at startup', async () => {
  const a = await createService({ name: 't', version: '1', logger: false });
  assert.throws(() => a.get('/x', async () => ({})), { name: 'PlatformError', code: 'ROUTE_SCHEMA', message: 'route GET /x has no response schemas (schema.response is required)' });
  assert.throws(
    () => a.get('/y', { schema: { response: { 404: { type: 'object' } } } }, async () => ({})),
    /route GET \/y declares no success response schema/,
  );
  assert.throws(() => a.get('/z', { schema: { response: { ok: { type: 'object' } } } }, async () => ({})), /declares response 'ok', which is not a status/);
  assert.throws(() => a.post('/w', { schema: { response: { 200: { type: 'object' } } } }, async () => ({})), /route POST \/w has no body schema/);
  // authorisation belongs in onRequest, before the body is validated (issue 8 §4): a route preHandler is refused
  assert.throws(
    () => a.post('/p', { preHandler: async () => {}, schema: { body: { type: 'object' }, response: { 200: { type: 'object' } } } }, async () => ({})),
    { code: 'ROUTE_SCHEMA', message: 'route POST /p has a preHandler: authorisation belongs in onRequest, before the body is validated' },
  );
  await a.close();

  // inside a plugin, the same mistake makes ready() fail
  const b = await createService({ name: 't', version: '1', logger: false });
  b.register(async (child) => {
    child.put('/v', async () => ({}));
  });
  await assert.rejects(async () => {
    await b.ready();
  }, { code: 'ROUTE_SCHEMA' });
});

test('request ids: a safe X-Request-Id is kept, anything else replaced by a UUID', async () => {
  const a = await app();
  const kept = await a.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'abc-123.x:y' } });
  assert.equal(kept.headers['x-request-id'], 'abc-123.x:y');
  const replaced = await a.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'evil\nid' } });
  assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const fresh = await a.inject({ method: 'GET', url: '/health' });
  assert.notEqual(fresh.headers['x-request-id'], replaced.headers['x-request-id']);
  await a.close();
});

test('GET /health: 200 with checks, 503 UNAVAILABLE problem when one fails', async () => {
  const ok = await createService({ name: 'issuer', version: '1.2.3', logger: false, healthChecks: { db: () => {} } });
  const res = await ok.inject({ method: 'GET', url: '/health' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok', service: 'issuer', version: '1.2.3', checks: { db: 'ok' } });
  await ok.close();

  const failing = await createService({
    name: 'issuer',
    version: '1.2.3',
    logger: false,
    healthChecks: { db: () => {}, kek: async () => Promise.reject(new Error('no kek at /x')) },
  });
  const bad = await failing.inject({ method: 'GET', url: '/health' });
  const body = assertProblem(bad, 503, 'UNAVAILABLE', '/health');
  assert.equal(body.detail, 'not ready: kek');
  assert.deepEqual(body.checks, { db: 'ok', kek: 'failed' });
  assert.doesNotMatch(bad.body, /no kek/);
  await failing.close();
});
