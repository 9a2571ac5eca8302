/**
 * POST /v1/cas/{caId}/oce-certificates (in-process, app.inject) on SQLite and PostgreSQL: the CA owner only,
 * Idempotency-Key, 400 problem+json with nothing written for bad bodies, 201 with the OCE view; OCE
 * certificates are read and revoked through /v1/certificates/{serial} (`kind: 'oce'`) and listed in
 * /v1/cas/{caId}/revoked; SD certificate views say `kind: 'sd'`.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { parseCertificate, verifyChain } from '../../../src/scp/scp11/certificate.ts';
import { generateKeyPair } from '../../../src/crypto/index.ts';
import { verifyCertificate } from '../../../src/scp/scp10/certificate.ts';
import { rsaPublicNumbers } from '../../../src/crypto/index.ts';
import { rsaPublicKeyObject } from '../../../src/services/ca/keys.ts';
import { forEachDatabase } from '../../platform/databases.ts';
import { CARD_ID, NOW, SD_AID, makeCaHarness } from './harness.ts';

const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;
const OCE_VIEW_KEYS = ['caId', 'certificate', 'certificateSha256', 'issuedAt', 'keyUsage', 'kind', 'notAfter', 'notBefore', 'publicKeyFingerprint', 'reason', 'revokedAt', 'scheme', 'serial', 'subjectId'];

forEachDatabase('OCE certificate route: owner only, idempotent, strict body; read, revoke and list by serial', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = json(await h.call('operator', 'POST', '/v1/cas', { owner: 'bank', kind: 'scp11' }, 'ca-1')) as { caId: string; publicKey: string };
    const otherCa = json(await h.call('operator', 'POST', '/v1/cas', { owner: 'telco', kind: 'scp11' }, 'ca-2')) as { caId: string };
    const oce = generateKeyPair('P-256');
    const body = { publicKey: { point: toHex(oce.publicKey) } };
    const url = `/v1/cas/${ca.caId}/oce-certificates`;

    const before = await h.snapshot();
    const foreign = await h.call('telco', 'POST', url, body, 'o-1');
    assert.equal(foreign.statusCode, 403);
    assert.match(String(foreign.headers['content-type']), /^application\/problem\+json/);
    assert.equal(json(foreign).code, 'NOT_OWNER');
    assert.equal((await h.call('operator', 'POST', url, body, 'o-1')).statusCode, 403);
    assert.equal((await h.call(null, 'POST', url, body, 'o-1')).statusCode, 401);
    assert.equal((await h.call('bank', 'POST', `/v1/cas/${otherCa.caId}/oce-certificates`, body, 'o-1')).statusCode, 403);
    assert.equal(json(await h.call('bank', 'POST', '/v1/cas/FFFFFFFFFFFFFFFF/oce-certificates', body, 'o-1')).code, 'UNKNOWN_CA');
    assert.equal(json(await h.call('bank', 'POST', url, body)).code, 'IDEMPOTENCY_KEY_REQUIRED');

    const bad: [unknown, string][] = [
      [{}, 'VALIDATION'],
      [{ publicKey: {} }, 'VALIDATION'],
      [{ publicKey: { point: 'zz' } }, 'VALIDATION'],
      [{ publicKey: { point: toHex(oce.publicKey), modulus: '00' } }, 'VALIDATION'],
      [{ ...body, keyUsage: 'keyAgreement' }, 'VALIDATION'], // fixed '00 80'
      [{ ...body, cardId: CARD_ID }, 'VALIDATION'],
      [{ ...body, subjectId: '' }, 'VALIDATION'],
      [{ ...body, subjectId: '00'.repeat(128) }, 'VALIDATION'],
      [{ ...body, validityDays: 0 }, 'VALIDATION'],
      [{ ...body, validityDays: 1.5 }, 'VALIDATION'],
      [{ ...body, scheme: 'x931' }, 'VALIDATION'],
      [{ ...body, scheme: 'pkcs1' }, 'BAD_REQUEST'], // SCP10 only
      [{ publicKey: { point: '04' + '00'.repeat(64) } }, 'BAD_PUBLIC_KEY'], // not on the curve
      [{ publicKey: { point: toHex(generateKeyPair('P-384').publicKey) } }, 'BAD_PUBLIC_KEY'],
      [{ publicKey: { modulus: 'C1'.repeat(128), exponent: '010001' } }, 'BAD_PUBLIC_KEY'], // RSA to an SCP11 CA
    ];
    let n = 0;
    for (const [b, code] of bad) {
      const r = await h.call('bank', 'POST', url, b, `bad-${n++}`);
      assert.equal(r.statusCode, 400, JSON.stringify(b));
      assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
      assert.equal(json(r).code, code, r.body);
    }
    assert.deepEqual(await h.snapshot(), before);

    const issued = await h.call('bank', 'POST', url, { ...body, subjectId: '0102030405', validityDays: 30 }, 'o-1');
    assert.equal(issued.statusCode, 201, issued.body);
    const view = json(issued) as { kind: string; serial: string; certificate: string; subjectId: string; keyUsage: string; scheme: null; notAfter: string };
    assert.deepEqual(Object.keys(view).sort(), OCE_VIEW_KEYS);
    assert.deepEqual([view.kind, view.subjectId, view.keyUsage, view.scheme, view.notAfter], ['oce', '0102030405', 'keyAgreement', null, '2026-04-14T10:00:00.000Z']);
    assert.equal(issued.headers.location, `/v1/certificates/${view.serial}`);
    const cert = parseCertificate(fromHex(view.certificate));
    verifyChain([cert], { curve: 'P-256', point: fromHex(ca.publicKey) }, { today: '20260315' });
    assert.deepEqual([toHex(cert.subjectId), toHex(cert.keyUsage), toHex(cert.serialNumber)], ['0102030405', '0080', view.serial]);
    const replay = await h.call('bank', 'POST', url, { ...body, subjectId: '0102030405', validityDays: 30 }, 'o-1');
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, issued.body);
    assert.equal((await db.query('SELECT serial FROM ca_oce_certificates')).length, 1);

    // Read by serial: the owner or the operator; the view says kind 'oce'. SD certificates say kind 'sd'.
    const read = await h.call('bank', 'GET', `/v1/certificates/${view.serial}`);
    assert.equal(read.statusCode, 200);
    assert.equal(read.body, issued.body);
    assert.equal((await h.call('operator', 'GET', `/v1/certificates/${view.serial}`)).statusCode, 200);
    assert.equal((await h.call('telco', 'GET', `/v1/certificates/${view.serial}`)).statusCode, 403);
    const sd = json(await h.call('bank', 'POST', `/v1/cas/${ca.caId}/certificates`, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: toHex(generateKeyPair('P-256').publicKey) } }, 's-1'));
    assert.equal(sd.kind, 'sd');
    assert.equal(json(await h.call('bank', 'GET', `/v1/certificates/${sd.serial as string}`)).kind, 'sd');

    // Revocation through the same route; the list shows it; again → 409.
    assert.equal((await h.call('telco', 'POST', `/v1/certificates/${view.serial}/revocation`, { reason: 'keyCompromise' })).statusCode, 403);
    const rv = await h.call('bank', 'POST', `/v1/certificates/${view.serial}/revocation`, { reason: 'keyCompromise' });
    assert.equal(rv.statusCode, 200, rv.body);
    assert.deepEqual(json(rv), { ...view, revokedAt: NOW.toISOString(), reason: 'keyCompromise' });
    assert.equal(json(await h.call('operator', 'POST', `/v1/certificates/${view.serial}/revocation`, { reason: 'superseded' })).code, 'ALREADY_REVOKED');
    const list = json(await h.call('telco', 'GET', `/v1/cas/${ca.caId}/revoked`)) as { revoked: { serial: string; reason: string }[] };
    assert.deepEqual(list.revoked.map((e) => [e.serial, e.reason]), [[view.serial, 'keyCompromise']]);

    // The OpenAPI document describes the route.
    const doc = json(await h.call(null, 'GET', '/openapi.json')) as { paths: Record<string, unknown> };
    assert.ok('/v1/cas/{caId}/oce-certificates' in doc.paths);

    const actions = (await h.auditLog.read()).map((r) => [r.action, (r.details as { kind?: string }).kind ?? null]);
    assert.deepEqual(actions, [['ca.create', 'scp11'], ['ca.create', 'scp11'], ['ca.certificate.issue', 'oce'], ['ca.certificate.issue', null], ['ca.certificate.revoke', 'oce']]);
  } finally {
    await h.close();
  }
});

forEachDatabase('OCE certificate route: an SCP10 CA issues CERT.OCE.AUT (8-byte OCE id) to its owner', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = json(await h.call('operator', 'POST', '/v1/cas', { owner: 'bank', kind: 'scp10', algorithm: 'RSA-1024' }, 'ca-3')) as { caId: string; publicKey: string };
    const { modulus, exponent } = rsaPublicNumbers(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
    const publicKey = { modulus: toHex(modulus), exponent: toHex(exponent) };
    const r = await h.call('bank', 'POST', `/v1/cas/${ca.caId}/oce-certificates`, { publicKey, subjectId: '0A0B0C0D0E0F1011', scheme: 'iso9796-2' }, 'o-10');
    assert.equal(r.statusCode, 201, r.body);
    const view = json(r) as { certificate: string; keyUsage: null; scheme: string; subjectId: string };
    const cert = verifyCertificate(fromHex(view.certificate), { id: fromHex(ca.caId), publicKey: rsaPublicKeyObject(fromHex(ca.publicKey)) });
    assert.deepEqual([toHex(cert.subjectId), cert.scheme, view.keyUsage, view.scheme, view.subjectId], ['0A0B0C0D0E0F1011', 'iso9796-2', null, 'iso9796-2', '0A0B0C0D0E0F1011']);
    const before = await h.snapshot();
    for (const [b, code] of [
      [{ publicKey, subjectId: '0A0B0C0D0E0F10' }, 'BAD_REQUEST'], // 7 bytes
      [{ publicKey: { point: toHex(generateKeyPair('P-256').publicKey) } }, 'BAD_PUBLIC_KEY'],
      [{ publicKey, subjectId: '0A0B0C0D0E0F1011', scheme: 'iso9796-2' }, 'DUPLICATE_CERTIFICATE'], // the same bytes again, under another Idempotency-Key
    ] as const) {
      const bad = await h.call('bank', 'POST', `/v1/cas/${ca.caId}/oce-certificates`, b, `o-bad-${code}`);
      assert.equal(bad.statusCode, code === 'DUPLICATE_CERTIFICATE' ? 409 : 400, bad.body);
      assert.equal(json(bad).code, code);
    }
    assert.deepEqual(await h.snapshot(), before);
  } finally {
    await h.close();
  }
});
