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
import { startPlatform } from '../../src/runtime/index.ts';
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
    assert.deepEqual(c.probes, { providerKvn: 'present', issuerIsdKeys: 'mismatch' });
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
      rotations: { case: string; trigger: string; kvn: { before: number; after: number }; probes: { newKvn: string; oldKvn: string } }[];
    };
    assert.equal(s.error, undefined);
    assert.equal(s.ok, true);
    assert.deepEqual(
      s.rotations.map((r) => [r.case, r.trigger, r.kvn.before, r.kvn.after, r.probes.newKvn, r.probes.oldKvn]),
      [
        ['provider-forced', 'provider API', 0x30, 0x31, 'present', 'absent'],
        ['provider-forced', 'provider API', 0x30, 0x31, 'present', 'absent'],
        ['provider-expiry', 'provider expiry sweep', 0x31, 0x32, 'present', 'absent'],
        ['provider-expiry', 'provider expiry sweep', 0x31, 0x32, 'present', 'absent'],
        ['issuer-forced', 'issuer API', 1, 2, 'present', 'absent'],
        ['issuer-forced', 'issuer API', 1, 2, 'present', 'absent'],
        ['issuer-expiry', 'issuer expiry sweep', 2, 3, 'present', 'absent'],
        ['issuer-expiry', 'issuer expiry sweep', 2, 3, 'present', 'absent'],
      ],
    );
    // The issuer holds no key of the provider-managed SSDs, but the keys of the issuer-managed ones (its API says).
    const held: [string, boolean][] = [];
    for (const p of platform.phones) {
      const r = await platform.operator.issuer.get<{ ssds: { managedBy: string; keysHeld: boolean }[] }>(`/v1/cards/${p.iccid}/ssds`);
      held.push(...r.body.ssds.map((x) => [x.managedBy, x.keysHeld] as [string, boolean]));
    }
    held.sort((a, b) => a[0].localeCompare(b[0]));
    assert.deepEqual(held, [['issuer', true], ['issuer', true], ['provider', false], ['provider', false]]);
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

test('scenario asymmetric-ssd in-process: SCP11a, SCP11c and SCP10 (RSA-1024) on one platform, every check ok', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-scenario-test-'));
  const platform = await startPlatform({ dataDir: dir, devices: 1, ports: 'any', logLevel: 'silent', persistPhones: false });
  const ctx = await inProcessContext(platform);
  try {
    const aids = new Set<string>();
    for (const [variant, modulusBits, kid] of [['11a', undefined, 0x11], ['11c', undefined, 0x15], ['10', 1024, 0x11]] as const) {
      const s = (await runScenarioOn('asymmetric-ssd', ctx, 1, { variant, ...(modulusBits ? { modulusBits } : {}) })) as unknown as {
        scenario: string;
        platform: string;
        devices: number;
        scp: string;
        rsaBits?: number;
        aid: string;
        cards: Record<string, unknown>[];
        checks: { name: string; ok: boolean }[];
        checksPassed: number;
        error?: string;
        ok: boolean;
      };
      const what = `variant ${variant}`;
      assert.equal(s.error, undefined, what);
      assert.equal(s.ok, true, what);
      assert.equal(s.scenario, 'asymmetric-ssd');
      assert.equal(s.platform, 'in-process');
      assert.equal(s.devices, 1);
      assert.equal(s.scp, variant, what);
      assert.equal(s.rsaBits, modulusBits, what);
      assert.match(s.aid, /^A000000151535041[0-9A-F]{4}$/);
      aids.add(s.aid);
      // 1 (phones available) + 6 per card: answer, certificate on card, verifies, ISD keys absent, issuer's view, listed.
      assert.equal(s.checks.length, 7, what);
      assert.ok(s.checks.every((c) => c.ok), JSON.stringify(s.checks.filter((c) => !c.ok)));
      assert.equal(s.checksPassed, 7);
      assert.equal(s.cards.length, 1);
      const { caId, serial, ...card } = s.cards[0]!;
      assert.match(String(caId), /^[0-9A-Fa-f]+$/, what);
      assert.match(String(serial), /^[0-9A-Fa-f]+$/, what);
      assert.deepEqual(
        card,
        {
          cardId: platform.phones[0]!.iccid,
          aid: s.aid,
          variant,
          kvn: 0x12,
          kid,
          certificateVerifies: true,
          issuerIsdKeysOnSsd: 'absent',
          issuerHoldsKeys: false,
          listedByIsd: { ssd: true, applet: true },
        },
        what,
      );
    }
    assert.equal(aids.size, 3, 'a fresh SSD AID per run');
    // The issuer holds no key of the three SSDs; the provider manages all three.
    const held = await platform.issuer.deps.db.query<{ state: string; has_keys: number }>("SELECT state, CASE WHEN keys IS NULL THEN 0 ELSE 1 END AS has_keys FROM ssds WHERE aid IN ($1, $2, $3)", [...aids]);
    assert.deepEqual(held.map((r) => [r.state, Number(r.has_keys)]), [['provider-managed', 0], ['provider-managed', 0], ['provider-managed', 0]]);
  } finally {
    await ctx.close();
    await platform.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('scenario asymmetric-ssd: bad --scp / --rsa-bits → one exact line on stderr, exit 2, nothing on stdout', () => {
  const cases: [string[], string][] = [
    [['scenario', 'run', 'asymmetric-ssd', '--scp', '11b'], 'opentsm: --scp: 11b is not one of 11a, 11c, 10'],
    [['scenario', 'run', 'ota-ssd', '--scp', '10'], 'opentsm: --scp goes with the asymmetric-ssd scenario'],
    [['scenario', 'run', 'asymmetric-ssd', '--rsa-bits', '1024'], 'opentsm: --rsa-bits goes with --scp 10'],
    [['scenario', 'run', 'asymmetric-ssd', '--scp', '11a', '--rsa-bits', '1024'], 'opentsm: --rsa-bits goes with --scp 10'],
    [['scenario', 'run', 'asymmetric-ssd', '--rsa-bits', '4096', '--scp', '10'], 'opentsm: --rsa-bits: 4096 is not 1024 or 2048'],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(r.stderr.split('\n').filter((l) => l !== ''), [message], args.join(' '));
    assert.equal(r.stdout, '');
  }
});
