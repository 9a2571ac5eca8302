/**
 * The read routes an operator (and the console) uses instead of a service's database: the issuer's
 * GET /v1/cards/{cardId}/ssds/{aid} and GET /v1/flows/{flowId} on the issuer and the provider — authorised like
 * every route (a provider sees only its own; anything else is 404, as if it did not exist).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROVIDER_ID, SSD_AID, cardIdOf, makeHarness, nextKey, type Harness } from './harness.ts';

const CARD = cardIdOf(7);
const request = { cardId: CARD, aid: SSD_AID, privileges: ['AuthorizedManagement'], route: { kind: 'ota' } };

async function ready(): Promise<Harness> {
  const h = await makeHarness();
  await h.registerCard(CARD);
  await h.registerProvider();
  const other = await h.asIssuer('operator', 'POST', '/v1/providers', { providerId: 'shop', name: 'Shop', aidPrefix: 'A0000009', privileges: [], maxSsds: 1 });
  assert.equal(other.statusCode, 201);
  return h;
}

test('issuer GET one SSD: state, key version, KCVs, keysHeld; another provider gets 404; unknown 404', async () => {
  const h = await ready();
  try {
    const r = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/ssd-requests', request, nextKey());
    assert.equal(r.statusCode, 200, r.body);
    const list = (await h.asIssuer(PROVIDER_ID, 'GET', `/v1/cards/${CARD}/ssds`)).json().ssds;
    for (const peer of [PROVIDER_ID, 'operator']) {
      const one = await h.asIssuer(peer, 'GET', `/v1/cards/${CARD}/ssds/${SSD_AID.toLowerCase()}`);
      assert.equal(one.statusCode, 200, one.body);
      assert.deepEqual(one.json(), list[0]);
      assert.equal(one.json().state, 'extradited');
      assert.equal(one.json().kvn, 1);
      assert.equal(one.json().keysHeld, true);
      assert.match(one.json().kcvs.enc, /^[0-9A-F]{6}$/);
    }
    const foreign = await h.asIssuer('shop', 'GET', `/v1/cards/${CARD}/ssds/${SSD_AID}`);
    assert.equal(foreign.statusCode, 404);
    assert.equal(foreign.json().code, 'NOT_FOUND');
    assert.equal((await h.asIssuer('operator', 'GET', `/v1/cards/${CARD}/ssds/A0000001515350410099`)).statusCode, 404);
    assert.equal((await h.asIssuer('nobody', 'GET', `/v1/cards/${CARD}/ssds/${SSD_AID}`)).statusCode, 403);
  } finally {
    await h.close();
  }
});

test('GET /v1/flows/{id}: step, status, attempts, last error; the issuer shows a provider only its own flows', async () => {
  const h = await ready();
  try {
    h.offline.add(CARD);
    const r = await h.asIssuer(PROVIDER_ID, 'POST', '/v1/ssd-requests', request, nextKey());
    assert.equal(r.statusCode, 503);
    const flowId = r.json().flowId as string;
    const seen = await h.asIssuer(PROVIDER_ID, 'GET', `/v1/flows/${flowId}`);
    assert.equal(seen.statusCode, 200, seen.body);
    const f = seen.json();
    assert.deepEqual(Object.keys(f).sort(), ['attempts', 'createdAt', 'flowId', 'kind', 'lastError', 'status', 'step', 'subject', 'updatedAt']);
    assert.equal(f.flowId, flowId);
    assert.equal(f.subject, `card:${CARD}/sd:${SSD_AID}`);
    assert.equal(f.status, 'running');
    assert.equal(f.attempts, 1);
    assert.match(f.lastError, /CONNECTION_FAILED|not reachable/);
    assert.deepEqual((await h.asIssuer('operator', 'GET', `/v1/flows/${flowId}`)).json(), f);
    assert.equal((await h.asIssuer('shop', 'GET', `/v1/flows/${flowId}`)).statusCode, 404);
    assert.equal((await h.asIssuer('operator', 'GET', '/v1/flows/00000000-0000-4000-8000-000000000000')).statusCode, 404);
    assert.equal((await h.asIssuer('operator', 'GET', '/v1/flows/bad%20id')).statusCode, 400);

    h.offline.delete(CARD);
    const take = await h.asProvider('POST', `/v1/cards/${CARD}/ssds`, { aid: 'A0000001515350410002', privileges: ['AuthorizedManagement'], route: { kind: 'ota' } }, nextKey());
    assert.equal(take.statusCode, 201, take.body);
    const pf = await h.asProvider('GET', `/v1/flows/${take.json().flowId}`);
    assert.equal(pf.statusCode, 200, pf.body);
    assert.equal(pf.json().status, 'done');
    assert.equal(pf.json().lastError, null);
  } finally {
    await h.close();
  }
});
