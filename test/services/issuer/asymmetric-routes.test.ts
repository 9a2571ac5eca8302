/**
 * The issuer's asymmetric SSD routes in-process (app.inject; docs/architecture.md §4 flow 4):
 *   POST /v1/asymmetric-ssd-requests             a provider gets an SSD whose key pair the card generates (SCP11a,
 *                                                SCP11c, SCP10) and the SD information (public data only)
 *   GET  /v1/cards/{cardId}/ssds/{aid}/sd-info   the same SD information, for its provider only
 * Exact answer shapes, Idempotency-Key replays, and every refused request answered with a stable problem code and
 * not one row changed (ssds, asymmetric_sds, flows, audit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { createCard } from '../../../src/card/index.ts';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { ISSUER_TABLES, PROVIDER_ID, SSD_AID, cardIdOf, makeHarness, nextKey, snapshot, type Harness } from './harness.ts';

const CARD = cardIdOf(1);
const TABLES = [...ISSUER_TABLES, 'asymmetric_sds'] as const;

const b64hex = (s: string) => Buffer.from(s, 'base64url').toString('hex').toUpperCase();

/** A provider CA's public key as a trust point: uncompressed EC point, or RSA modulus and exponent (hex). */
function ecTrustPoint(curve: 'P-256' | 'P-384' = 'P-256') {
  const jwk = generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' });
  return { curve, point: `04${b64hex(jwk.x!)}${b64hex(jwk.y!)}` };
}
function rsaTrustPoint(bits: 1024 | 2048 = 1024) {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' });
  return { modulus: b64hex(jwk.n!), exponent: b64hex(jwk.e!) };
}
const EC_TP = ecTrustPoint();
const RSA_TP = rsaTrustPoint(1024);

const request = (over: Record<string, unknown> = {}) => ({
  cardId: CARD,
  aid: SSD_AID,
  privileges: ['AuthorizedManagement'],
  route: { kind: 'ota' },
  variant: '11a',
  trustPoint: EC_TP,
  ...over,
});

function problem(r: { statusCode: number; headers: Record<string, unknown>; json(): unknown; body: string }, status: number, code: string) {
  assert.equal(r.statusCode, status, r.body);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  assert.equal((r.json() as { code: string }).code, code, r.body);
}

async function ready(): Promise<Harness> {
  const h = await makeHarness();
  // The phone card of the flow: SCP03 ISD, no SSD keys preset, its ICCID the card id.
  h.cards.set(CARD, createCard({ profile: 'scp03', ssdInitialKeys: null, iccid: fromHex(CARD) }));
  await h.registerCard(CARD);
  await h.registerProvider();
  return h;
}

const sdInfoUrl = (aid = SSD_AID, cardId = CARD) => `/v1/cards/${cardId}/ssds/${aid}/sd-info`;

