/** GET /openapi.json: an OpenAPI 3.1 document generated from the registered routes' schemas. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, openApiPath } from '../../../src/platform/http/index.ts';
import { IdempotencyStore } from '../../../src/platform/idempotency/index.ts';
import { openDatabase } from '../../../src/platform/storage/open.ts';

const problemRef = { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

test('paths, parameters, bodies, responses, shared schemas and the idempotency header', async () => {
  const db = await openDatabase({ driver: 'sqlite', path: ':memory:' });
  const app = await createService({ name: 'issuer', version: '2.0.0', description: 'SEI-TSM', logger: false, idempotency: new IdempotencyStore(db) });
  app.addSchema({ $id: 'Kcv', type: 'string', pattern: '^[0-9A-F]{6}$' });
  app.post(
    '/cards/:iccid/ssds',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Create an SSD',
        tags: ['ssd'],
        operationId: 'createSsd',
        params: { type: 'object', properties: { iccid: { type: 'string' } }, required: ['iccid'] },
        querystring: { type: 'object', properties: { dryRun: { type: 'boolean' } } },
        body: { type: 'object', required: ['aid'], properties: { aid: { type: 'string' }, kcv: { $ref: 'Kcv#' } } },
        response: {
          201: { description: 'SSD created', type: 'object', properties: { aid: { type: 'string' } } },
          409: { type: 'object' },
        },
      },
    },
    async (_r, reply) => reply.code(201).send({ aid: 'A0' }),
  );
  app.get('/cards/:iccid/ssds/:aid', { schema: { response: { 200: { type: 'object' } } } }, async () => ({}));
  app.delete('/cards/:iccid', { schema: { response: { 204: { type: 'null' } } } }, async (_r, reply) => reply.code(204).send());
  await app.ready();

  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  const doc = res.json();
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(doc.info, { title: 'issuer', version: '2.0.0', description: 'SEI-TSM' });
  assert.deepEqual(Object.keys(doc.paths).sort(), ['/cards/{iccid}', '/cards/{iccid}/ssds', '/cards/{iccid}/ssds/{aid}', '/health']);
  assert.deepEqual(doc.paths['/cards/{iccid}/ssds'].post, {
    operationId: 'createSsd',
    summary: 'Create an SSD',
    tags: ['ssd'],
    parameters: [
      { name: 'iccid', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'dryRun', in: 'query', required: false, schema: { type: 'boolean' } },
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: true,
        description: 'Client-chosen unique key; a retry with the same key and body replays the first response.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
    ],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: { type: 'object', required: ['aid'], properties: { aid: { type: 'string' }, kcv: { $ref: '#/components/schemas/Kcv' } } },
        },
      },
    },
    responses: {
      201: { description: 'SSD created', content: { 'application/json': { schema: { type: 'object', properties: { aid: { type: 'string' } } } } } },
      409: { description: 'Conflict', content: { 'application/problem+json': { schema: { type: 'object' } } } },
      '5XX': { description: 'Server error', ...problemRef },
    },
  });
  // path parameters without a schema are still documented
  assert.deepEqual(doc.paths['/cards/{iccid}/ssds/{aid}'].get.parameters, [
    { name: 'iccid', in: 'path', required: true, schema: { type: 'string' } },
    { name: 'aid', in: 'path', required: true, schema: { type: 'string' } },
  ]);
  assert.equal(doc.paths['/cards/{iccid}/ssds/{aid}'].get.operationId, 'getCardsByIccidSsdsByAid');
  assert.deepEqual(doc.paths['/cards/{iccid}'].delete.responses['204'], { description: 'No Content' });
  assert.deepEqual(doc.paths['/cards/{iccid}'].delete.responses['4XX'], { description: 'Client error', ...problemRef });
  assert.deepEqual(doc.components.schemas.Kcv, { type: 'string', pattern: '^[0-9A-F]{6}$' });
  assert.deepEqual(doc.components.schemas.Problem.required, ['type', 'title', 'status', 'detail', 'instance', 'code']);
  assert.equal(doc.paths['/openapi.json'], undefined);
  await app.close();
  await db.close();
});

test('fastify paths to OpenAPI paths', () => {
  assert.equal(openApiPath('/a/:b/c/:d'), '/a/{b}/c/{d}');
  assert.equal(openApiPath('/a/:b(^\\d+$)'), '/a/{b}');
  assert.equal(openApiPath('/files/*'), '/files/{wildcard}');
});
