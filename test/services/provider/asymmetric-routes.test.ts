/**
 * The provider's asymmetric SSD route in-process (app.inject; docs/architecture.md §4 flow 4):
 *   POST /v1/cards/{cardId}/asymmetric-ssds   ICCID read over OTA, the issuer creates the SSD with the provider
 *                                             CA's trust point, the provider re-keys, certifies, installs → 201
 * The issuer and the CA are called as functions (test/services/asymmetric/world.ts); HTTP between the platforms
 * is tested elsewhere. Exact answer, Idempotency-Key replay, bad bodies refused with stable codes and no row
 * changed, a provider without an SCP10 CA, a card answering another ICCID, an AID the card already has.
 */
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import assert from 'node:assert/strict';
import { fromHex } from '../../../src/core/bytes.ts';
import { createCard } from '../../../src/card/index.ts';
import { createSecurityDomain } from '../../../src/gp/client.ts';
import { IdempotencyStore } from '../../../src/platform/idempotency/store.ts';
import { idempotencyMigrations } from '../../../src/platform/idempotency/migration.ts';
import { migrate } from '../../../src/platform/storage/migrate.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import type { CardAccess, FlowDeps } from '../../../src/services/common/deps.ts';
import { ECHO_APPLET } from '../../../src/services/provider/applet.ts';
import { buildProviderApp } from '../../../src/services/provider/app.ts';
import type { AsymmetricPorts } from '../../../src/services/provider/asymmetric/flow.ts';
import type { ScopedIssuerClient } from '../../../src/services/provider/routes/ssds.ts';
import { openSd } from '../../../src/services/sd-keys/operations.ts';
import { keySetFromHex } from '../../../src/services/sd-keys/key-set.ts';
import { headerPeer, PEER_HEADER, nextKey, snapshot } from '../issuer/harness.ts';
import { CARD_ID, ISD_AID, ISD_KEY, SSD_AID, makeAsymmetricWorld, type AsymmetricWorld } from '../asymmetric/world.ts';

const TABLES = ['ssds', 'asymmetric_sds', 'flows', 'service_instances', 'audit_log', 'platform_idempotency'] as const;
const OTHER_CARD = '8988211000000000002F';
const url = (cardId = CARD_ID) => `/v1/cards/${cardId}/asymmetric-ssds`;

/** The symmetric issuer client is not used by the asymmetric route. */
const noIssuer = new Proxy({}, {
  get: () => () => {
    throw new Error('the symmetric issuer client is not used here');
  },
}) as unknown as ScopedIssuerClient;

