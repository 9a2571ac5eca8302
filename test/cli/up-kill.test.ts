/**
 * Issue 8 §3 at the scale of the platform: `opentsm up` (services and phones in one process) is killed with
 * SIGKILL at seeded random moments while the provider and the issuer rotate SSD keys over the air. After every
 * kill the platform starts again on the same data folder (flows resume at start) and must still know every
 * card's keys: each SSD is rotated once more through the API — which opens the SSD with the key version the
 * platform holds — and the card is asked (INITIALIZE UPDATE) that it now holds exactly the version the
 * platform reports. A phone that saved its card late (after it had answered) fails this: the card keeps key
 * versions the platform has already replaced ("holds neither key version …").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROVIDER_AID_PREFIX } from '../../src/runtime/index.ts';
import { readDescriptor, remoteContext, type ScenarioContext } from '../../src/cli/scenarios/context.ts';
import { keyVersionOnCard } from '../../src/cli/scenarios/card-probe.ts';
import { up } from './up-process.ts';
import { seededRandom } from '../support/seeded-random.ts';

const KILLS = Number(process.env.OPENTSM_PLATFORM_KILLS ?? 5);

interface Target {
  cardId: string;
  aid: string;
  by: 'provider' | 'issuer';
}

interface SsdView {
  kvn: number;
  scp: string;
  rotating?: boolean;
}

/** A request that may meet a card still busy with a resumed flow: retried as a client would, same key. */
async function rotate(ctx: ScenarioContext, t: Target, key: string): Promise<string> {
  const client = t.by === 'provider' ? ctx.operator.provider : ctx.operator.issuer;
  for (let attempt = 0; ; attempt++) {
    const r = await client.call('POST', `/v1/cards/${t.cardId}/ssds/${t.aid}/rotation`, { body: { reason: 'forced' }, idempotencyKey: key }).then(
      (x) => String(x.status),
      (e: { status?: number; code?: string; message?: string }) => `${e.status ?? 0} ${e.code ?? ''} ${e.message ?? ''}`,
    );
    if (r === '200' || attempt >= 30 || !/^(503|409) /.test(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ssdOf(ctx: ScenarioContext, t: Target): Promise<SsdView> {
  const client = t.by === 'provider' ? ctx.operator.provider : ctx.operator.issuer;
  return (await client.get<SsdView>(`/v1/cards/${t.cardId}/ssds/${t.aid}`)).body;
}

test('SIGKILL of opentsm up during rotations: after each restart every SSD opens with the keys the platform holds', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-kill-'));
  const random = seededRandom(0x8a3);
  try {
    let platform = await up(dir, 2);
    let ctx = await remoteContext(dir, await readDescriptor(dir));
    const targets: Target[] = [];
    for (const [n, phone] of ctx.phones.entries()) {
      const provider = { cardId: phone.iccid, aid: `${PROVIDER_AID_PREFIX}${(0x2000 + n).toString(16).toUpperCase()}`, by: 'provider' as const };
      const r = await ctx.operator.provider.post<{ state: string }>(`/v1/cards/${provider.cardId}/ssds`, {
        body: { aid: provider.aid, privileges: ['AuthorizedManagement'], route: { kind: 'ota' } },
        idempotencyKey: `kill-ssd-${provider.cardId}`,
      });
      assert.equal(r.body.state, 'provider-managed');
      const issuer = { cardId: phone.iccid, aid: `${PROVIDER_AID_PREFIX}${(0x3000 + n).toString(16).toUpperCase()}`, by: 'issuer' as const };
      const q = await ctx.asProvider.issuer.post<{ step: string }>('/v1/ssd-requests', {
        body: { cardId: issuer.cardId, aid: issuer.aid, privileges: [], route: { kind: 'ota' }, managedBy: 'issuer' },
        idempotencyKey: `kill-issuer-ssd-${issuer.cardId}`,
      });
      assert.equal(q.body.step, 'done');
      targets.push(provider, issuer);
    }
    let round = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      // Rotations on every SSD at once, over and over, until the kill.
      let stop = false;
      const load = targets.map(async (t) => {
        while (!stop) await rotate(ctx, t, `kill-${kill}-${t.aid}-${t.cardId}-${round++}`).catch(() => '');
      });
      const delay = 150 + Math.floor(random() * 900);
      await new Promise((resolve) => setTimeout(resolve, delay)); // the kill moment itself is the one clock wait
      assert.equal(await platform.kill(), null, 'killed by the signal');
      stop = true;
      await Promise.allSettled(load);
      await ctx.close();

      platform = await up(dir, 2);
      ctx = await remoteContext(dir, await readDescriptor(dir));
      for (const t of targets) {
        const status = await rotate(ctx, t, `after-kill-${kill}-${t.aid}-${t.cardId}`);
        assert.equal(status, '200', `kill ${kill} (after ${delay} ms): ${t.by} SSD ${t.aid} on ${t.cardId} rotates after the restart\n${platform.output().slice(-3000)}\n${platform.errors().slice(-3000)}`);
        // A flow resumed at start may still be rotating this SSD: the card must hold what the platform reports
        // once no rotation is under way.
        let view = await ssdOf(ctx, t);
        let found = 'absent';
        for (let look = 0; look < 50; look++) {
          view = await ssdOf(ctx, t);
          if (view.rotating === true) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            continue;
          }
          const channel = await ctx.channel(t.cardId);
          try {
            found = await keyVersionOnCard(channel, t.aid, view.kvn, view.scp as never);
          } finally {
            await channel.close?.();
          }
          if (found === 'present' && (await ssdOf(ctx, t)).kvn === view.kvn) break;
        }
        assert.equal(found, 'present', `kill ${kill}: the card holds key version ${view.kvn} of ${t.by} SSD ${t.aid}: ${JSON.stringify(view)}`);
      }
    }
    await ctx.close();
    assert.equal(await platform.stop(), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
