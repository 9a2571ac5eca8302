/**
 * The asymmetric SSD flow end to end in one process (issuer, provider and CA functions; one simulated card):
 * for SCP11a, SCP11c and SCP10 (RSA-2048 and RSA-1024) the provider ends with a certified key pair on the card
 * that opens the SSD, its applet installed, the issuer's set-up keys and the first key pair gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { getData } from '../../../src/gp/client.ts';
import { parseKeyInformationTemplate } from '../../../src/gp/get-data.ts';
import { getStatus } from '../../../src/gp/client.ts';
import { GetStatusScope } from '../../../src/gp/registry.ts';
import { ECHO_APPLET } from '../../../src/services/provider/applet.ts';
import { ASYMMETRIC_SSD, runAsymmetricSsd, startAsymmetricSsd, type AsymmetricSsdRequest } from '../../../src/services/provider/asymmetric/flow.ts';
import { oceIdentity } from '../../../src/services/provider/asymmetric/oce.ts';
import { caKindOf } from '../../../src/services/provider/asymmetric/ports.ts';
import { openAsymmetricSd } from '../../../src/services/provider/asymmetric/sessions.ts';
import { PROVIDER_SD_KVN, sdKid, type AsymmetricVariant } from '../../../src/services/sd-keys/asymmetric.ts';
import { CARD_ID, makeAsymmetricWorld, SSD_AID, type AsymmetricWorld } from './world.ts';

export function requestOf(variant: AsymmetricVariant, modulusBits?: 1024 | 2048): AsymmetricSsdRequest {
  return { cardId: CARD_ID, aid: SSD_AID, route: { kind: 'ota' }, privileges: ['AuthorizedManagement'], variant, ...(modulusBits ? { modulusBits } : {}) };
}

/** The keys the SSD holds (KVN/KID), asked of the card in a session opened with the provider's certified key. */
export async function keysOfSsd(w: AsymmetricWorld, variant: AsymmetricVariant): Promise<string[]> {
  const oce = await oceIdentity(w.provider, w.ports.ca, caKindOf(variant), w.ports.cas[caKindOf(variant)]!);
  const caId = w.ports.cas[caKindOf(variant)]!;
  const session = await openAsymmetricSd(await w.provider.cardAccess(CARD_ID, { kind: 'ota' }), fromHex(SSD_AID), variant, { kvn: PROVIDER_SD_KVN, kid: sdKid(variant) }, oce, {
    certified: await w.ports.ca.trustPoint(caId),
    caId,
  });
  const keys = parseKeyInformationTemplate((await getData(session, 0xe0))!).map((k) => `${k.kvn.toString(16).padStart(2, '0')}/${k.keyId.toString(16).padStart(2, '0')}`);
  const apps = (await getStatus(session, GetStatusScope.APPLICATIONS)).map((e) => toHex(e.aid).toUpperCase());
  await session.close();
  return [...keys.sort(), ...apps.map((a) => `app:${a}`)];
}

for (const [variant, bits] of [['11a'], ['11c'], ['10', 2048], ['10', 1024]] as const) {
  test(`asymmetric SSD ${variant}${bits ? ` RSA-${bits}` : ''}: provider re-keys, certifies, installs its applet`, async () => {
    const w = await makeAsymmetricWorld();
    try {
      const flow = await startAsymmetricSsd(w.provider, w.ports, requestOf(variant, bits));
      const done = await runAsymmetricSsd(w.provider, w.ports, flow);
      assert.equal(done.step, 'done');
      assert.equal(done.kind, ASYMMETRIC_SSD);
      const kid = sdKid(variant).toString(16);
      assert.deepEqual(await keysOfSsd(w, variant), [`10/10`, `12/${kid}`, `app:${ECHO_APPLET.instanceAid}`]);
      const rows = await w.provider.db.query<{ state: string }>('SELECT state FROM ssds');
      assert.deepEqual(rows.map((r) => r.state), ['provider-managed']);
      const issuerRows = await w.issuer.db.query<{ state: string; keys: Uint8Array | null }>('SELECT state, keys FROM ssds');
      assert.deepEqual(issuerRows.map((r) => [r.state, r.keys]), [['provider-managed', null]]);
    } finally {
      await w.close();
    }
  });
}