test('SCP11a: 200 with the SD information (P-256 key generated on card, KVN 11 KID 11; trust point 10/10); replays; sd-info', async () => {
  const h = await ready();
  try {
    const key = nextKey();
    const r = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request(), key);
    assert.equal(r.statusCode, 200, r.body);
    const a = r.json();
    assert.deepEqual(Object.keys(a).sort(), ['aid', 'cardId', 'flowId', 'publicKey', 'sdKey', 'trustPoint', 'variant']);
    assert.equal(a.cardId, CARD);
    assert.equal(a.aid, SSD_AID);
    assert.equal(a.variant, '11a');
    assert.deepEqual(a.sdKey, { kvn: 0x11, kid: 0x11 });
    assert.deepEqual(a.trustPoint, { kvn: 0x10, kid: 0x10 });
    assert.deepEqual(Object.keys(a.publicKey), ['point']);
    assert.match(a.publicKey.point, /^04[0-9A-F]{128}$/, 'uncompressed P-256 point, 65 bytes');
    assert.match(a.flowId, /^[0-9a-f-]{36}$/);

    // The same key and body: the stored answer, byte for byte; the same key and another body: 422.
    const replay = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request(), key);
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, r.body);
    problem(await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request({ variant: '11c' }), key), 422, 'IDEMPOTENCY_KEY_REUSED');
    problem(await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request()), 400, 'IDEMPOTENCY_KEY_REQUIRED');

    // Asked again with a new key once done: the same SD information (no new flow, nothing sent to the card).
    const flowsBefore = await h.issuerDeps.db.query('SELECT * FROM flows');
    const again = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request(), nextKey());
    assert.equal(again.statusCode, 200, again.body);
    const { flowId, ...info } = a;
    assert.deepEqual(again.json(), info);
    assert.deepEqual(await h.issuerDeps.db.query('SELECT * FROM flows'), flowsBefore);

    const got = await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl());
    assert.equal(got.statusCode, 200, got.body);
    assert.deepEqual(got.json(), info);
    assert.deepEqual((await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl(SSD_AID.toLowerCase(), CARD.toLowerCase()))).json(), info, 'hex case of the path ignored');

    // The issuer's rows: the SD information (public data), the SSD the provider's, no key held; the flow done.
    const rows = await h.issuerDeps.db.query<{ card_id: string; aid: string; variant: string; sd_kvn: number; sd_kid: number; public_key: string; trust_point: string }>('SELECT card_id, aid, variant, sd_kvn, sd_kid, public_key, trust_point FROM asymmetric_sds');
    assert.deepEqual(
      rows.map((x) => ({ ...x, sd_kvn: Number(x.sd_kvn), sd_kid: Number(x.sd_kid) })),
      [{ card_id: CARD, aid: SSD_AID, variant: '11a', sd_kvn: 0x11, sd_kid: 0x11, public_key: JSON.stringify(a.publicKey), trust_point: JSON.stringify(EC_TP) }],
    );
    const ssd = await h.issuerDeps.db.query<{ state: string; keys: Uint8Array | null; managed_by: string; scp: number; kvn: number }>(
      'SELECT state, keys, managed_by, scp, kvn FROM ssds',
    );
    assert.deepEqual(ssd.map((x) => [x.state, x.keys, x.managed_by, Number(x.scp), Number(x.kvn)]), [['provider-managed', null, 'provider', 3, 1]]);
    const flows = await h.issuerDeps.db.query<{ id: string; step: string; status: string }>('SELECT id, step, status FROM flows');
    assert.deepEqual(flows, [{ id: flowId, step: 'done', status: 'done' }]);
    const actions = (await new AuditLog(h.issuerDeps.db).read(0, 100)).map((x) => x.action);
    assert.deepEqual(actions, [
      'card.registered',
      'provider.registered',
      'ssd.requested',
      'key.generated',
      'sd.installed',
      'key.delivered',
      'sd.extradited',
      'key.generated-on-card',
      'key.imported',
      'key.forgotten',
    ]);
    assert.equal((await new AuditLog(h.issuerDeps.db).verify()).ok, true);
  } finally {
    await h.close();
  }
});

test('SCP11c with a P-384 trust point: KID 15, the key pair on the trust point\'s curve (97-byte point)', async () => {
  const h = await ready();
  try {
    const r = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request({ variant: '11c', trustPoint: ecTrustPoint('P-384') }), nextKey());
    assert.equal(r.statusCode, 200, r.body);
    const a = r.json();
    assert.equal(a.variant, '11c');
    assert.deepEqual(a.sdKey, { kvn: 0x11, kid: 0x15 });
    assert.deepEqual(a.trustPoint, { kvn: 0x10, kid: 0x10 });
    assert.match(a.publicKey.point, /^04[0-9A-F]{192}$/, 'uncompressed P-384 point, 97 bytes');
  } finally {
    await h.close();
  }
});

