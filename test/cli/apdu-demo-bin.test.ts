/**
 * `opentsm apdu` (raw APDUs, no secure channel: SELECT answers the ISD FCI, GPCS 2.3.1 Table 11-82),
 * `opentsm demo` (every step, exit 0, no key in clear even with --debug), and the `bin/opentsm.js` shim
 * run by Node 24 directly and by an older system Node (re-executed with the pinned Node 24).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { kcvAes } from '../../src/gp/kcv.ts';
import { ATR, ISD, ROOT, cli, lines, spawnCli, tempDir } from './helpers.ts';

const tmp = tempDir();
after(() => tmp.dispose());

const ISD_FCI =
  '6F4E8408A000000151000000A542732F06072A864886FC6B01600C060A2A864886FC6B02020301630906072A864886FC6B03640B06092A864886FC6B0403709F6E0A4F54534D0001614001009F6501FF';

describe('opentsm apdu', () => {
  test('SELECT of the ISD prints the FCI and 9000 (with and without Le); GET DATA E0 outside a channel', async () => {
    const file = tmp.file('apdu.json');
    const r = await cli('apdu', '--reader', `sim:${file}`, '00A4040008A000000151000000', `00A4040008${ISD}00`, '80CA00E000');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.deepEqual(lines(r.stdout), [
      '> 00A4040008A000000151000000',
      `< ${ISD_FCI} 9000 success`,
      `> 00A4040008${ISD}00`,
      `< ${ISD_FCI} 9000 success`,
      '> 80CA00E000',
      '< E012C00401308810C00402308810C00403308810 9000 success',
    ]);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).format, 'opentsm-card-state');
  });

  test('--profile scp02 for a new card: the FCI names SCP02 i=55', async () => {
    const r = await cli('apdu', '--reader', `sim:${tmp.file('apdu02.json')}`, '--profile', 'scp02', '00A4040000');
    assert.equal(r.code, 0, r.stderr);
    assert.match(lines(r.stdout)[1]!, /^< 6F4E8408A000000151000000A542.*640B06092A864886FC6B0402559F6E.* 9000 success$/);
  });

  test('--help', async () => {
    const r = await cli('apdu', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: opentsm apdu \[--reader R\] HEX…\n/);
  });
});

describe('opentsm demo', () => {
  const STEPS = [
    '[1] Create a simulated GlobalPlatform 2.3 card (SCP03 profile, ISD key set KVN 30, i=70, test keys 40..4F)',
    `    ATR ${ATR}`,
    '[2] SELECT the ISD and open SCP03 at security level 33 (C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION)',
    '    SCP03 i=70 KVN 30 level 33',
    '[3] INSTALL [for install and make selectable] a supplementary security domain A0000001515350415344',
    '    created with privileges: Security Domain, Delegated Management',
    '[4] SELECT the new SSD and open SCP03 with its initial key set (KVN FF)',
    '    opened: KVN FF',
    '[5] PUT KEY: add fresh AES-128 keys as KVN 30, which retires the initial key set FF (components encrypted with the DEK)',
    '[6] Open the SSD with the new keys; the initial test keys no longer open it',
    '    new keys: SCP03 KVN 30 level 33 — open',
    '[7] Back to the ISD: GET STATUS of the whole registry',
    '    SSD: A0000001515350415344 (SELECTABLE)',
    'Done: the card was reached only through APDUs; see `opentsm gp --help` to do the same on a card in pcscd.',
  ];

  /** The three KCVs the demo printed for its fresh keys. */
  function kcvs(out: readonly string[]): string[] {
    const line = out.find((l) => l.startsWith('    card answered KVN 30, KCVs '));
    assert.ok(line, 'KCV line');
    const m = /^ {4}card answered KVN 30, KCVs (\w{6}) (\w{6}) (\w{6}) \(expected \1 \2 \3\)$/.exec(line);
    assert.ok(m, line);
    return [m[1]!, m[2]!, m[3]!];
  }

  test('exits 0 and prints each step in order', async () => {
    const r = await cli('demo');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = lines(r.stdout);
    let at = -1;
    for (const step of STEPS) {
      const i = out.indexOf(step, at + 1);
      assert.ok(i > at, `missing or out of order: ${step}`);
      at = i;
    }
    kcvs(out);
    assert.ok(out.includes('    initial keys: refused (INITIALIZE UPDATE refused (SW 6A88))'));
  });

  test('--debug traces every APDU and never prints the fresh keys (no 16-byte run in the output has their KCVs)', async () => {
    const r = await cli('demo', '--debug');
    assert.equal(r.code, 0, r.stderr);
    const out = lines(r.stdout);
    const secret = new Set(kcvs(out));
    assert.ok(out.some((l) => /^ {4}>> 80D8008146 <key data, KCV \w{6} \w{6} \w{6}> 00$/.test(l)), 'masked PUT KEY (plain)');
    assert.ok(out.some((l) => /^ {4} > 84D8008158 <key data, \d+ bytes> 00$/.test(l)), 'masked PUT KEY (wrapped, encrypted)');
    let windows = 0;
    for (const run of r.stdout.match(/[0-9A-F]{32,}/g) ?? []) {
      for (let o = 0; o + 32 <= run.length; o += 2) {
        windows++;
        assert.ok(!secret.has(toHex(kcvAes(fromHex(run.slice(o, o + 32))))), `a fresh key appears at ${o} of ${run}`);
      }
    }
    assert.ok(windows > 100, 'the trace holds APDUs');
  });
});

/** Node executables on PATH (like `which -a node`) older than 24, for the shim's re-exec path. */
function olderNodes(): string[] {
  const found: string[] = [];
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, 'node');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
    if (Number(/^v(\d+)/.exec(version)?.[1]) < 24 && !found.includes(candidate)) found.push(candidate);
  }
  for (const fixed of ['/usr/local/bin/node', '/usr/bin/node']) {
    if (!found.includes(fixed) && existsSync(fixed)) {
      const version = execFileSync(fixed, ['--version'], { encoding: 'utf8' }).trim();
      if (Number(/^v(\d+)/.exec(version)?.[1]) < 24) found.push(fixed);
    }
  }
  return found;
}

describe('bin/opentsm.js', () => {
  const BIN = join(ROOT, 'bin', 'opentsm.js');
  const PINNED = join(ROOT, 'node_modules', '.bin', 'node');
  const older = olderNodes();

  async function exercise(node: string): Promise<void> {
    const help = await spawnCli(node, [BIN, '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^opentsm — open Trusted Service Manager tools\n\nusage: opentsm <command> \[options\]\n/);
    const usage = await spawnCli(node, [BIN, 'gp', '--bogus']);
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr, 'opentsm: unknown option --bogus (see --help)\n');
    const file = tmp.file(`bin-${older.indexOf(node)}.json`);
    const list = await spawnCli(node, [BIN, 'gp', '--reader', `sim:${file}`, '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(lines(list.stdout)[2], `ISD: ${ISD} (SECURED)`);
  }

  test('run by the pinned Node 24 (node_modules/.bin/node): --help, exit codes, gp --list', async () => {
    await exercise(PINNED);
  });

  test(`run by an older system Node (${older.join(', ') || 'none found'}): re-executed with Node 24`, { skip: older.length === 0 ? 'no Node < 24 on PATH' : false }, async () => {
    for (const node of older) await exercise(node);
  });
});
