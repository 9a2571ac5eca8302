/** Logs never carry key material: redaction rules and a logged request with keys in its body. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService } from '../../../src/platform/http/index.ts';
import { memoryDestination, redactSecrets, safeLog, REDACTED } from '../../../src/platform/log/index.ts';

const KEY = '404142434445464748494A4B4C4D4E4F';

test('redactSecrets: secret-named fields go, KCVs and key identifiers stay', () => {
  const input = {
    iccid: '8949000000000000001',
    key: KEY,
    enc: 'x',
    kek: KEY,
    psk: KEY,
    password: 'hunter2',
    accessToken: 'eyJ...',
    clientSecret: 's',
    kcv: '1A2B3C',
    kvn: 48,
    keyVersion: 49,
    idempotencyKey: 'abc',
    keys: [{ kid: 1, type: 'AES', value: KEY, kcv: 'A1B2C3' }, KEY],
    newKeySet: { enc: { data: KEY, kcv: 'AABBCC' }, length: 16 },
    data: new Uint8Array(16),
    nested: { deeper: { sessionKey: KEY, pin: '1234' } },
  };
  assert.deepEqual(redactSecrets(input), {
    iccid: '8949000000000000001',
    key: REDACTED,
    enc: REDACTED, // a key-set member named as the specs name it (enc, mac, dek, sEnc …) is a key
    kek: REDACTED,
    psk: REDACTED,
    password: REDACTED,
    accessToken: REDACTED,
    clientSecret: REDACTED,
    kcv: '1A2B3C',
    kvn: 48,
    keyVersion: 49,
    idempotencyKey: 'abc',
    keys: [{ kid: 1, type: REDACTED, value: REDACTED, kcv: 'A1B2C3' }, REDACTED],
    newKeySet: { enc: { data: REDACTED, kcv: 'AABBCC' }, length: REDACTED },
    data: '<16 bytes>',
    nested: { deeper: { sessionKey: REDACTED, pin: REDACTED } },
  });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.deepEqual(redactSecrets(cyclic), { a: 1, self: '[circular]' });
  assert.equal(JSON.stringify(redactSecrets({ k: 1n })), '{"k":"1"}');
});

test('a logged request with keys in its body never shows them; the KCV is logged', async () => {
  const dest = memoryDestination();
  const app = await createService({ name: 'provider', version: '1', logger: { level: 'debug', destination: dest } });
  app.post(
    '/keys',
    {
      schema: {
        body: { type: 'object', required: ['keys'], properties: { keys: { type: 'array' } } },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async (request) => {
      safeLog(request.log, 'info', { received: request.body }, 'put key');
      return { ok: true };
    },
  );
  await app.ready();
  const body = { keys: [{ kid: 1, key: KEY, kcv: '8BAF47' }], psk: KEY, secret: KEY };
  const res = await app.inject({
    method: 'POST',
    url: '/keys',
    payload: body,
    headers: { authorization: `Bearer ${KEY}-token`, 'idempotency-key': 'k-1' },
  });
  assert.equal(res.statusCode, 200);
  // an invalid body is logged (redacted) as well
  await app.inject({ method: 'POST', url: '/keys', payload: { key: KEY } });
  await app.close();

  const all = dest.lines.join('');
  assert.doesNotMatch(all, new RegExp(KEY, 'i'));
  assert.doesNotMatch(all, /4041424344/);
  const records = dest.records();
  const bodyLogs = records.filter((r) => r.msg === 'request body');
  assert.equal(bodyLogs.length, 2);
  assert.deepEqual(bodyLogs[0]!.body, { keys: [{ kid: 1, key: REDACTED, kcv: '8BAF47' }], psk: REDACTED, secret: REDACTED });
  assert.deepEqual(bodyLogs[1]!.body, { key: REDACTED });
  const putKey = records.find((r) => r.msg === 'put key')!;
  assert.deepEqual(putKey.received, bodyLogs[0]!.body);
  assert.equal(putKey.service, 'provider');
  assert.equal(typeof putKey.requestId, 'string');
  assert.equal(records.filter((r) => r.msg === 'request completed').length, 2);
});

test('request bodies are not logged above debug level', async () => {
  const dest = memoryDestination();
  const app = await createService({ name: 'p', version: '1', logger: { level: 'info', destination: dest } });
  app.post('/x', { schema: { body: { type: 'object' }, response: { 200: { type: 'object' } } } }, async () => ({}));
  await app.inject({ method: 'POST', url: '/x', payload: { kcv: '000000' } });
  await app.close();
  assert.equal(dest.records().filter((r) => r.msg === 'request body').length, 0);
  assert.ok(dest.records().some((r) => r.msg === 'incoming request'));
});

test('issue 8 §4: a raw body (text/plain, a bare JSON string, bytes) is never logged, at trace level either; only its type and length', async () => {
  const dest = memoryDestination();
  const app = await createService({ name: 'issuer', version: '1', logger: { level: 'trace', destination: dest } });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));
  app.post(
    '/isd-keys',
    {
      schema: {
        body: { type: 'object', required: ['kcv'], properties: { kcv: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async () => ({ ok: true }),
  );
  await app.ready();
  const text = await app.inject({ method: 'POST', url: '/isd-keys', headers: { 'content-type': 'text/plain' }, payload: `enc=${KEY}` });
  const json = await app.inject({ method: 'POST', url: '/isd-keys', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(KEY) });
  const bytes = await app.inject({
    method: 'POST',
    url: '/isd-keys',
    headers: { 'content-type': 'application/octet-stream' },
    payload: Buffer.from(KEY, 'latin1'),
  });
  await app.close();
  // each refused by validation, nothing changed, and the key's hex appears nowhere in the log stream
  for (const res of [text, json, bytes]) {
    assert.equal(res.statusCode, 400);
    assert.equal((res.json() as { code: string }).code, 'VALIDATION');
  }
  const all = dest.lines.join('');
  assert.doesNotMatch(all, new RegExp(KEY, 'i'));
  assert.doesNotMatch(all, /4041424344/);
  const bodyLogs = dest.records().filter((r) => r.msg === 'request body');
  assert.deepEqual(
    bodyLogs.map((r) => [r.body, r.bodyType, r.bodyLength]),
    [
      [undefined, 'string', 36],
      [undefined, 'string', 32],
      [undefined, 'bytes', 32],
    ],
  );
});
