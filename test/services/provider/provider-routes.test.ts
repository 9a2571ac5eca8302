/**
 * The provider's HTTP routes in-process (app.inject), the issuer app behind its IssuerHttpClient: take-over of a
 * new SSD (the provider's keys open it, the initial keys the issuer handed over no longer do), forced rotation,
 * a campaign over 20 cards with progress, the key expiry sweep, the applet's service-instance life cycle, and
 * bad bodies refused with stable codes and no row changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { encodeCommand } from '../../../src/apdu/command.ts';
import { decodeResponse } from '../../../src/apdu/response.ts';
import { buildSelect } from '../../../src/gp/select.ts';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { probeKeySet } from '../../../src/services/sd-keys/operations.ts';
import { keySetFromHex } from '../../../src/services/sd-keys/key-set.ts';
import { providerKeySlot } from '../../../src/services/provider/key-slot.ts';
import { sweepExpiredKeys } from '../../../src/services/provider/campaigns.ts';
import { ECHO_APPLET } from '../../../src/services/provider/applet.ts';
import { PROVIDER_TABLES, SSD_AID, TEST_KEY, cardIdOf, makeHarness, nextKey, snapshot, type Harness } from '../issuer/harness.ts';

const CARD = cardIdOf(1);
const body = (over: Record<string, unknown> = {}) => ({ aid: SSD_AID, privileges: ['AuthorizedManagement'], route: { kind: 'ota' }, ...over });

function problem(r: { statusCode: number; headers: Record<string, unknown>; json(): unknown; body: string }, status: number, code: string) {
  assert.equal(r.statusCode, status, r.body);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  assert.equal((r.json() as { code: string }).code, code);
}

async function ready(cards = 1, concurrency?: number): Promise<Harness> {
  const h = await makeHarness(concurrency !== undefined ? { concurrency } : {});
  for (let i = 1; i <= cards; i++) await h.registerCard(cardIdOf(i));
  await h.registerProvider('bank', ['AuthorizedManagement'], 2);
  return h;
}

async function takeOver(h: Harness, cardId = CARD) {
  const r = await h.asProvider('POST', `/v1/cards/${cardId}/ssds`, body(), nextKey());
  assert.equal(r.statusCode, 201, r.body);
  return r.json();
}

const channel = (h: Harness, cardId = CARD) => new InProcessChannel(h.cards.get(cardId)!);
const current = (h: Harness, cardId = CARD) => providerKeySlot(h.providerDeps.db, h.providerDeps.sealer, cardId, SSD_AID).current();

test('take-over: 201 with KCVs; the provider keys open the SSD, the issuer keeps none, the initial keys are gone', async () => {
  const h = await ready();
  try {
    const handover = await h.asIssuer('bank', 'GET', `/v1/cards/${CARD}/ssds`);
    assert.deepEqual(handover.json(), { ssds: [] });
    const answer = await takeOver(h);
    assert.equal(answer.state, 'provider-managed');
    assert.equal(answer.kvn, 0x30);
    const own = await current(h);
    assert.deepEqual(answer.kcvs.kvn, own.kvn);
    assert.equal(await probeKeySet(channel(h), fromHex(SSD_AID), own), 'match');
    const issuerRows = await h.issuerDeps.db.query<{ keys: Uint8Array | null; state: string; kcvs: string }>('SELECT keys, state, kcvs FROM ssds');
    assert.equal(issuerRows[0]!.keys, null);
    assert.equal(issuerRows[0]!.state, 'provider-managed');
    // The initial key set (kvn 1) was replaced: nobody holding it can open the SSD; the ISD keys cannot either.
    const initialKcvs = JSON.parse(issuerRows[0]!.kcvs);
    assert.equal(initialKcvs.kvn, 1);
    assert.equal(await probeKeySet(channel(h), fromHex(SSD_AID), keySetFromHex(1, 3, TEST_KEY, TEST_KEY, TEST_KEY)), 'absent');
    assert.equal(await probeKeySet(channel(h), fromHex(SSD_AID), keySetFromHex(0x30, 3, TEST_KEY, TEST_KEY, TEST_KEY)), 'mismatch');
    const list = await h.asProvider('GET', `/v1/cards/${CARD}/ssds`);
    assert.equal(list.json().ssds.length, 1);
    assert.equal(list.json().ssds[0].kcvs.enc, answer.kcvs.enc);
    problem(await h.asProvider('GET', `/v1/cards/${CARD}/ssds/A0000001515350419999`), 404, 'NOT_FOUND');
    problem(await h.asProvider('POST', `/v1/cards/${CARD}/ssds`, body(), nextKey()), 409, 'CONFLICT');
    assert.equal((await new AuditLog(h.providerDeps.db).verify()).ok, true);
    const actions = (await new AuditLog(h.providerDeps.db).read(0, 50)).map((a) => a.action);
    assert.deepEqual(actions, ['ssd.requested', 'key.received', 'key.generated', 'key.replaced']);
  } finally {
    await h.close();
  }
});

test('a request the issuer refuses (AID outside the permission) is abandoned: issuer code answered, no SSD row', async () => {
  const h = await ready();
  try {
    const r = await h.asProvider('POST', `/v1/cards/${CARD}/ssds`, body({ aid: 'A0000009990001' }), nextKey());
    problem(r, 403, 'NOT_PERMITTED');
    assert.equal(r.json().remote, true);
    assert.deepEqual(await h.providerDeps.db.query('SELECT * FROM ssds'), []);
    assert.deepEqual(await h.providerDeps.flows.unfinished(), []);
    // After the refusal the same AID may be asked again (a fresh flow, fresh issuer idempotency keys).
    const again = await h.asProvider('POST', `/v1/cards/${CARD}/ssds`, body({ aid: 'A0000009990001' }), nextKey());
    problem(again, 403, 'NOT_PERMITTED');
  } finally {
    await h.close();
  }
});

test('bad bodies: 400 VALIDATION / 404 / 409 problem+json and no row changed', async () => {
  const h = await ready();
  try {
    await takeOver(h);
    const before = await snapshot(h.providerDeps.db, PROVIDER_TABLES);
    const cases: [string, string, unknown, number, string][] = [
      ['ssd: missing aid', `/v1/cards/${CARD}/ssds`, body({ aid: undefined }), 400, 'VALIDATION'],
      ['ssd: bad AID', `/v1/cards/${CARD}/ssds`, body({ aid: 'XYZ' }), 400, 'VALIDATION'],
      ['ssd: extra field', `/v1/cards/${CARD}/ssds`, body({ keys: TEST_KEY }), 400, 'VALIDATION'],
      ['ssd: bad privileges', `/v1/cards/${CARD}/ssds`, body({ privileges: 'all' }), 400, 'VALIDATION'],
      ['ssd: bad card id', `/v1/cards/12/ssds`, body(), 400, 'VALIDATION'],
      ['rotation: no reason', `/v1/cards/${CARD}/ssds/${SSD_AID}/rotation`, {}, 400, 'VALIDATION'],
      ['rotation: unknown SSD', `/v1/cards/${CARD}/ssds/A0000001515350410000/rotation`, { reason: 'forced' }, 404, 'NOT_FOUND'],
      ['campaign: no targets', '/v1/campaigns', { reason: 'forced', targets: [] }, 400, 'VALIDATION'],
      ['campaign: bad target', '/v1/campaigns', { reason: 'forced', targets: [{ cardId: CARD }] }, 400, 'VALIDATION'],
      ['campaign: unknown target', '/v1/campaigns', { reason: 'forced', targets: [{ cardId: CARD, aid: SSD_AID }, { cardId: cardIdOf(5), aid: SSD_AID }] }, 404, 'NOT_FOUND'],
      ['instance: unknown SSD', `/v1/cards/${CARD}/instances`, { sdAid: 'A0000001515350410000' }, 404, 'NOT_FOUND'],
      ['instance: bad counter', `/v1/cards/${CARD}/instances`, { sdAid: SSD_AID, counter: -1 }, 400, 'VALIDATION'],
      ['instance: same AID as SSD', `/v1/cards/${CARD}/instances`, { sdAid: SSD_AID, aid: SSD_AID }, 409, 'CONFLICT'],
      ['perso: unknown instance', `/v1/cards/${CARD}/instances/${ECHO_APPLET.instanceAid}/personalisation`, { records: [{ tag: 'DF01', value: '01' }] }, 404, 'NOT_FOUND'],
      ['perso: bad tag', `/v1/cards/${CARD}/instances/${ECHO_APPLET.instanceAid}/personalisation`, { records: [{ tag: 'XYZ', value: '01' }] }, 400, 'VALIDATION'],
      ['lifecycle: bad action', `/v1/cards/${CARD}/instances/${ECHO_APPLET.instanceAid}/lifecycle`, { action: 'explode' }, 400, 'VALIDATION'],
    ];
    for (const [name, url, b, status, code] of cases) {
      const r = await h.asProvider('POST', url, b, nextKey());
      assert.equal(r.statusCode, status, `${name}: ${r.body}`);
      assert.equal(r.json().code, code, name);
    }
    problem(await h.provider.app.inject({ method: 'GET', url: `/v1/cards/${CARD}/ssds`, headers: { 'x-test-peer': 'bank' } }), 403, 'FORBIDDEN');
    const after = await snapshot(h.providerDeps.db, PROVIDER_TABLES);
    assert.deepEqual({ ...after, platform_idempotency: [] }, { ...before, platform_idempotency: [] });
  } finally {
    await h.close();
  }
});

test('forced rotation of one SSD: new key version opens it, the old does not; idempotent replay', async () => {
  const h = await ready();
  try {
    await takeOver(h);
    const old = await current(h);
    const key = nextKey();
    const r = await h.asProvider('POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/rotation`, { reason: 'forced' }, key);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().kvn, 0x31);
    const now = await current(h);
    assert.equal(await probeKeySet(channel(h), fromHex(SSD_AID), now), 'match');
    assert.equal(await probeKeySet(channel(h), fromHex(SSD_AID), old), 'absent');
    const replay = await h.asProvider('POST', `/v1/cards/${CARD}/ssds/${SSD_AID}/rotation`, { reason: 'forced' }, key);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal((await current(h)).kvn, 0x31);
  } finally {
    await h.close();
  }
});

test('campaign over 20 cards: 202, progress counted, every card rotated; one card out of reach fails alone', async () => {
  const n = 20;
  const h = await ready(n, 4);
  try {
    for (let i = 1; i <= n; i++) await takeOver(h, cardIdOf(i));
    h.offline.add(cardIdOf(7));
    const targets = Array.from({ length: n }, (_, i) => ({ cardId: cardIdOf(i + 1), aid: SSD_AID }));
    const r = await h.asProvider('POST', '/v1/campaigns', { reason: 'forced', targets }, nextKey());
    assert.equal(r.statusCode, 202, r.body);
    const id = r.json().campaignId;
    assert.equal(r.headers.location, `/v1/campaigns/${id}`);
    const first = (await h.asProvider('GET', `/v1/campaigns/${id}`)).json();
    assert.equal(first.total, n);
    assert.ok(first.done + first.failed <= n);
    await h.provider.campaigns.settled(id);
    const end = (await h.asProvider('GET', `/v1/campaigns/${id}`)).json();
    assert.equal(end.status, 'done');
    assert.equal(end.done, n - 1);
    assert.equal(end.failed, 1);
    assert.deepEqual(end.failures.map((f: { cardId: string }) => f.cardId), [cardIdOf(7)]);
    for (let i = 1; i <= n; i++) {
      if (i === 7) continue;
      const keys = await current(h, cardIdOf(i));
      assert.equal(keys.kvn, 0x31, `card ${i}`);
      assert.equal(await probeKeySet(channel(h, cardIdOf(i)), fromHex(SSD_AID), keys), 'match');
    }
    assert.equal((await current(h, cardIdOf(7))).kvn, 0x30);
    const items = await h.providerDeps.db.query<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM campaign_items GROUP BY status ORDER BY status');
    assert.deepEqual(items.map((x) => [x.status, Number(x.n)]), [['done', n - 1], ['failed', 1]]);
    problem(await h.asProvider('GET', '/v1/campaigns/00000000-0000-0000-0000-000000000000'), 404, 'NOT_FOUND');
  } finally {
    await h.close();
  }
});

test('key expiry sweep: an expiry campaign of the SSDs whose keys expired', async () => {
  const h = await ready(2);
  try {
    await takeOver(h, cardIdOf(1));
    await takeOver(h, cardIdOf(2));
    assert.equal(await sweepExpiredKeys(h.providerDeps, h.provider.campaigns), undefined);
    await h.providerDeps.db.execute('UPDATE ssds SET keys_expire_at = $1 WHERE card_id = $2', ['2000-01-01T00:00:00.000Z', cardIdOf(2)]);
    const id = await sweepExpiredKeys(h.providerDeps, h.provider.campaigns);
    assert.ok(id);
    await h.provider.campaigns.settled(id);
    const c = await h.provider.campaigns.get(id);
    assert.deepEqual([c!.reason, c!.status, c!.total, c!.done, c!.failed], ['expiry', 'done', 1, 1, 0]);
    assert.equal((await current(h, cardIdOf(2))).kvn, 0x31);
    assert.equal((await current(h, cardIdOf(1))).kvn, 0x30);
  } finally {
    await h.close();
  }
});

test('service instance: install → personalise → activate → suspend ⇄ resume → terminate; illegal transitions 409', async () => {
  const h = await ready();
  try {
    await takeOver(h);
    const inst = `/v1/cards/${CARD}/instances/${ECHO_APPLET.instanceAid}`;
    const select = async () => decodeResponse(await channel(h).transmit(encodeCommand(buildSelect(fromHex(ECHO_APPLET.instanceAid))))).sw;
    problem(await h.asProvider('POST', `${inst}/lifecycle`, { action: 'activate' }), 404, 'NOT_FOUND');
    const installed = await h.asProvider('POST', `/v1/cards/${CARD}/instances`, { sdAid: SSD_AID, counter: 5 });
    assert.equal(installed.statusCode, 201, installed.body);
    assert.equal(installed.json().state, 'installed');
    assert.equal(await select(), 0x9000);
    problem(await h.asProvider('POST', `/v1/cards/${CARD}/instances`, { sdAid: SSD_AID }), 409, 'WRONG_STATE');
    problem(await h.asProvider('POST', `${inst}/lifecycle`, { action: 'activate' }), 409, 'WRONG_STATE');
    const perso = await h.asProvider('POST', `${inst}/personalisation`, { records: [{ tag: 'DF01', value: 'CAFE' }] });
    assert.equal(perso.json().state, 'personalised', perso.body);
    // The applet answers its personalisation data (GET DATA DF01), selected on the card.
    const ch = channel(h);
    await ch.transmit(encodeCommand(buildSelect(fromHex(ECHO_APPLET.instanceAid))));
    const data = decodeResponse(await ch.transmit(fromHex('80CADF0100')));
    assert.equal(toHex(data.data).toUpperCase(), 'DF0102CAFE');
    assert.equal((await h.asProvider('POST', `${inst}/lifecycle`, { action: 'activate' })).json().state, 'operational');
    problem(await h.asProvider('POST', `${inst}/lifecycle`, { action: 'resume' }), 409, 'WRONG_STATE');
    assert.equal((await h.asProvider('POST', `${inst}/lifecycle`, { action: 'suspend' })).json().state, 'suspended');
    assert.notEqual(await select(), 0x9000, 'a locked application cannot be selected');
    assert.equal((await h.asProvider('POST', `${inst}/lifecycle`, { action: 'resume' })).json().state, 'operational');
    assert.equal(await select(), 0x9000);
    assert.equal((await h.asProvider('POST', `${inst}/lifecycle`, { action: 'terminate' })).json().state, 'terminated');
    assert.equal(await select(), 0x6a82);
    problem(await h.asProvider('POST', `${inst}/lifecycle`, { action: 'suspend' }), 409, 'WRONG_STATE');
    const list = (await h.asProvider('GET', `/v1/cards/${CARD}/instances`)).json();
    assert.deepEqual(list.instances.map((i: { aid: string; state: string }) => [i.aid, i.state]), [[ECHO_APPLET.instanceAid, 'terminated']]);
    const actions = (await new AuditLog(h.providerDeps.db).read(0, 100)).map((a) => a.action).filter((a) => a.startsWith('instance.'));
    assert.deepEqual(actions, ['instance.install', 'instance.personalise', 'instance.activate', 'instance.suspend', 'instance.resume', 'instance.terminate']);
  } finally {
    await h.close();
  }
});