test('SCP10 RSA-1024: 200 with an RSA public key (128-byte modulus, exponent) KVN 11 KID 11; sd-info the same', async () => {
  const h = await ready();
  try {
    const key = nextKey();
    const body = request({ variant: '10', trustPoint: RSA_TP, modulusBits: 1024 });
    const r = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', body, key);
    assert.equal(r.statusCode, 200, r.body);
    const { flowId, ...info } = r.json();
    assert.match(flowId, /^[0-9a-f-]{36}$/);
    assert.equal(info.variant, '10');
    assert.deepEqual(info.sdKey, { kvn: 0x11, kid: 0x11 });
    assert.deepEqual(info.trustPoint, { kvn: 0x10, kid: 0x10 });
    assert.deepEqual(Object.keys(info.publicKey).sort(), ['exponent', 'modulus']);
    assert.match(info.publicKey.modulus, /^[89A-F][0-9A-F]{255}$/, '1024-bit modulus, top bit set');
    assert.match(info.publicKey.exponent, /^([0-9A-F]{2}){1,4}$/);
    assert.equal(fromHex(info.publicKey.exponent).at(-1)! & 1, 1, 'odd public exponent');
    const replay = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', body, key);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, r.body);
    const got = await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl());
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), info);
    const rows = await h.issuerDeps.db.query<{ variant: string; trust_point: string }>('SELECT variant, trust_point FROM asymmetric_sds');
    assert.deepEqual(rows, [{ variant: '10', trust_point: JSON.stringify(RSA_TP) }]);
  } finally {
    await h.close();
  }
});

test('sd-info: own SSD 200; another provider\'s 404 (its existence is not the caller\'s business); a symmetric SSD, unknown SSD or card 404; operator 403; no peer 401', async () => {
  const h = await ready();
  try {
    assert.equal((await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request(), nextKey())).statusCode, 200);
    // A symmetric SSD of the same provider (no SD information).
    const SYM = 'A0000001515350410001';
    const sym = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/ssd-requests', { cardId: CARD, aid: SYM, privileges: [], route: { kind: 'ota' } }, nextKey());
    assert.equal(sym.statusCode, 200, sym.body);
    const other = await h.asIssuer('operator', 'POST', '/v1/providers', { providerId: 'shop', name: 'Shop', aidPrefix: 'A0000009', privileges: [], maxSsds: 1 });
    assert.equal(other.statusCode, 201);
    const before = await snapshot(h.issuerDeps.db, TABLES);

    assert.equal((await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl())).statusCode, 200);
    problem(await h.asIssuer('shop', 'GET', sdInfoUrl()), 404, 'NOT_FOUND');
    problem(await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl(SYM)), 404, 'NOT_FOUND');
    problem(await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl('A0000001515350419999')), 404, 'NOT_FOUND');
    problem(await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl(SSD_AID, cardIdOf(7))), 404, 'NOT_FOUND');
    problem(await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl('A000'), CARD), 400, 'VALIDATION');
    problem(await h.asIssuer(PROVIDER_ID, 'GET', sdInfoUrl(SSD_AID, '8988ZZ')), 400, 'VALIDATION');
    problem(await h.asIssuer('operator', 'GET', sdInfoUrl()), 403, 'FORBIDDEN');
    problem(await h.asIssuer('mallory', 'GET', sdInfoUrl()), 403, 'FORBIDDEN');
    problem(await h.issuer.inject({ method: 'GET', url: sdInfoUrl() }), 401, 'UNAUTHENTICATED');
    assert.deepEqual(await snapshot(h.issuerDeps.db, TABLES), before);
  } finally {
    await h.close();
  }
});

