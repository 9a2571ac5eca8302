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
import { makeAsymmetricWorld } from './world.ts';
import { keysOfSsd, requestOf } from './helpers.ts';

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
