/**
 * The services' SQL is portable: the SSD take-over, a forced rotation, a small campaign and the applet life
 * cycle run on SQLite and on PostgreSQL (the issuer and the provider each in their own schema).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../../src/core/bytes.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { probeKeySet } from '../../../src/services/sd-keys/operations.ts';
import { providerKeySlot } from '../../../src/services/provider/key-slot.ts';
import { sweepIssuerKeys } from '../../../src/services/issuer/schedule.ts';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { DATABASE_KINDS, REQUIRE_POSTGRES, createTestDatabase } from '../../platform/databases.ts';
import { SSD_AID, cardIdOf, makeHarness, nextKey } from '../issuer/harness.ts';

for (const kind of DATABASE_KINDS) {
  test(`take-over, rotation, campaign, instance life cycle, issuer-managed rotation [${kind}]`, { timeout: 120_000 }, async (t) => {
    const a = await createTestDatabase(kind);
    const b = await createTestDatabase(kind);
    for (const d of [a, b]) {
      if ('unavailable' in d) {
        if (REQUIRE_POSTGRES) throw new Error(d.unavailable);
        t.skip(d.unavailable);
        return;
      }
    }
    if ('unavailable' in a || 'unavailable' in b) return;
    const h = await makeHarness({ issuerDb: a.config, providerDb: b.config, concurrency: 2 });
    try {
      for (const n of [1, 2, 3]) await h.registerCard(cardIdOf(n));
      await h.registerProvider();
      for (const n of [1, 2]) {
        const r = await h.asProvider('POST', `/v1/cards/${cardIdOf(n)}/ssds`, { aid: SSD_AID, privileges: ['AuthorizedManagement'], route: { kind: 'ota' } }, nextKey());
        assert.equal(r.statusCode, 201, r.body);
      }
      const rot = await h.asProvider('POST', `/v1/cards/${cardIdOf(1)}/ssds/${SSD_AID}/rotation`, { reason: 'forced' }, nextKey());
      assert.equal(rot.json().kvn, 0x31);
      const c = await h.asProvider('POST', '/v1/campaigns', { reason: 'forced', targets: [1, 2].map((n) => ({ cardId: cardIdOf(n), aid: SSD_AID })) }, nextKey());
      assert.equal(c.statusCode, 202);
      await h.provider.campaigns.settled(c.json().campaignId);
      const view = (await h.asProvider('GET', `/v1/campaigns/${c.json().campaignId}`)).json();
      assert.deepEqual([view.status, view.done, view.failed], ['done', 2, 0]);
      for (const [n, kvn] of [[1, 0x32], [2, 0x31]] as const) {
        const keys = await providerKeySlot(h.providerDeps.db, h.providerDeps.sealer, cardIdOf(n), SSD_AID).current();
        assert.equal(keys.kvn, kvn);
        assert.equal(await probeKeySet(new InProcessChannel(h.cards.get(cardIdOf(n))!), fromHex(SSD_AID), keys), 'match');
      }
      const inst = await h.asProvider('POST', `/v1/cards/${cardIdOf(1)}/instances`, { sdAid: SSD_AID });
      assert.equal(inst.statusCode, 201, inst.body);
      const im = await h.asIssuer('bank', 'POST', '/v1/ssd-requests', { cardId: cardIdOf(3), aid: SSD_AID, privileges: [], route: { kind: 'ota' }, managedBy: 'issuer' }, nextKey());
      assert.equal(im.json().step, 'done');
      const sweep = await sweepIssuerKeys(h.issuerDeps, { now: new Date(Date.now() + 400 * 86_400_000) });
      assert.deepEqual(sweep, { stamped: 1, due: 1, rotated: 1, failed: [] });
      for (const db of [h.issuerDeps.db, h.providerDeps.db]) assert.equal((await new AuditLog(db).verify()).ok, true);
    } finally {
      await h.close();
      await a.dispose();
      await b.dispose();
    }
  });
}