test('bad requests: exact status and code, problem+json, and not one row changed (ssds, asymmetric_sds, flows, audit)', async () => {
  const h = await ready();
  try {
    const before = await snapshot(h.issuerDeps.db, TABLES);
    const ecOtherLength = { curve: 'P-256', point: `${EC_TP.point}${'00'.repeat(5)}` }; // 70 bytes: passes the schema
    const cases: [string, string, unknown, number, string][] = [
      ['missing variant', PROVIDER_ID, request({ variant: undefined }), 400, 'VALIDATION'],
      ['variant 11b', PROVIDER_ID, request({ variant: '11b' }), 400, 'VALIDATION'],
      ['missing trust point', PROVIDER_ID, request({ trustPoint: undefined }), 400, 'VALIDATION'],
      ['RSA trust point with 11a', PROVIDER_ID, request({ trustPoint: RSA_TP }), 400, 'BAD_REQUEST'],
      ['RSA trust point with 11c', PROVIDER_ID, request({ variant: '11c', trustPoint: RSA_TP }), 400, 'BAD_REQUEST'],
      ['EC trust point with 10', PROVIDER_ID, request({ variant: '10', trustPoint: EC_TP }), 400, 'BAD_REQUEST'],
      ['EC point of a wrong length for P-256', PROVIDER_ID, request({ trustPoint: ecOtherLength }), 400, 'BAD_REQUEST'],
      ['P-384 named, P-256 point given', PROVIDER_ID, request({ trustPoint: { curve: 'P-384', point: EC_TP.point } }), 400, 'BAD_REQUEST'],
      ['EC point not uncompressed (02…)', PROVIDER_ID, request({ trustPoint: { curve: 'P-256', point: `02${EC_TP.point.slice(2)}` } }), 400, 'BAD_REQUEST'],
      ['EC point shorter than any curve', PROVIDER_ID, request({ trustPoint: { curve: 'P-256', point: EC_TP.point.slice(0, 128) } }), 400, 'VALIDATION'],
      ['EC point not hex', PROVIDER_ID, request({ trustPoint: { curve: 'P-256', point: `${EC_TP.point.slice(0, 128)}ZZ` } }), 400, 'VALIDATION'],
      ['unknown curve', PROVIDER_ID, request({ trustPoint: { curve: 'P-521', point: EC_TP.point } }), 400, 'VALIDATION'],
      ['RSA modulus top bit clear', PROVIDER_ID, request({ variant: '10', trustPoint: { ...RSA_TP, modulus: `7F${RSA_TP.modulus.slice(2)}` } }), 400, 'BAD_REQUEST'],
      ['RSA modulus 1032 bits', PROVIDER_ID, request({ variant: '10', trustPoint: { ...RSA_TP, modulus: `${RSA_TP.modulus}01` } }), 400, 'BAD_REQUEST'],
      ['trust point with an extra field', PROVIDER_ID, request({ trustPoint: { ...EC_TP, kid: 16 } }), 400, 'VALIDATION'],
      ['modulusBits with 11a', PROVIDER_ID, request({ modulusBits: 1024 }), 400, 'BAD_REQUEST'],
      ['modulusBits with 11c', PROVIDER_ID, request({ variant: '11c', modulusBits: 2048 }), 400, 'BAD_REQUEST'],
      ['modulusBits 3072', PROVIDER_ID, request({ variant: '10', trustPoint: RSA_TP, modulusBits: 3072 }), 400, 'VALIDATION'],
      ['extra field', PROVIDER_ID, request({ managedBy: 'provider' }), 400, 'VALIDATION'],
      ['bad AID', PROVIDER_ID, request({ aid: 'A0000001' }), 400, 'VALIDATION'],
      ['AID outside the provider\'s prefix', PROVIDER_ID, request({ aid: 'A0000009990001' }), 403, 'NOT_PERMITTED'],
      ['privilege not granted', PROVIDER_ID, request({ privileges: ['GlobalDelete'] }), 403, 'NOT_PERMITTED'],
      ['unknown card', PROVIDER_ID, request({ cardId: cardIdOf(7) }), 404, 'NOT_FOUND'],
      ['operator is not a provider', 'operator', request(), 403, 'FORBIDDEN'],
      ['unknown peer', 'mallory', request(), 403, 'FORBIDDEN'],
    ];
    for (const [name, peer, body, status, code] of cases) {
      const r = await h.asIssuer(peer, 'POST', '/v1/asymmetric-ssd-requests', body, nextKey());
      assert.equal(r.statusCode, status, `${name}: ${r.body}`);
      assert.equal(r.json().code, code, `${name}: ${r.body}`);
      assert.match(String(r.headers['content-type']), /^application\/problem\+json/, name);
    }
    problem(await h.issuer.inject({ method: 'POST', url: '/v1/asymmetric-ssd-requests', headers: { 'idempotency-key': nextKey() }, payload: request() }), 401, 'UNAUTHENTICATED');
    const after = await snapshot(h.issuerDeps.db, TABLES);
    // Refused requests leave every table as it was (idempotency records of 4xx answers aside: kept for replay).
    assert.deepEqual({ ...after, platform_idempotency: [] }, { ...before, platform_idempotency: [] });
    assert.deepEqual(after.asymmetric_sds, []);
    assert.deepEqual(after.ssds, []);
    assert.deepEqual(after.flows, []);
    // The card was not touched: the whole happy path still runs afterwards.
    const ok = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request(), nextKey());
    assert.equal(ok.statusCode, 200, ok.body);
  } finally {
    await h.close();
  }
});

