/**
 * The CA's HTTP routes (in-process, app.inject) on SQLite and PostgreSQL: who may call what (by certificate
 * CN), idempotent issuance, 400 problem+json with nothing written for bad bodies, revocation and the list,
 * and a TrustChecker fed over HTTP.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { RemoteProblemError, type PlatformClient } from '../../../src/platform/http/client.ts';
import { parseCertificate, verifyChain } from '../../../src/scp/scp11/certificate.ts';
import { generateKeyPair } from '../../../src/crypto/index.ts';
import { verifyCertificate } from '../../../src/scp/scp10/certificate.ts';
import { rsaPublicNumbers } from '../../../src/crypto/index.ts';
import { httpTrustSource } from '../../../src/services/ca/client.ts';
import { CaError } from '../../../src/services/ca/errors.ts';
import { rsaPublicKeyObject } from '../../../src/services/ca/keys.ts';
import { TrustChecker } from '../../../src/services/ca/trust.ts';
import { forEachDatabase } from '../../platform/databases.ts';
import { CARD_ID, NOW, PEER_HEADER, SD_AID, makeCaHarness, type CaHarness } from './harness.ts';

const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;

function injectGet(h: CaHarness, peer: string): Pick<PlatformClient, 'get'> {
  return {
    get: (async (path: string) => {
      const r = await h.app.inject({ method: 'GET', url: path, headers: { [PEER_HEADER]: peer } });
      const body = JSON.parse(r.body);
      if (r.statusCode >= 400) throw new RemoteProblemError('REMOTE_PROBLEM', `GET ${path}`, r.statusCode, body);
      return { status: r.statusCode, headers: r.headers, body };
    }) as PlatformClient['get'],
  };
}

forEachDatabase('CA routes: create, issue (owner only, idempotent), revoke, list, trust over HTTP', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    // Create: operator only.
    assert.equal((await h.call(null, 'POST', '/v1/cas', { owner: 'bank', kind: 'scp11' }, 'ca-1')).statusCode, 401);
    const byBank = await h.call('bank', 'POST', '/v1/cas', { owner: 'bank', kind: 'scp11' }, 'ca-2');
    assert.equal(byBank.statusCode, 403);
    // issue 8 §4: the caller is checked before the body — an invalid body from a caller without rights is 403, not 400
    const invalidByBank = await h.call('bank', 'POST', '/v1/cas', { owner: 7, kind: 'x', extra: true });
    assert.deepEqual([invalidByBank.statusCode, (json(invalidByBank) as { code: string }).code], [403, 'FORBIDDEN']);
    const invalidByNobody = await h.call(null, 'POST', '/v1/cas', []);
    assert.deepEqual([invalidByNobody.statusCode, (json(invalidByNobody) as { code: string }).code], [401, 'UNAUTHENTICATED']);
    assert.match(String(byBank.headers['content-type']), /^application\/problem\+json/);
    const created = await h.call('operator', 'POST', '/v1/cas', { owner: 'bank', kind: 'scp11' }, 'ca-3');
    assert.equal(created.statusCode, 201);
    const ca = json(created) as { caId: string; owner: string; kind: string; algorithm: string; publicKey: string; certificate: string; createdAt: string };
    assert.deepEqual(Object.keys(ca).sort(), ['algorithm', 'caId', 'certificate', 'createdAt', 'kind', 'owner', 'publicKey']);
    assert.deepEqual([ca.owner, ca.kind, ca.algorithm, ca.createdAt], ['bank', 'scp11', 'P-256', NOW.toISOString()]);
    assert.equal(created.headers.location, `/v1/cas/${ca.caId}`);
    const otherCa = json(await h.call('operator', 'POST', '/v1/cas', { owner: 'telco', kind: 'scp11' }, 'ca-4')) as { caId: string };

    // issue 8 §4: the Idempotency-Key is honoured (a retry replays the same CA), one CA per owner and kind (409), nothing created.
    const beforeDuplicates = await h.snapshot();
    const caReplay = await h.call('operator', 'POST', '/v1/cas', { owner: 'bank', kind: 'scp11' }, 'ca-3');
    assert.equal(caReplay.statusCode, 201);
    assert.equal(caReplay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(json(caReplay), ca);
    const duplicate = await h.call('operator', 'POST', '/v1/cas', { owner: 'bank', kind: 'scp11', algorithm: 'P-384' }, 'ca-5');
    assert.equal(duplicate.statusCode, 409);
    assert.equal((json(duplicate) as { code: string }).code, 'ALREADY_EXISTS');
    const noKey = await h.call('operator', 'POST', '/v1/cas', { owner: 'bank', kind: 'scp11' });
    assert.equal(noKey.statusCode, 400);
    assert.equal((json(noKey) as { code: string }).code, 'IDEMPOTENCY_KEY_REQUIRED');
    assert.deepEqual(await h.snapshot(), beforeDuplicates);

    // Public info.
    const info = await h.call(null, 'GET', `/v1/cas/${ca.caId}`);
    assert.equal(info.statusCode, 200);
    assert.deepEqual(json(info), ca);
    assert.equal((await h.call(null, 'GET', '/v1/cas/00000000000000AA')).statusCode, 404);

    // Issue: the owner only, with an Idempotency-Key.
    const sd = generateKeyPair('P-256');
    const body = { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: toHex(sd.publicKey) } };
    const before = await h.snapshot();
    const foreign = await h.call('telco', 'POST', `/v1/cas/${ca.caId}/certificates`, body, 'k-1');
    assert.equal(foreign.statusCode, 403);
    assert.equal(json(foreign).code, 'NOT_OWNER');
    assert.equal((await h.call('operator', 'POST', `/v1/cas/${ca.caId}/certificates`, body, 'k-1')).statusCode, 403);
    assert.equal((await h.call(null, 'POST', `/v1/cas/${ca.caId}/certificates`, body, 'k-1')).statusCode, 401);
    assert.equal((await h.call('bank', 'POST', `/v1/cas/${otherCa.caId}/certificates`, body, 'k-1')).statusCode, 403);
    assert.equal((await h.call('bank', 'POST', `/v1/cas/FFFFFFFFFFFFFFFF/certificates`, body, 'k-1')).statusCode, 404);
    assert.equal(json(await h.call('bank', 'POST', `/v1/cas/${ca.caId}/certificates`, body)).code, 'IDEMPOTENCY_KEY_REQUIRED');

    // Bad bodies → 400 problem+json, nothing written.
    const bad: unknown[] = [
      {},
      { ...body, cardId: '123' },
      { ...body, sdAid: 'A0' },
      { ...body, publicKey: { point: 'zz' } },
      { ...body, publicKey: { point: toHex(sd.publicKey), modulus: '00' } },
      { ...body, keyUsage: 'encryption' },
      { ...body, validityDays: 0 },
      { ...body, extra: 1 },
      { ...body, publicKey: { point: '04' + '00'.repeat(64) } }, // not on the curve (handler: BAD_PUBLIC_KEY)
      { ...body, scheme: 'pkcs1' }, // SCP10 only
      { cardId: CARD_ID, sdAid: SD_AID, publicKey: { modulus: 'C1'.repeat(128), exponent: '010001' } }, // RSA to an SCP11 CA
    ];
    let n = 0;
    for (const b of bad) {
      const r = await h.call('bank', 'POST', `/v1/cas/${ca.caId}/certificates`, b, `bad-${n++}`);
      assert.equal(r.statusCode, 400, JSON.stringify(b));
      assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
      assert.ok(['VALIDATION', 'BAD_PUBLIC_KEY', 'BAD_REQUEST'].includes(json(r).code as string), r.body);
    }
    assert.deepEqual(await h.snapshot(), before);

    const issued = await h.call('bank', 'POST', `/v1/cas/${ca.caId}/certificates`, body, 'k-1');
    assert.equal(issued.statusCode, 201, issued.body);
    const cert = json(issued) as { serial: string; certificate: string; caId: string; keyUsage: string };
    assert.equal(issued.headers.location, `/v1/certificates/${cert.serial}`);
    const parsed = parseCertificate(fromHex(cert.certificate));
    verifyChain([parsed], { curve: 'P-256', point: fromHex(ca.publicKey) });
    assert.deepEqual(parsed.publicKey.point, sd.publicKey);
    const replay = await h.call('bank', 'POST', `/v1/cas/${ca.caId}/certificates`, body, 'k-1');
    assert.equal(caReplay.statusCode, 201);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, issued.body);
    assert.equal((await db.query('SELECT serial FROM ca_certificates')).length, 1);

    // Reading a certificate: owner or operator.
    assert.equal((await h.call('bank', 'GET', `/v1/certificates/${cert.serial}`)).statusCode, 200);
    assert.equal((await h.call('telco', 'GET', `/v1/certificates/${cert.serial}`)).statusCode, 403);

    // Trust over HTTP.
    const checker = new TrustChecker(httpTrustSource(injectGet(h, 'issuer')), { now: () => NOW });
    assert.equal((await checker.check(ca.caId, fromHex(cert.certificate))).serial, cert.serial);
    await assert.rejects(checker.check('FFFFFFFFFFFFFFFF', fromHex(cert.certificate)), (e: unknown) => e instanceof CaError && e.code === 'UNKNOWN_CA');

    // Revocation: owner or operator; another provider may not; bad reason → 400.
    assert.equal((await h.call('telco', 'POST', `/v1/certificates/${cert.serial}/revocation`, { reason: 'keyCompromise' })).statusCode, 403);
    assert.equal((await h.call('bank', 'POST', `/v1/certificates/${cert.serial}/revocation`, { reason: 'lost' })).statusCode, 400);
    assert.equal((await h.call('bank', 'POST', `/v1/certificates/0102030405060708/revocation`, { reason: 'keyCompromise' })).statusCode, 404);
    assert.equal((await h.call(null, 'GET', `/v1/cas/${ca.caId}/revoked`)).statusCode, 401);
    assert.deepEqual(json(await h.call('telco', 'GET', `/v1/cas/${ca.caId}/revoked`)), { caId: ca.caId, revoked: [] });
    const rv = await h.call('operator', 'POST', `/v1/certificates/${cert.serial}/revocation`, { reason: 'keyCompromise' });
    assert.equal(rv.statusCode, 200, rv.body);
    assert.deepEqual([json(rv).revokedAt, json(rv).reason], [NOW.toISOString(), 'keyCompromise']);
    const again = await h.call('bank', 'POST', `/v1/certificates/${cert.serial}/revocation`, { reason: 'superseded' });
    assert.equal(again.statusCode, 409);
    assert.equal(json(again).code, 'ALREADY_REVOKED');
    const list = json(await h.call('telco', 'GET', `/v1/cas/${ca.caId}/revoked`)) as { revoked: { serial: string; reason: string }[] };
    assert.deepEqual(list.revoked.map((e) => [e.serial, e.reason]), [[cert.serial, 'keyCompromise']]);
    await assert.rejects(checker.check(ca.caId, fromHex(cert.certificate)), (e: unknown) => e instanceof CaError && e.code === 'REVOKED');

    const actions = (await h.auditLog.read()).map((r) => r.action);
    assert.deepEqual(actions, ['ca.create', 'ca.create', 'ca.certificate.issue', 'ca.certificate.revoke']);
  } finally {
    await h.close();
  }
});

forEachDatabase('CA routes: an SCP10 CA issues the SCP10 format to its owner', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = json(await h.call('operator', 'POST', '/v1/cas', { owner: 'issuer', kind: 'scp10', algorithm: 'RSA-1024' }, 'ca-5')) as {
      caId: string; publicKey: string; rsa: { modulus: string; exponent: string };
    };
    assert.equal(ca.rsa.exponent, '010001');
    assert.equal(ca.rsa.modulus.length, 256);
    const { modulus, exponent } = rsaPublicNumbers(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
    const r = await h.call('issuer', 'POST', `/v1/cas/${ca.caId}/certificates`, {
      cardId: CARD_ID, sdAid: SD_AID, publicKey: { modulus: toHex(modulus), exponent: toHex(exponent) }, subjectId: '0102030405060708',
    }, 'k-10');
    assert.equal(r.statusCode, 201, r.body);
    const cert = verifyCertificate(fromHex(json(r).certificate as string), { id: fromHex(ca.caId), publicKey: rsaPublicKeyObject(fromHex(ca.publicKey)) });
    assert.equal(toHex(cert.subjectId), '0102030405060708');
    assert.equal(json(r).keyUsage, null);
    const before = await h.snapshot();
    const bad = await h.call('issuer', 'POST', `/v1/cas/${ca.caId}/certificates`, {
      cardId: CARD_ID, sdAid: SD_AID, publicKey: { modulus: toHex(modulus), exponent: toHex(exponent) }, keyUsage: 'signature',
    }, 'k-11');
    assert.equal(bad.statusCode, 400);
    assert.equal(json(bad).code, 'BAD_REQUEST');
    assert.deepEqual(await h.snapshot(), before);
  } finally {
    await h.close();
  }
});
