/**
 * The issuer's HTTP routes in-process (app.inject): every route, authorisation by peer identity, bad bodies
 * refused with stable problem codes and NO row changed, the SSD request → hand-over → acknowledgement, a card
 * out of reach (503 CARD_UNREACHABLE with the flow id; the retry resumes), lock/unlock/delete through the ISD,
 * issuer-managed SSDs and their forced and scheduled key rotation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { listRegistry } from '../../../src/gp/client.ts';
import { openSd, probeKeySet } from '../../../src/services/sd-keys/operations.ts';
import { keySetFromHex } from '../../../src/services/sd-keys/key-set.ts';
import { issuerKeySlot } from '../../../src/services/issuer/key-slot.ts';
import { sweepIssuerKeys } from '../../../src/services/issuer/schedule.ts';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { ISSUER_TABLES, ISD_AID, PROVIDER_ID, SSD_AID, TEST_KEY, cardIdOf, makeHarness, nextKey, snapshot, type Harness } from './harness.ts';

const CARD = cardIdOf(1);
const request = (over: Record<string, unknown> = {}) => ({ cardId: CARD, aid: SSD_AID, privileges: ['AuthorizedManagement'], route: { kind: 'ota' }, ...over });

async function ready(): Promise<Harness> {
  const h = await makeHarness();
  await h.registerCard(CARD);
  await h.registerProvider();
  return h;
}

function problem(r: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string) {
  assert.equal(r.statusCode, status, JSON.stringify(r.json()));
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  assert.equal((r.json() as { code: string }).code, code);
}

async function ssdLifeCycle(h: Harness, aid: string): Promise<number | undefined> {
  const s = await openSd(new InProcessChannel(h.cards.get(CARD)!), fromHex(ISD_AID), keySetFromHex(0x30, 3, TEST_KEY, TEST_KEY, TEST_KEY));
  const reg = await listRegistry(s);
  return reg.applications.find((e) => toHex(e.aid).toUpperCase() === aid)?.lifeCycle;
}

test('operator: register a card (KCVs only in the answer), read it; duplicates 409; providers; 401/403 by peer', async () => {
  const h = await makeHarness();
  try {
    await h.registerCard(CARD);
    const got = await h.asIssuer('operator', 'GET', `/v1/cards/${CARD}`);
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), {
      cardId: CARD,
      iin: '0001',
      cin: '0102030405060708',
      eid: null,
      profile: 'scp03',
      isdAid: ISD_AID,
      isdKcvs: { kvn: 0x30, enc: '504A77', mac: '504A77', dek: '504A77' }, // AES-ECB(K, 01…01)[0..3] (GPC SCP03 §6.2.1)
      ssds: [],
    });
    assert.ok(!got.body.includes(TEST_KEY));
    const rows = await h.issuerDeps.db.query<{ isd_keys: Uint8Array }>('SELECT isd_keys FROM cards');
    assert.ok(!toHex(rows[0]!.isd_keys).toUpperCase().includes(TEST_KEY), 'ISD keys are sealed at rest');
    const before = await snapshot(h.issuerDeps.db, ISSUER_TABLES);
    const dup = await h.asIssuer('operator', 'POST', '/v1/cards', {
      cardId: CARD, iin: '0001', cin: '01', profile: 'scp03', isdAid: ISD_AID, isdKeys: { kvn: 1, enc: TEST_KEY, mac: TEST_KEY, dek: TEST_KEY },
    });
    problem(dup, 409, 'ALREADY_EXISTS');
    problem(await h.asIssuer('operator', 'GET', `/v1/cards/${cardIdOf(9)}`), 404, 'NOT_FOUND');
    problem(await h.asIssuer('bank', 'GET', `/v1/cards/${CARD}`), 403, 'FORBIDDEN');
    problem(await h.issuer.inject({ method: 'GET', url: `/v1/cards/${CARD}` }), 401, 'UNAUTHENTICATED');
    problem(await h.asIssuer('operator', 'POST', '/v1/providers', { providerId: 'operator', name: 'x', aidPrefix: 'A0', privileges: [], maxSsds: 1 }), 409, 'RESERVED_ID');
    assert.deepEqual(await snapshot(h.issuerDeps.db, ISSUER_TABLES), before);
    await h.registerProvider();
    const p = await h.asIssuer('operator', 'GET', `/v1/providers/${PROVIDER_ID}`);
    assert.deepEqual(p.json(), { providerId: PROVIDER_ID, name: 'A Bank', aidPrefix: 'A000000151535041', privileges: ['AuthorizedManagement'], maxSsds: 2 });
    problem(await h.asIssuer('operator', 'POST', '/v1/providers', { providerId: PROVIDER_ID, name: 'x', aidPrefix: 'A0', privileges: [], maxSsds: 1 }), 409, 'ALREADY_EXISTS');
  } finally {
    await h.close();
  }
});

test('bad bodies and parameters: 400 VALIDATION (or 404/403/400 idempotency) and not one row changed', async () => {
  const h = await ready();
  try {
    const before = await snapshot(h.issuerDeps.db, ISSUER_TABLES);
    const keys = { kvn: 1, enc: TEST_KEY, mac: TEST_KEY, dek: TEST_KEY };
    const card = { cardId: cardIdOf(2), iin: '0001', cin: '01', profile: 'scp03', isdAid: ISD_AID, isdKeys: keys };
    const cases: [string, string, string, unknown, number, string][] = [
      ['card: missing isdKeys', 'operator', '/v1/cards', { ...card, isdKeys: undefined }, 400, 'VALIDATION'],
      ['card: extra field', 'operator', '/v1/cards', { ...card, extra: 1 }, 400, 'VALIDATION'],
      ['card: bad hex key', 'operator', '/v1/cards', { ...card, isdKeys: { ...keys, enc: TEST_KEY.slice(0, 30) + 'ZZ' } }, 400, 'VALIDATION'],
      ['card: short key', 'operator', '/v1/cards', { ...card, isdKeys: { ...keys, mac: '4041' } }, 400, 'VALIDATION'],
      ['card: bad AID', 'operator', '/v1/cards', { ...card, isdAid: 'A000' }, 400, 'VALIDATION'],
      ['card: kvn 0', 'operator', '/v1/cards', { ...card, isdKeys: { ...keys, kvn: 0 } }, 400, 'VALIDATION'],
      ['card: bad ICCID', 'operator', '/v1/cards', { ...card, cardId: '89XX' }, 400, 'VALIDATION'],
      ['card: bad profile', 'operator', '/v1/cards', { ...card, profile: 'scp11' }, 400, 'VALIDATION'],
      ['card: extra key field', 'operator', '/v1/cards', { ...card, isdKeys: { ...keys, kek: TEST_KEY } }, 400, 'VALIDATION'],
      ['provider: unknown privilege', 'operator', '/v1/providers', { providerId: 'p2', name: 'x', aidPrefix: 'A0', privileges: ['Root'], maxSsds: 1 }, 400, 'VALIDATION'],
      ['provider: maxSsds 0', 'operator', '/v1/providers', { providerId: 'p2', name: 'x', aidPrefix: 'A0', privileges: [], maxSsds: 0 }, 400, 'VALIDATION'],
      ['ssd: bad AID', 'bank', '/v1/ssd-requests', request({ aid: 'A0000001' }), 400, 'VALIDATION'],
      ['ssd: odd hex AID', 'bank', '/v1/ssd-requests', request({ aid: 'A00000015153504153441' }), 400, 'VALIDATION'],
      ['ssd: missing route', 'bank', '/v1/ssd-requests', request({ route: undefined }), 400, 'VALIDATION'],
      ['ssd: bad route', 'bank', '/v1/ssd-requests', request({ route: { kind: 'carrier-pigeon' } }), 400, 'VALIDATION'],
      ['ssd: terminal without id', 'bank', '/v1/ssd-requests', request({ route: { kind: 'terminal' } }), 400, 'VALIDATION'],
      ['ssd: extra field', 'bank', '/v1/ssd-requests', request({ keys: TEST_KEY }), 400, 'VALIDATION'],
      ['ssd: unknown card', 'bank', '/v1/ssd-requests', request({ cardId: cardIdOf(7) }), 404, 'NOT_FOUND'],
      ['ssd: AID outside the prefix', 'bank', '/v1/ssd-requests', request({ aid: 'A0000009990001' }), 403, 'NOT_PERMITTED'],
      ['ssd: privilege not granted', 'bank', '/v1/ssd-requests', request({ privileges: ['GlobalDelete'] }), 403, 'NOT_PERMITTED'],
      ['ssd: operator is not a provider', 'operator', '/v1/ssd-requests', request(), 403, 'FORBIDDEN'],
      ['ssd: unknown provider', 'mallory', '/v1/ssd-requests', request(), 403, 'FORBIDDEN'],
      // issue 8 §4: the caller is checked before the body — a caller without rights learns nothing of the schema
      ['card: invalid body from a provider', 'bank', '/v1/cards', { ...card, isdKeys: undefined, extra: 1 }, 403, 'FORBIDDEN'],
      ['card: not JSON from a stranger', 'mallory', '/v1/cards', '{"cardId":', 403, 'FORBIDDEN'],
      ['provider: invalid body from a provider', 'bank', '/v1/providers', { providerId: 7 }, 403, 'FORBIDDEN'],
      ['ssd: invalid body from the operator', 'operator', '/v1/ssd-requests', { aid: 1 }, 403, 'FORBIDDEN'],
      ['ssd: invalid body from a stranger', 'mallory', '/v1/ssd-requests', [], 403, 'FORBIDDEN'],
      ['rotation: invalid body from a stranger', 'mallory', `/v1/cards/${CARD}/ssds/${SSD_AID}/rotation`, { reason: 7 }, 403, 'FORBIDDEN'],
      ['handover: nothing waiting', 'bank', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover`, {}, 404, 'NOT_FOUND'],
      ['handover: body not empty', 'bank', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover`, { x: 1 }, 400, 'VALIDATION'],
      ['rotation: bad reason', 'operator', `/v1/cards/${CARD}/ssds/${SSD_AID}/rotation`, { reason: 'whim' }, 400, 'VALIDATION'],
      ['lock: unknown SSD', 'operator', `/v1/cards/${CARD}/ssds/${SSD_AID}/lock`, {}, 404, 'NOT_FOUND'],
    ];
    for (const [name, peer, url, body, status, code] of cases) {
      const r = await h.asIssuer(peer, 'POST', url, body, nextKey());
      assert.equal(r.statusCode, status, `${name}: ${r.body}`);
      assert.equal(r.json().code, code, name);
      assert.match(String(r.headers['content-type']), /^application\/problem\+json/, name);
    }
    problem(await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request()), 400, 'IDEMPOTENCY_KEY_REQUIRED');
    problem(await h.asIssuer('bank', 'GET', `/v1/cards/8988ZZ/ssds`), 400, 'VALIDATION');
    problem(await h.asIssuer('bank', 'GET', `/v1/cards/${cardIdOf(7)}/ssds`), 404, 'NOT_FOUND');
    const after = await snapshot(h.issuerDeps.db, ISSUER_TABLES);
    // Refused requests leave every table as it was (idempotency records of 4xx answers aside: they are kept for replay).
    assert.deepEqual({ ...after, platform_idempotency: [] }, { ...before, platform_idempotency: [] });
    assert.equal(after.audit_log!.length, before.audit_log!.length);
  } finally {
    await h.close();
  }
});

test('SSD request → hand-over keys → acknowledgement; idempotent replay; the issuer forgets the keys', async () => {
  const h = await ready();
  try {
    const key = nextKey();
    const r = await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request(), key);
    assert.equal(r.statusCode, 200, r.body);
    const answer = r.json();
    assert.equal(answer.step, 'handover');
    assert.equal(answer.aid, SSD_AID);
    const replay = await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request(), key);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(replay.json(), answer);
    problem(await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request({ privileges: [] }), key), 422, 'IDEMPOTENCY_KEY_REUSED');

    const ssds = (await h.asIssuer('bank', 'GET', `/v1/cards/${CARD}/ssds`)).json().ssds;
    assert.equal(ssds.length, 1);
    assert.equal(ssds[0].state, 'extradited');
    assert.equal(ssds[0].keysHeld, true);

    const other = await h.asIssuer('operator', 'POST', '/v1/providers', { providerId: 'shop', name: 'Shop', aidPrefix: 'A0000009', privileges: [], maxSsds: 1 });
    assert.equal(other.statusCode, 201);
    problem(await h.asIssuer('shop', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover`, {}), 404, 'NOT_FOUND');
    assert.deepEqual((await h.asIssuer('shop', 'GET', `/v1/cards/${CARD}/ssds`)).json(), { ssds: [] });

    const keys = await h.asIssuer('bank', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover`, {});
    assert.equal(keys.statusCode, 200);
    const k = keys.json();
    assert.deepEqual(Object.keys(k).sort(), ['dek', 'enc', 'kvn', 'mac', 'scp']);
    assert.equal(k.kvn, 1);
    assert.equal(k.scp, 3);
    const set = keySetFromHex(k.kvn, 3, k.enc, k.mac, k.dek);
    assert.equal(await probeKeySet(new InProcessChannel(h.cards.get(CARD)!), fromHex(SSD_AID), set), 'match');

    const ack = await h.asIssuer('bank', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover-ack`, {}, nextKey());
    assert.equal(ack.statusCode, 204);
    const row = await h.issuerDeps.db.query<{ keys: Uint8Array | null; state: string }>('SELECT keys, state FROM ssds');
    assert.deepEqual(row, [{ keys: null, state: 'provider-managed' }]);
    problem(await h.asIssuer('bank', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover`, {}), 409, 'WRONG_STATE');

    const audit = await new AuditLog(h.issuerDeps.db).read(0, 100);
    assert.deepEqual(
      audit.map((a) => a.action),
      ['card.registered', 'provider.registered', 'ssd.requested', 'key.generated', 'sd.installed', 'key.delivered', 'sd.extradited', 'provider.registered', 'key.handed-over', 'key.forgotten'],
    );
    assert.ok(!JSON.stringify(audit.map((a) => a.details)).includes(k.enc));
    assert.equal((await new AuditLog(h.issuerDeps.db).verify()).ok, true);
  } finally {
    await h.close();
  }
});

test('card out of reach: 503 CARD_UNREACHABLE with the flow id; the retry with the same key resumes the flow', async () => {
  const h = await ready();
  try {
    h.offline.add(CARD);
    const key = nextKey();
    const r = await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request(), key);
    problem(r, 503, 'CARD_UNREACHABLE');
    const flowId = r.json().flowId;
    assert.match(flowId, /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['retry-after'], '5');
    h.offline.delete(CARD);
    const again = await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request(), key);
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().flowId, flowId);
    assert.equal(again.json().step, 'handover');
  } finally {
    await h.close();
  }
});

test('lock, unlock and delete an SSD through the ISD (SET STATUS, DELETE), audited; wrong states 409', async () => {
  const h = await ready();
  try {
    assert.equal((await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request(), nextKey())).statusCode, 200);
    await h.asIssuer('bank', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover`, {});
    await h.asIssuer('bank', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover-ack`, {}, nextKey());
    const before = await ssdLifeCycle(h, SSD_AID);
    const lock = await h.asIssuer('operator', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/lock`, {});
    assert.equal(lock.statusCode, 200, lock.body);
    assert.equal(lock.json().state, 'locked');
    assert.equal(await ssdLifeCycle(h, SSD_AID), before! | 0x80);
    problem(await h.asIssuer('operator', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/lock`, {}), 409, 'WRONG_STATE');
    const unlock = await h.asIssuer('bank', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/unlock`, {});
    assert.equal(unlock.json().state, 'provider-managed');
    assert.equal(await ssdLifeCycle(h, SSD_AID), before);
    const del = await h.asIssuer('operator', 'DELETE', `/v1/cards/${CARD}/ssds/${SSD_AID}`);
    assert.equal(del.statusCode, 204);
    assert.equal(await ssdLifeCycle(h, SSD_AID), undefined);
    assert.deepEqual(await h.issuerDeps.db.query('SELECT * FROM ssds'), []);
    problem(await h.asIssuer('operator', 'DELETE', `/v1/cards/${CARD}/ssds/${SSD_AID}`), 404, 'NOT_FOUND');
    const actions = (await new AuditLog(h.issuerDeps.db).read(0, 100)).map((a) => a.action);
    assert.deepEqual(actions.slice(-3), ['sd.locked', 'sd.unlocked', 'sd.deleted']);
  } finally {
    await h.close();
  }
});

test('issuer-managed SSD: keys stay with the issuer; forced rotation (route) and expiry rotation (schedule)', async () => {
  const h = await ready();
  try {
    const r = await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request({ managedBy: 'issuer' }), nextKey());
    assert.equal(r.json().step, 'done');
    problem(await h.asIssuer('bank', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover`, {}), 409, 'WRONG_STATE');
    const slot = () => issuerKeySlot(h.issuerDeps.db, h.issuerDeps.sealer, CARD, SSD_AID);
    const card = () => new InProcessChannel(h.cards.get(CARD)!);
    const initial = await slot().current();
    assert.equal(await probeKeySet(card(), fromHex(SSD_AID), initial), 'match');

    const rot = await h.asIssuer('operator', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/rotation`, { reason: 'forced' }, nextKey());
    assert.equal(rot.statusCode, 200, rot.body);
    assert.equal(rot.json().kvn, 2);
    const second = await slot().current();
    assert.equal(second.kvn, 2);
    assert.equal(await probeKeySet(card(), fromHex(SSD_AID), second), 'match');
    assert.equal(await probeKeySet(card(), fromHex(SSD_AID), initial), 'absent');
    const row = (await h.issuerDeps.db.query<{ pending: Uint8Array | null; keys_expire_at: string }>('SELECT pending, keys_expire_at FROM ssds'))[0]!;
    assert.equal(row.pending, null);
    assert.ok(Date.parse(row.keys_expire_at) > Date.now() + 300 * 86_400_000);

    // Nothing due now; a year and a day later, the sweep rotates it.
    assert.deepEqual(await sweepIssuerKeys(h.issuerDeps), { stamped: 0, due: 0, rotated: 0, failed: [] });
    const later = await sweepIssuerKeys(h.issuerDeps, { now: new Date(Date.now() + 366 * 86_400_000) });
    assert.deepEqual(later, { stamped: 0, due: 1, rotated: 1, failed: [] });
    const third = await slot().current();
    assert.equal(third.kvn, 3);
    assert.equal(await probeKeySet(card(), fromHex(SSD_AID), third), 'match');
    const actions = (await new AuditLog(h.issuerDeps.db).read(0, 100)).map((a) => a.action);
    assert.equal(actions.filter((a) => a === 'key.rotated').length, 2);
  } finally {
    await h.close();
  }
});

test('rotation of a provider-managed SSD at the issuer: 403 NOT_PERMITTED (the issuer has no keys for it)', async () => {
  const h = await ready();
  try {
    await h.asIssuer('bank', 'POST', '/v1/ssd-requests', request(), nextKey());
    await h.asIssuer('bank', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/handover-ack`, {}, nextKey());
    problem(await h.asIssuer('operator', 'POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/rotation`, { reason: 'forced' }, nextKey()), 403, 'NOT_PERMITTED');
  } finally {
    await h.close();
  }
});
