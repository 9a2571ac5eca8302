/**
 * Issue 4 item 6, the proof of isolation: everything the issuer stores (every row of every table of its
 * database), logs (its audit log) and receives (every request from the provider; every answer from the card on
 * its sessions is part of the card exchanges) during the asymmetric SSD flow is collected. Then the issuer tries
 * every way that material offers to open a secure channel to the provider's SSD, and the card refuses each:
 *  - SCP03 with its ISD keys and with the SSD's set-up key set (captured before it was sealed) — 6A88: the SSD
 *    holds no symmetric key any more;
 *  - SCP11 / SCP10 with an off-card entity certificate of its own CA, against the first public key it reported
 *    and against the provider's certified key — the card refuses the certificate (it does not verify under the
 *    provider CA's trust point).
 * And no private key of the SSD ever leaves the card: every private key the SSD ever held (seen in the card's
 * state after every committed command) appears neither in any card answer, nor in anything the issuer holds,
 * logged or received.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { SecureChannelError } from '../../../src/scp/errors.ts';
import { openSd } from '../../../src/services/sd-keys/operations.ts';
import { decodeKeySet, keySetFromHex, type SdKeySet } from '../../../src/services/sd-keys/key-set.ts';
import { createCa } from '../../../src/services/ca/authority.ts';
import { localCaPort } from '../../../src/services/provider/asymmetric/ca-port.ts';
import { oceIdentity } from '../../../src/services/provider/asymmetric/oce.ts';
import { openAsymmetricSd } from '../../../src/services/provider/asymmetric/sessions.ts';
import { runAsymmetricSsd, startAsymmetricSsd } from '../../../src/services/provider/asymmetric/flow.ts';
import { caKindOf } from '../../../src/services/provider/asymmetric/ports.ts';
import { FIRST_SD_KVN, PROVIDER_SD_KVN, sdKid, type AsymmetricVariant, type SdPublicKeyHex } from '../../../src/services/sd-keys/asymmetric.ts';
import { FlowStore } from '../../../src/platform/flows/store.ts';
import type { Database } from '../../../src/platform/storage/database.ts';
import { ApduError } from '../../../src/apdu/errors.ts';
import { CARD_ID, ISD_KEY, makeAsymmetricWorld, SSD_AID } from './world.ts';
import { keysOfSsd, requestOf } from './helpers.ts';
import { openTestDatabase, testSealer, testAuditor } from '../test-infra.ts';
import { PROVIDER_MIGRATIONS } from '../../../src/services/provider/schema.ts';

/** Every private key value of the SSD in a card state (ECC scalars; RSA private exponents and primes), hex. */
function privateKeysIn(stateJson: string): string[] {
  const state = JSON.parse(stateJson) as { apps: { aid: string; securityDomain?: { keys: { type: number; value: string }[] } }[] };
  const sd = state.apps.find((a) => a.aid.toUpperCase() === SSD_AID)?.securityDomain;
  const out: string[] = [];
  for (const k of sd?.keys ?? []) {
    if (k.type === 0xb1) out.push(k.value.toUpperCase());
    if (k.type === 0xa2) {
      const jwk = createPrivateKey({ key: Buffer.from(k.value, 'hex'), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
      for (const part of [jwk.d, jwk.p, jwk.q]) out.push(Buffer.from(part!, 'base64url').toString('hex').toUpperCase());
    }
  }
  return out;
}

/** Every row of every table of a database, as one string of JSON with blobs in hex. */
async function dump(db: Database): Promise<string> {
  const tables = await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables) out[name] = await db.query(`SELECT * FROM "${name}"`);
  return JSON.stringify(out, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v).toUpperCase() : v));
}

async function refusedWith(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'opened';
  } catch (e) {
    if (e instanceof SecureChannelError) return e.sw !== undefined ? `sw ${e.sw.toString(16).toUpperCase()}` : e.code;
    if (e instanceof ApduError) return `sw ${e.sw.toString(16).toUpperCase()}`;
    throw e;
  }
}

