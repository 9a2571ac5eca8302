/**
 * Issue 4 item 7: the asymmetric SSD flow (issuer: INSTALL, set-up keys, extradition, key pair on card, trust
 * point; provider: ICCID, re-key, certificate, applet) is cut after — and before — every single APDU. Every run,
 * resumed, ends with the same card content as an uncut run: the trust point and the provider's certified key pair
 * only, its applet installed, the issuer holding no key, no unfinished flow on either side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '../../../src/transport/errors.ts';
import { ASYMMETRIC_SSD, runAsymmetricSsd, startAsymmetricSsd, type AsymmetricSsdData } from '../../../src/services/provider/asymmetric/flow.ts';
import { sdKid, type AsymmetricVariant } from '../../../src/services/sd-keys/asymmetric.ts';
import { ECHO_APPLET } from '../../../src/services/provider/applet.ts';
import { CARD_ID, makeAsymmetricWorld, SSD_AID, type AsymmetricWorld } from './world.ts';
import { keysOfSsd, requestOf } from './helpers.ts';

async function run(w: AsymmetricWorld, variant: AsymmetricVariant) {
  const flow = await startAsymmetricSsd(w.provider, w.ports, requestOf(variant, variant === '10' ? 1024 : undefined));
  return runAsymmetricSsd(w.provider, w.ports, flow);
}

async function resume(w: AsymmetricWorld): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const open = await w.provider.flows.open<AsymmetricSsdData>(ASYMMETRIC_SSD, `card:${CARD_ID}/sd:${SSD_AID}`);
    if (!open) return;
    await runAsymmetricSsd(w.provider, w.ports, open);
  }
}

async function assertAgreement(w: AsymmetricWorld, variant: AsymmetricVariant, what: string): Promise<void> {
  const kid = sdKid(variant).toString(16);
  assert.deepEqual(await keysOfSsd(w, variant), ['10/10', `12/${kid}`, `app:${ECHO_APPLET.instanceAid}`], what);
  const p = await w.provider.db.query<{ state: string }>('SELECT state FROM ssds');
  assert.deepEqual(p.map((r) => r.state), ['provider-managed'], what);
  const i = await w.issuer.db.query<{ state: string; keys: Uint8Array | null }>('SELECT state, keys FROM ssds');
  assert.deepEqual(i.map((r) => [r.state, r.keys]), [['provider-managed', null]], what);
  assert.deepEqual(await w.provider.flows.unfinished(), [], what);
  assert.deepEqual(await w.issuer.flows.unfinished(), [], what);
}

for (const variant of ['11a', '10'] as const) {
  test(`asymmetric SSD ${variant}: cut before and after every APDU; every resumed run ends in agreement`, async () => {
    const clean = await makeAsymmetricWorld({ scp10Algorithm: 'RSA-1024' });
    await run(clean, variant);
    const total = clean.cut.count;
    await assertAgreement(clean, variant, 'uncut');
    await clean.close();
    assert.ok(total > 15, `the flow took ${total} APDUs`);
    for (const mode of ['after', 'before'] as const) {
      for (let n = 1; n <= total; n++) {
        const w = await makeAsymmetricWorld({ scp10Algorithm: 'RSA-1024' });
        w.cut.arm(n, mode);
        await assert.rejects(run(w, variant), (e: unknown) => e instanceof TransportError, `cut ${mode} APDU ${n}`);
        await resume(w).catch((e: Error) => {
          throw new Error(`resume after a cut ${mode} APDU ${n} of ${total}: ${e.message}`, { cause: e });
        });
        await assertAgreement(w, variant, `cut ${mode} APDU ${n} of ${total}`);
        await w.close();
      }
    }
  });
}
