/**
 * `opentsm scenario run …` in-process (a temporary platform of its own): the JSON summary of ota-ssd and
 * rotate-keys, and readable errors for bad input. Exact checks live in the scenario; here: what it reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform } from '../../src/cli/platform-runner.ts';
import { runScenarioOn } from '../../src/cli/scenario.ts';
import { inProcessContext } from '../../src/cli/scenarios/context.ts';

const NODE = process.execPath;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function cli(...args: string[]) {
  return spawnSync(NODE, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
}

test('scenario run ota-ssd --devices 3: JSON summary ending with "ok": true, every card checked', { timeout: 120_000 }, () => {
  const r = cli('scenario', 'run', 'ota-ssd', '--devices', '3');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trimEnd(), /"ok": true\n}$/);
  const s = JSON.parse(r.stdout) as { scenario: string; platform: string; devices: number; aid: string; cards: { cardId: string; aid: string; state: string; kvn: number; kcvs: { kvn: number }; probes: unknown; issuerHoldsKeys: boolean; listedByIsd: boolean }[]; checks: { ok: boolean }[]; ok: boolean };
  assert.equal(s.scenario, 'ota-ssd');
  assert.equal(s.platform, 'in-process');
  assert.equal(s.devices, 3);
  assert.match(s.aid, /^A000000151535041[0-9A-F]{4}$/);
  assert.equal(s.cards.length, 3);
  assert.equal(new Set(s.cards.map((c) => c.cardId)).size, 3);
  for (const c of s.cards) {
    assert.match(c.cardId, /^898821[0-9]{13}F$/);
    assert.equal(c.aid, s.aid);
    assert.equal(c.state, 'provider-managed');
    assert.equal(c.kvn, 0x30);
    assert.equal(c.kcvs.kvn, 0x30);
    assert.deepEqual(c.probes, { providerKeys: 'match', issuerIsdKeys: 'mismatch' });
    assert.equal(c.issuerHoldsKeys, false);
    assert.equal(c.listedByIsd, true);
  }
  assert.equal(s.checks.length, 1 + 3 * 5);
  assert.ok(s.checks.every((c) => c.ok));
});

test('scenario rotate-keys in-process: four cases per card, key versions advance, old keys no longer open', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-scenario-test-'));
  const platform = await startPlatform({ dataDir: dir, devices: 2, ports: 'any', logLevel: 'silent', persistPhones: false });
  const ctx = await inProcessContext(platform);
  try {
    const s = (await runScenarioOn('rotate-keys', ctx, 2)) as unknown as {
      ok: boolean;
      error?: string;
      rotations: { case: string; trigger: string; kvn: { before: number; after: number }; probes: { newKeys: string; oldKeys: string } }[];
    };
    assert.equal(s.error, undefined);
    assert.equal(s.ok, true);
    assert.deepEqual(
      s.rotations.map((r) => [r.case, r.trigger, r.kvn.before, r.kvn.after, r.probes.newKeys, r.probes.oldKeys]),
      [
        ['provider-forced', 'provider API', 0x30, 0x31, 'match', 'absent'],
        ['provider-forced', 'provider API', 0x30, 0x31, 'match', 'absent'],
        ['provider-expiry', 'provider expiry sweep', 0x31, 0x32, 'match', 'absent'],
        ['provider-expiry', 'provider expiry sweep', 0x31, 0x32, 'match', 'absent'],
        ['issuer-forced', 'issuer API', 1, 2, 'match', 'absent'],
        ['issuer-forced', 'issuer API', 1, 2, 'match', 'absent'],
        ['issuer-expiry', 'issuer expiry sweep', 2, 3, 'match', 'absent'],
        ['issuer-expiry', 'issuer expiry sweep', 2, 3, 'match', 'absent'],
      ],
    );
    // The issuer holds no key of the provider-managed SSDs, but the keys of the issuer-managed ones.
    const held = await platform.issuer.deps.db.query<{ managed_by: string; has_keys: number }>(
      'SELECT managed_by, CASE WHEN keys IS NULL THEN 0 ELSE 1 END AS has_keys FROM ssds ORDER BY managed_by',
    );
    assert.deepEqual(held.map((r) => [r.managed_by, Number(r.has_keys)]), [['issuer', 1], ['issuer', 1], ['provider', 0], ['provider', 0]]);
  } finally {
    await ctx.close();
    await platform.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('scenario: bad input → readable errors, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['scenario', 'run'], /which scenario\? one of terminal-ssd, ota-ssd, rotate-keys/],
    [['scenario', 'run', 'nope'], /unknown scenario: nope/],
    [['scenario', 'walk', 'ota-ssd'], /expected: opentsm scenario run/],
    [['scenario', 'run', 'ota-ssd', '--devices', '0'], /--devices: 0 is outside 1\.\.1000/],
    [['scenario', 'run', 'ota-ssd', '--devices', 'x'], /--devices: not a number/],
    [['scenario', 'run', 'ota-ssd', '--colour'], /unknown option --colour/],
    [['scenario', 'run', 'ota-ssd', '--data', '/tmp'], /--data goes with --platform URL/],
    [['scenario', 'run', 'ota-ssd', '--platform', '/nonexistent-opentsm'], /no platform\.json in \/nonexistent-opentsm/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  }
});
