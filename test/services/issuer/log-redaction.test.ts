/**
 * No key reaches a log line: key-set members named as the specs name them (enc, mac, dek, sEnc …) are secret
 * names; KCV objects (`kcvs: { kvn, enc, mac, dek }`) stay readable. With both services logging at `debug`
 * (request bodies included), a card registration with ISD keys, a hand-over and a take-over leave no key in
 * the logs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretName, memoryDestination, redactSecrets, REDACTED } from '../../../src/platform/log/index.ts';
import { providerKeySlot } from '../../../src/services/provider/key-slot.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { SSD_AID, TEST_KEY, cardIdOf, makeHarness, nextKey } from './harness.ts';

test('isSecretName: enc, mac, rmac, dek and session keys are secret; kcvs, kvn and look-alikes are not', () => {
  for (const n of ['enc', 'mac', 'dek', 'ENC', 'sEnc', 'sMac', 'sRmac', 'sDek', 's_enc', 'rmac', 'isdKeys', 'key']) assert.equal(isSecretName(n), true, n);
  for (const n of ['kcv', 'kcvs', 'kvn', 'scp', 'macAddress', 'encoding', 'encrypted', 'aid']) assert.equal(isSecretName(n), false, n);
  assert.deepEqual(redactSecrets({ kvn: 1, scp: 3, enc: TEST_KEY, mac: TEST_KEY, dek: TEST_KEY }), { kvn: 1, scp: 3, enc: REDACTED, mac: REDACTED, dek: REDACTED });
  assert.deepEqual(redactSecrets({ to: { kcvs: { kvn: 48, enc: '504A77', mac: '504A77', dek: '504A77' } } }), {
    to: { kcvs: { kvn: 48, enc: '504A77', mac: '504A77', dek: '504A77' } },
  });
  assert.deepEqual(redactSecrets({ isdKeys: { kvn: 48, enc: TEST_KEY } }), { isdKeys: { kvn: 48, enc: REDACTED } });
});

test('debug logs of both services hold no key: ISD keys, initial keys handed over, provider keys', async () => {
  const dest = memoryDestination();
  const h = await makeHarness({ logger: { level: 'debug', destination: dest } });
  try {
    const card = cardIdOf(1);
    await h.registerCard(card);
    await h.registerProvider();
    const handed: string[] = [];
    const r = await h.asIssuer('bank', 'POST', '/v1/ssd-requests', { cardId: card, aid: SSD_AID, privileges: [], route: { kind: 'ota' } }, nextKey());
    assert.equal(r.statusCode, 200);
    const keys = (await h.asIssuer('bank', 'POST', `/v1/cards/${card}/ssds/${SSD_AID}/handover`, {})).json();
    handed.push(keys.enc, keys.mac, keys.dek);
    await h.asIssuer('bank', 'POST', `/v1/cards/${card}/ssds/${SSD_AID}/handover-ack`, {}, nextKey());
    const card2 = cardIdOf(2);
    await h.registerCard(card2);
    assert.equal((await h.asProvider('POST', `/v1/cards/${card2}/ssds`, { aid: SSD_AID, privileges: [], route: { kind: 'ota' } }, nextKey())).statusCode, 201);
    const own = await providerKeySlot(h.providerDeps.db, h.providerDeps.sealer, card2, SSD_AID).current();
    const secrets = [TEST_KEY, ...handed, ...[own.enc, own.mac, own.dek].map((k) => toHex(k).toUpperCase())];
    const text = dest.lines.join('\n').toUpperCase();
    assert.ok(dest.lines.some((l) => l.includes('request body')), 'request bodies were logged');
    for (const s of secrets) assert.ok(!text.includes(s), `a key appears in the log`);
  } finally {
    await h.close();
  }
});