interface Setup {
  readonly w: AsymmetricWorld;
  post(body: unknown, key?: string, cardId?: string, peer?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

async function setup(options: { ports?: (w: AsymmetricWorld) => AsymmetricPorts; cardAccess?: CardAccess } = {}): Promise<Setup> {
  const w = await makeAsymmetricWorld({ scp10Algorithm: 'RSA-1024' });
  await migrate(w.provider.db, idempotencyMigrations, { component: 'idempotency' });
  const deps: FlowDeps = options.cardAccess ? { ...w.provider, cardAccess: options.cardAccess } : w.provider;
  const { app } = await buildProviderApp({
    deps,
    idempotency: new IdempotencyStore(w.provider.db),
    issuer: noIssuer,
    identify: headerPeer,
    logger: false,
    asymmetric: options.ports ? options.ports(w) : w.ports,
  });
  return {
    w,
    post: (body, key = nextKey(), cardId = CARD_ID, peer = 'operator') =>
      app.inject({ method: 'POST', url: url(cardId), headers: { [PEER_HEADER]: peer, ...(key ? { 'idempotency-key': key } : {}) }, payload: body as object }),
    async close() {
      await app.close();
      await w.close();
    },
  };
}

function problem(r: { statusCode: number; headers: Record<string, unknown>; json(): unknown; body: string }, status: number, code: string) {
  assert.equal(r.statusCode, status, r.body);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  assert.equal((r.json() as { code: string }).code, code, r.body);
}

const unchanged = async (s: Setup, before: Record<string, unknown[]>, what: string) => {
  const after = await snapshot(s.w.provider.db, TABLES);
  assert.deepEqual({ ...after, platform_idempotency: [] }, { ...before, platform_idempotency: [] }, what);
};

for (const [variant, modulusBits, kid] of [['11a', undefined, 0x11], ['11c', undefined, 0x15], ['10', 1024, 0x11]] as const) {
  test(`${variant}${modulusBits ? ` RSA-${modulusBits}` : ''}: 201 with the exact answer; rows; replay with the same key`, async () => {
    const s = await setup();
    try {
      const key = nextKey();
      const body = { aid: SSD_AID.toLowerCase(), variant, ...(modulusBits ? { modulusBits } : {}) };
      const r = await s.post(body, key);
      assert.equal(r.statusCode, 201, r.body);
      const a = r.json();
      const caId = s.w.ports.cas[variant === '10' ? 'scp10' : 'scp11']!;
      const [flow] = await s.w.provider.db.query<{ id: string; kind: string; step: string; status: string }>('SELECT id, kind, step, status FROM flows');
      const [row] = await s.w.provider.db.query<{ serial: string; ca_id: string; variant: string; sd_kvn: number; sd_kid: number }>(
        'SELECT serial, ca_id, variant, sd_kvn, sd_kid FROM asymmetric_sds',
      );
      assert.match(row!.serial, /^[0-9A-Fa-f]+$/);
      assert.deepEqual(a, {
        cardId: CARD_ID,
        aid: SSD_AID,
        variant,
        state: 'provider-managed',
        kvn: 0x12,
        kid,
        caId,
        serial: row!.serial,
        instanceAid: ECHO_APPLET.instanceAid,
        flowId: flow!.id,
      });
      assert.deepEqual({ ...flow }, { id: a.flowId, kind: 'provider.asymmetric-ssd', step: 'done', status: 'done' });
      assert.deepEqual({ ...row, sd_kvn: Number(row!.sd_kvn), sd_kid: Number(row!.sd_kid) }, { serial: a.serial, ca_id: caId, variant, sd_kvn: 0x12, sd_kid: kid });
      const ssds = await s.w.provider.db.query<{ card_id: string; aid: string; state: string; kvn: number; route: string }>('SELECT card_id, aid, state, kvn, route FROM ssds');
      assert.deepEqual(ssds.map((x) => [x.card_id, x.aid, x.state, Number(x.kvn), JSON.parse(x.route)]), [[CARD_ID, SSD_AID, 'provider-managed', 0x12, { kind: 'ota' }]]);
      const instances = await s.w.provider.db.query<{ aid: string; sd_aid: string; state: string }>('SELECT aid, sd_aid, state FROM service_instances');
      assert.deepEqual(instances.map((x) => ({ ...x })), [{ aid: ECHO_APPLET.instanceAid, sd_aid: SSD_AID, state: 'installed' }]);
      // What the provider asked the issuer: defaults for privileges and route, the CA's trust point.
      assert.equal(s.w.issuerRequests.length, 1);
      const asked = s.w.issuerRequests[0] as Record<string, unknown>;
      assert.deepEqual({ ...asked, trustPoint: undefined }, {
        cardId: CARD_ID,
        aid: SSD_AID,
        privileges: ['AuthorizedManagement'],
        route: { kind: 'ota' },
        variant,
        trustPoint: undefined,
        ...(modulusBits ? { modulusBits } : {}),
      });
      assert.deepEqual(asked.trustPoint, await s.w.ports.ca.trustPoint(caId));
      const issuerRows = await s.w.issuer.db.query<{ state: string; keys: Uint8Array | null }>('SELECT state, keys FROM ssds');
      assert.deepEqual(issuerRows.map((x) => [x.state, x.keys]), [['provider-managed', null]]);

      const replay = await s.post(body, key);
      assert.equal(replay.statusCode, 201);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.equal(replay.body, r.body);
      problem(await s.post({ ...body, instanceAid: 'A000000151535041EC' }, key), 422, 'IDEMPOTENCY_KEY_REUSED');
      // A new request for the SSD once done: 409 CONFLICT, nothing asked of the issuer.
      const before = await snapshot(s.w.provider.db, TABLES);
      problem(await s.post(body), 409, 'CONFLICT');
      await unchanged(s, before, 'second request');
      assert.equal(s.w.issuerRequests.length, 1);
    } finally {
      await s.close();
    }
  });
}

test('bad bodies: 400 with exact codes, problem+json; not one row changed, nothing sent to the card or the issuer', async () => {
  const s = await setup();
  try {
    const before = await snapshot(s.w.provider.db, TABLES);
    const cards = s.w.cut.count;
    const cases: [string, unknown, number, string][] = [
      ['variant 11b', { aid: SSD_AID, variant: '11b' }, 400, 'VALIDATION'],
      ['missing variant', { aid: SSD_AID }, 400, 'VALIDATION'],
      ['missing AID', { variant: '11a' }, 400, 'VALIDATION'],
      ['modulusBits with 11a', { aid: SSD_AID, variant: '11a', modulusBits: 1024 }, 400, 'BAD_REQUEST'],
      ['modulusBits with 11c', { aid: SSD_AID, variant: '11c', modulusBits: 2048 }, 400, 'BAD_REQUEST'],
      ['modulusBits 3072', { aid: SSD_AID, variant: '10', modulusBits: 3072 }, 400, 'VALIDATION'],
      ['unknown field', { aid: SSD_AID, variant: '11a', trustPoint: {} }, 400, 'VALIDATION'],
      ['bad AID (4 bytes)', { aid: 'A0000001', variant: '11a' }, 400, 'VALIDATION'],
      ['bad AID (not hex)', { aid: 'A00000015153504153ZZ', variant: '11a' }, 400, 'VALIDATION'],
      ['bad instance AID', { aid: SSD_AID, variant: '11a', instanceAid: 'F0' }, 400, 'VALIDATION'],
      ['bad route', { aid: SSD_AID, variant: '11a', route: { kind: 'carrier-pigeon' } }, 400, 'VALIDATION'],
      ['unknown privilege', { aid: SSD_AID, variant: '11a', privileges: ['Root'] }, 400, 'VALIDATION'],
    ];
    for (const [name, body, status, code] of cases) {
      const r = await s.post(body);
      assert.equal(r.statusCode, status, `${name}: ${r.body}`);
      assert.equal(r.json().code, code, `${name}: ${r.body}`);
      assert.match(String(r.headers['content-type']), /^application\/problem\+json/, name);
    }
    problem(await s.post({ aid: SSD_AID, variant: '11a' }, nextKey(), '8988ZZ'), 400, 'VALIDATION');
    problem(await s.post({ aid: SSD_AID, variant: '11a' }, ''), 400, 'IDEMPOTENCY_KEY_REQUIRED');
    problem(await s.post({ aid: SSD_AID, variant: '11a' }, nextKey(), CARD_ID, 'bank'), 403, 'FORBIDDEN');
    await unchanged(s, before, 'bad bodies');
    assert.equal(s.w.cut.count, cards, 'no APDU sent');
    assert.deepEqual(s.w.issuerRequests, []);
  } finally {
    await s.close();
  }
});

test('a provider without an SCP10 CA asked for variant 10: 403 NOT_PERMITTED, nothing changed; SCP11 still served', async () => {
  const s = await setup({ ports: (w) => ({ ...w.ports, cas: { scp11: w.ports.cas.scp11! } }) });
  try {
    const before = await snapshot(s.w.provider.db, TABLES);
    problem(await s.post({ aid: SSD_AID, variant: '10' }), 403, 'NOT_PERMITTED');
    problem(await s.post({ aid: SSD_AID, variant: '10', modulusBits: 1024 }), 403, 'NOT_PERMITTED');
    await unchanged(s, before, 'no SCP10 CA');
    assert.equal(s.w.cut.count, 0, 'no APDU sent');
    assert.deepEqual(s.w.issuerRequests, []);
    assert.equal((await s.post({ aid: SSD_AID, variant: '11a' })).statusCode, 201);
  } finally {
    await s.close();
  }
});

test('the card reached for a card id answers another ICCID: 409 CONFLICT, the flow failed, nothing asked of the issuer', async () => {
  const s = await setup();
  try {
    // The world's route reaches the card whose ICCID is CARD_ID whatever card id is asked for.
    const r = await s.post({ aid: SSD_AID, variant: '11a' }, nextKey(), OTHER_CARD);
    problem(r, 409, 'CONFLICT');
    const body = r.json();
    assert.equal(body.step, 'probe');
    assert.match(body.detail, new RegExp(`the card answers ICCID ${CARD_ID}, not ${OTHER_CARD}`));
    const flows = await s.w.provider.db.query<{ id: string; step: string; status: string; error: string }>('SELECT id, step, status, error FROM flows');
    assert.deepEqual(flows.map((f) => ({ ...f })), [{ id: body.flowId, step: 'probe', status: 'failed', error: `the card answers ICCID ${CARD_ID}, not ${OTHER_CARD}` }]);
    assert.deepEqual(s.w.issuerRequests, []);
    assert.deepEqual(await s.w.issuer.db.query('SELECT * FROM ssds'), []);
    assert.equal(s.w.cut.count, 3, 'one script: SELECT ISD, GET DATA 5A, SELECT SSD');
  } finally {
    await s.close();
  }
});

test('after an ICCID mismatch (nothing done on any card) the card id is not blocked: the request, routed right, succeeds', async () => {
  // A mis-routed card first (another phone), then the right one.
  const wrong = new InProcessChannel(createCard({ profile: 'scp03', ssdInitialKeys: null, iccid: fromHex('8988211000000000009F') }));
  let route: 'wrong' | 'right' = 'wrong';
  let world: AsymmetricWorld | undefined;
  const s = await setup({
    cardAccess: async (cardId, r) => (route === 'wrong' ? wrong : world!.provider.cardAccess(cardId, r)),
  });
  world = s.w;
  try {
    problem(await s.post({ aid: SSD_AID, variant: '11a' }), 409, 'CONFLICT');
    route = 'right';
    const again = await s.post({ aid: SSD_AID, variant: '11a' });
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.json().state, 'provider-managed');
  } finally {
    await s.close();
  }
});

test('an SSD AID the card already has but the provider does not know: 409 CONFLICT at the probe, nothing asked of the issuer', async () => {
  const s = await setup();
  try {
    // Someone (not the provider) created an SD with that AID on the card through the ISD.
    const isd = await openSd(await s.w.issuer.cardAccess(CARD_ID, { kind: 'ota' }), fromHex(ISD_AID), keySetFromHex(0x30, 3, ISD_KEY, ISD_KEY, ISD_KEY));
    await createSecurityDomain(isd, { aid: fromHex(SSD_AID), privileges: [] });
    await isd.close();
    const r = await s.post({ aid: SSD_AID, variant: '11a' });
    problem(r, 409, 'CONFLICT');
    assert.equal(r.json().step, 'probe');
    assert.match(r.json().detail, new RegExp(`the card already has an application ${SSD_AID} the provider does not know`));
    const flows = await s.w.provider.db.query<{ step: string; status: string }>('SELECT step, status FROM flows');
    assert.deepEqual(flows.map((f) => ({ ...f })), [{ step: 'probe', status: 'failed' }]);
    assert.deepEqual(s.w.issuerRequests, []);
    assert.deepEqual(await s.w.issuer.db.query('SELECT * FROM ssds'), []);
  } finally {
    await s.close();
  }
});