for (const variant of ['11a', '11c', '10'] as const satisfies readonly AsymmetricVariant[]) {
  test(`isolation (${variant}): nothing the issuer stores, logs or receives opens the provider's SSD; no private key leaves the card`, async () => {
    const w = await makeAsymmetricWorld({ scp10Algorithm: 'RSA-1024' });
    try {
      // What the issuer seals: captured in clear here (the set-up key set) to try it afterwards.
      const sealed: Uint8Array[] = [];
      const issuerSealer = w.issuer.sealer;
      const capture = { ...w.issuer, sealer: { wrap: async (p: Uint8Array, c: string) => (sealed.push(p.slice()), issuerSealer.wrap(p, c)), unwrap: issuerSealer.unwrap.bind(issuerSealer) } };
      Object.assign(w.issuer, { sealer: capture.sealer });
      const privateKeys = new Set<string>();
      const stop = w.card.onChange((json) => privateKeysIn(json).forEach((k) => privateKeys.add(k)));
      const flow = await startAsymmetricSsd(w.provider, w.ports, requestOf(variant, variant === '10' ? 1024 : undefined));
      assert.equal((await runAsymmetricSsd(w.provider, w.ports, flow)).step, 'done');
      stop();
      assert.ok(privateKeys.size >= 2, 'the SSD held at least its first and its certified key pair');

      const issuerStores = await dump(w.issuer.db);
      const issuerLogs = JSON.stringify(w.issuer.auditLog);
      const issuerReceived = JSON.stringify(w.issuerRequests);
      const cardAnswers = w.exchanges.map((x) => toHex(x.response).toUpperCase()).join(' ');
      for (const k of privateKeys) {
        for (const [where, text] of Object.entries({ cardAnswers, issuerStores, issuerLogs, issuerReceived, issuerAnswers: JSON.stringify(w.issuerAnswers) })) {
          assert.ok(!text.includes(k), `a private key of the SSD appears in ${where}`);
        }
      }

      // 1. Symmetric keys the issuer ever held: its ISD keys, and every key set it sealed (the set-up keys).
      const channel = await w.issuer.cardAccess(CARD_ID, { kind: 'ota' });
      const candidates: SdKeySet[] = [keySetFromHex(0x30, 3, ISD_KEY, ISD_KEY, ISD_KEY)];
      for (const p of sealed) {
        try {
          candidates.push(decodeKeySet(p));
        } catch {
          /* not a key set */
        }
      }
      assert.ok(candidates.some((c) => c.kvn === 0x01), 'the set-up key set was captured');
      for (const set of candidates) {
        for (const kvn of [set.kvn, 0]) {
          assert.equal(await refusedWith(openSd(channel, fromHex(SSD_AID), { ...set, kvn })), 'sw 6A88', `SCP03 with a key set of KVN ${set.kvn} as ${kvn}`);
        }
      }
      const setupRows = await w.issuer.db.query<{ keys: Uint8Array | null }>('SELECT keys FROM ssds');
      assert.deepEqual(setupRows.map((r) => r.keys), [null], 'the issuer forgot the set-up keys (not even sealed)');

      // 2. Asymmetric: an OCE identity certified by a CA the issuer controls, against every SD key it knows of.
      const own = await createCa(w.ca, 'issuer', caKindOf(variant), variant === '10' ? 'RSA-1024' : 'P-256');
      const issuerAsProvider = { ...w.provider, db: await openTestDatabase(PROVIDER_MIGRATIONS), sealer: await testSealer(), flows: undefined as unknown as FlowStore };
      Object.assign(issuerAsProvider, { audit: testAuditor(issuerAsProvider.db, []), flows: new FlowStore(issuerAsProvider.db) });
      const oce = await oceIdentity(issuerAsProvider, localCaPort(w.ca, 'issuer'), caKindOf(variant), own.caId);
      const first = (w.issuerAnswers[0] as { publicKey: SdPublicKeyHex }).publicKey;
      const tries = {
        firstKey: await refusedWith(openAsymmetricSd(channel, fromHex(SSD_AID), variant, { kvn: FIRST_SD_KVN, kid: sdKid(variant) }, oce, { pinned: first })),
        certifiedKey: await refusedWith(
          openAsymmetricSd(channel, fromHex(SSD_AID), variant, { kvn: PROVIDER_SD_KVN, kid: sdKid(variant) }, oce, {
            certified: await w.ports.ca.trustPoint(w.ports.cas[caKindOf(variant)]!),
            caId: w.ports.cas[caKindOf(variant)]!,
          }),
        ),
      };
      await issuerAsProvider.db.close();
      // The provider still does, and the SSD holds only the trust point, the provider's key pair and its applet.
      const kid = sdKid(variant).toString(16);
      assert.deepEqual((await keysOfSsd(w, variant)).slice(0, 2), ['10/10', `12/${kid}`]);
      // The card refuses the issuer's OCE certificate at PERFORM SECURITY OPERATION: SCP11 '6600' (Amendment F
      // Table 7-? security-related issue), SCP10 '6300' (Table F-36 verification failed) — before any key is used.
      const sw = variant === '10' ? 'sw 6300' : 'sw 6600';
      assert.deepEqual(tries, { firstKey: sw, certifiedKey: sw });
    } finally {
      await w.close();
    }
  });
}