test('the same AID already asked for as a symmetric SSD: 409 CONFLICT, nothing changed', async () => {
  const h = await ready();
  try {
    const sym = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/ssd-requests', { cardId: CARD, aid: SSD_AID, privileges: [], route: { kind: 'ota' } }, nextKey());
    assert.equal(sym.statusCode, 200, sym.body);
    const before = await snapshot(h.issuerDeps.db, TABLES);
    problem(await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request(), nextKey()), 409, 'CONFLICT');
    const after = await snapshot(h.issuerDeps.db, TABLES);
    assert.deepEqual({ ...after, platform_idempotency: [] }, { ...before, platform_idempotency: [] });
  } finally {
    await h.close();
  }
});

test('trust point not a point of the curve: 400 BAD_REQUEST before the card is touched, nothing changed', async () => {
  const h = await ready();
  try {
    const before = await snapshot(h.issuerDeps.db, TABLES);
    // 04 || x || y with y flipped in its last bit: the right length and form, but not on P-256.
    const last = fromHex(EC_TP.point.slice(-2))[0]! ^ 0x01;
    const offCurve = { curve: 'P-256', point: `${EC_TP.point.slice(0, -2)}${toHex(Uint8Array.of(last)).toUpperCase()}` };
    problem(await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request({ trustPoint: offCurve }), nextKey()), 400, 'BAD_REQUEST');
    const after = await snapshot(h.issuerDeps.db, TABLES);
    assert.deepEqual({ ...after, platform_idempotency: [] }, { ...before, platform_idempotency: [] });
  } finally {
    await h.close();
  }
});

test('RSA trust point with an even or zero public exponent: 400 BAD_REQUEST, nothing changed', async () => {
  const h = await ready();
  try {
    const before = await snapshot(h.issuerDeps.db, TABLES);
    for (const exponent of ['02', '00', '010000']) {
      const r = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request({ variant: '10', trustPoint: { ...RSA_TP, exponent }, modulusBits: 1024 }), nextKey());
      assert.equal(r.statusCode, 400, `exponent ${exponent}: ${r.body}`);
      assert.equal(r.json().code, 'BAD_REQUEST', `exponent ${exponent}`);
    }
    const after = await snapshot(h.issuerDeps.db, TABLES);
    assert.deepEqual({ ...after, platform_idempotency: [] }, { ...before, platform_idempotency: [] });
  } finally {
    await h.close();
  }
});

test('card out of reach: 503 CARD_UNREACHABLE with the flow id; the same request resumes it; other parameters 409 CONFLICT', async () => {
  const h = await ready();
  try {
    h.offline.add(CARD);
    const key = nextKey();
    const r = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request(), key);
    problem(r, 503, 'CARD_UNREACHABLE');
    const flowId = r.json().flowId;
    assert.match(flowId, /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['retry-after'], '5');
    h.offline.delete(CARD);
    // While the flow is open, a request for the same SSD with another variant or trust point must not resume it
    // silently with the first parameters (the answer would be SD information for another key).
    const before = await snapshot(h.issuerDeps.db, TABLES);
    problem(await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request({ variant: '11c' }), nextKey()), 409, 'CONFLICT');
    problem(await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request({ trustPoint: ecTrustPoint() }), nextKey()), 409, 'CONFLICT');
    const after = await snapshot(h.issuerDeps.db, TABLES);
    assert.deepEqual({ ...after, platform_idempotency: [] }, { ...before, platform_idempotency: [] });
    const again = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/asymmetric-ssd-requests', request(), key);
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().flowId, flowId);
    assert.equal(again.json().variant, '11a');
  } finally {
    await h.close();
  }
});
