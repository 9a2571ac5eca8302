/**
 * Issue 3 "done when": after `opentsm scenario run ota-ssd` against a running `opentsm up`, `opentsm gp` on
 * the phone's card with the provider's keys lists the SSD, and with the issuer's keys cannot open it.
 * The phone's card state is the file the platform keeps for it (phones/<ICCID>.json); the provider's keys
 * are read the only way they exist at rest: sealed in its database, opened with the platform's KEK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/core/bytes.ts';
import { loadConfig } from '../../src/platform/config/index.ts';
import { openServiceStorage } from '../../src/services/common/bootstrap.ts';
import { keyStoreSealer } from '../../src/services/common/sealer.ts';
import { PROVIDER_MIGRATIONS } from '../../src/services/provider/schema.ts';
import { ISSUER_MIGRATIONS } from '../../src/services/issuer/schema.ts';
import { isdKeys } from '../../src/services/issuer/inventory.ts';
import { providerKeySlot } from '../../src/services/provider/key-slot.ts';
import { MAIN, NODE, up } from './up-process.ts';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

test('after scenario ota-ssd: opentsm gp opens the SSD with the provider keys and not with the issuer keys', { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-gp-'));
  try {
    const platform = await up(dir, 1);
    const scenario = await run(['scenario', 'run', 'ota-ssd', '--platform', dir, '--devices', '1']);
    assert.equal(scenario.code, 0, scenario.stderr);
    const summary = JSON.parse(scenario.stdout) as { ok: boolean; cards: { cardId: string; aid: string; kvn: number }[] };
    assert.equal(summary.ok, true);
    const { cardId, aid, kvn } = summary.cards[0]!;
    assert.equal(await platform.stop(), 0); // the phones' card states are saved on the way out

    const config = loadConfig({ dataDir: dir, logLevel: 'silent' });
    const storage = await openServiceStorage(config, 'provider', PROVIDER_MIGRATIONS);
    const keys = await providerKeySlot(storage.db, keyStoreSealer(storage.keystore, 'provider'), cardId, aid).current();
    await storage.close();
    assert.equal(keys.kvn, kvn);
    const issuerStorage = await openServiceStorage(config, 'issuer', ISSUER_MIGRATIONS);
    const isd = await isdKeys({ db: issuerStorage.db, sealer: keyStoreSealer(issuerStorage.keystore, 'issuer') }, cardId);
    await issuerStorage.close();
    const issuerKeys = ['--key-enc', toHex(isd.enc), '--key-mac', toHex(isd.mac), '--key-dek', toHex(isd.dek)];

    const reader = `sim:${join(dir, 'phones', `${cardId}.json`)}`;
    const withProvider = await run([
      'gp', '--reader', reader, '--domain', aid, '--kvn', String(kvn),
      '--key-enc', toHex(keys.enc), '--key-mac', toHex(keys.mac), '--key-dek', toHex(keys.dek), '--list', '--apdu', '80CA00E000',
    ]);
    assert.equal(withProvider.code, 0, withProvider.stderr);
    const kvnHex = kvn.toString(16).toUpperCase();
    assert.match(withProvider.stdout, new RegExp(`^# SCP03 i=70 KVN ${kvnHex} security level 01 with ${aid}$`, 'm'));
    // The SSD's key information template (GET DATA 'E0'): its only key set is the provider's, AES-128.
    assert.match(withProvider.stdout, new RegExp(`^E012C00401${kvnHex}8810C00402${kvnHex}8810C00403${kvnHex}8810 9000 success$`, 'm'));
    // The ISD's registry lists the SSD, extradited: associated with itself.
    const byIsd = await run(['gp', '--reader', reader, '--kvn', String(isd.kvn), ...issuerKeys, '--list']);
    assert.equal(byIsd.code, 0, byIsd.stderr);
    assert.match(byIsd.stdout, new RegExp(`^SSD: ${aid} \\(SELECTABLE\\)\\n {5}Privs: {3}[^\\n]+\\n {5}Parent: {2}${aid}$`, 'm'));

    // The issuer's keys do not open the SSD: its ISD keys give a card cryptogram that does not verify…
    const withIssuer = await run(['gp', '--reader', reader, '--domain', aid, '--kvn', String(kvn), ...issuerKeys, '--list']);
    assert.equal(withIssuer.code, 1);
    assert.match(withIssuer.stderr, /card cryptogram/);
    // …and the initial key version the issuer put into the SSD is gone.
    const initial = await run(['gp', '--reader', reader, '--domain', aid, '--kvn', '1', ...issuerKeys, '--list']);
    assert.equal(initial.code, 1);
    assert.match(initial.stderr, /6A88/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
