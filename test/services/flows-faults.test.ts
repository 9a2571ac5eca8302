/**
 * docs/architecture.md §5 / issue 3 item 9: the SSD hand-over (issuer creates the SSD, delivers its initial keys
 * through the ISD, extradites it; the provider replaces the keys) and the key rotation are cut after — and
 * before — every single APDU; every run, resumed, ends with the card and both platforms agreeing on the keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../src/core/bytes.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import { probeKeySet } from '../../src/services/sd-keys/operations.ts';
import { decodeKeySet } from '../../src/services/sd-keys/key-set.ts';
import { runTakeOver, startTakeOver, TAKE_OVER, type TakeOverData } from '../../src/services/provider/flows/take-over.ts';
import { runRotation, startRotation, type RotationData } from '../../src/services/common/rotation.ts';
import { providerKeyContext, providerKeySlot } from '../../src/services/provider/key-slot.ts';
import { CARD_ID, SSD_AID, makeWorld, type World } from './world.ts';

const ROTATE = 'provider.rotate-keys';

async function providerKeys(w: World) {
  const rows = await w.provider.db.query<{ keys: Uint8Array; pending: Uint8Array | null; state: string }>(
    'SELECT keys, pending, state FROM ssds WHERE card_id = $1 AND aid = $2',
    [CARD_ID, SSD_AID],
  );
  const r = rows[0]!;
  return { current: decodeKeySet(await w.provider.sealer.unwrap(r.keys, providerKeyContext(CARD_ID, SSD_AID))), pending: r.pending, state: r.state };
}

/** The card and both platforms agree: the provider's current keys open the SSD, the issuer holds none. */
async function assertAgreement(w: World, expectedKvn: number) {
  const p = await providerKeys(w);
  assert.equal(p.pending, null);
  assert.equal(p.state, 'provider-managed');
  assert.equal(p.current.kvn, expectedKvn);
  const ch = new InProcessChannel(w.card);
  assert.equal(await probeKeySet(ch, fromHex(SSD_AID), p.current), 'match');
  const issuerRows = await w.issuer.db.query<{ keys: Uint8Array | null; state: string }>('SELECT keys, state FROM ssds WHERE card_id = $1', [CARD_ID]);
  assert.deepEqual(issuerRows.map((r) => [r.keys, r.state]), [[null, 'provider-managed']]);
  assert.deepEqual(await w.provider.flows.unfinished(), []);
  assert.deepEqual(await w.issuer.flows.unfinished(), []);
}

async function takeOver(w: World) {
  const flow = await startTakeOver(w.provider, { cardId: CARD_ID, aid: SSD_AID, route: { kind: 'ota' }, privileges: ['DelegatedManagement'] });
  return runTakeOver(w.provider, w.issuerClient, flow);
}

async function resumeTakeOver(w: World) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const open = await w.provider.flows.open<TakeOverData>(TAKE_OVER, `card:${CARD_ID}/sd:${SSD_AID}`);
    if (!open) return;
    await runTakeOver(w.provider, w.issuerClient, open);
  }
}

for (const profile of ['scp03', 'scp02'] as const) {
  test(`${profile}: the hand-over runs end to end; the issuer forgets the keys; the audit names KCVs only`, async () => {
    const w = await makeWorld(profile);
    const flow = await takeOver(w);
    assert.equal(flow.step, 'done');
    await assertAgreement(w, 0x30);
    const actions = w.issuer.auditLog.map((a) => a.action);
    assert.deepEqual(actions, ['card.registered', 'provider.registered', 'ssd.requested', 'key.generated', 'sd.installed', 'key.delivered', 'sd.extradited', 'key.handed-over', 'key.forgotten']);
    assert.ok(!JSON.stringify([...w.issuer.auditLog, ...w.provider.auditLog]).match(/"(enc|mac|dek)":"[0-9A-F]{32}"/));
    await w.close();
  });
}

test('scp03: cut before and after every APDU of the hand-over; every run ends in agreement', async () => {
  const clean = await makeWorld('scp03');
  await takeOver(clean);
  const total = clean.cut.count;
  await clean.close();
  assert.ok(total > 10, `the hand-over took ${total} APDUs`);
  for (const mode of ['after', 'before'] as const) {
    for (let n = 1; n <= total; n++) {
      const w = await makeWorld('scp03');
      w.cut.arm(n, mode);
      await assert.rejects(takeOver(w), (e: unknown) => e instanceof TransportError, `cut ${mode} APDU ${n}`);
      await resumeTakeOver(w).catch((e: Error) => {
        throw new Error(`resume after a cut ${mode} APDU ${n} of ${total}: ${e.message}`, { cause: e });
      });
      await assertAgreement(w, 0x30);
      await w.close();
    }
  }
});

test('scp03: forced key rotation cut before and after every APDU; the platform always knows the card keys', async () => {
  const base = await makeWorld('scp03');
  await takeOver(base);
  const before = base.cut.count;
  const data: RotationData = { cardId: CARD_ID, aid: SSD_AID, route: { kind: 'ota' }, reason: 'forced' };
  const slot = () => providerKeySlot(base.provider.db, base.provider.sealer, CARD_ID, SSD_AID);
  await runRotation(base.provider, slot(), await startRotation(base.provider, ROTATE, data));
  const total = base.cut.count - before;
  await assertAgreement(base, 0x31);
  await base.close();
  for (const mode of ['after', 'before'] as const) {
    for (let n = 1; n <= total; n++) {
      const w = await makeWorld('scp03');
      await takeOver(w);
      const s = providerKeySlot(w.provider.db, w.provider.sealer, CARD_ID, SSD_AID);
      w.cut.arm(n, mode);
      await assert.rejects(runRotation(w.provider, s, await startRotation(w.provider, ROTATE, data)), TransportError);
      const open = await w.provider.flows.open<RotationData>(ROTATE, `card:${CARD_ID}/sd:${SSD_AID}`);
      assert.ok(open, 'the rotation flow is still open');
      await runRotation(w.provider, s, open);
      await assertAgreement(w, 0x31);
      await w.close();
    }
  }
});
