/**
 * `opentsm up`: starts (ready line, URLs, platform.json), stops cleanly on SIGTERM (exit 0, descriptor
 * removed), and a restart on the same data folder brings the same phones back without manufacturing any.
 * Bad input → readable errors, exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORM_FILE } from '../../src/runtime/index.ts';

import { MAIN, NODE, up } from './up-process.ts';

test('opentsm up: ready with URLs, SIGTERM stops cleanly, restart reuses the data folder', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-up-'));
  try {
    const first = await up(dir, 2);
    assert.match(first.output(), /issuer {10}https:\/\/127\.0\.0\.1:\d+/);
    assert.match(first.output(), /OTA RAM\/HTTP {4}https:\/\/127\.0\.0\.1:\d+\/ram/);
    assert.match(first.output(), /phones {10}2 \(2 manufactured now\)/);
    const descriptor = JSON.parse(await readFile(join(dir, PLATFORM_FILE), 'utf8')) as { format: string; providerId: string; devices: string[]; urls: Record<string, string> };
    assert.equal(descriptor.format, 'opentsm-platform');
    assert.equal(descriptor.providerId, 'bank');
    assert.equal(descriptor.devices.length, 2);
    assert.deepEqual(Object.keys(descriptor.urls).sort(), ['ca', 'issuer', 'ota', 'otaAdmin', 'provider', 'terminals']);
    assert.deepEqual((await readdir(join(dir, 'phones'))).sort(), descriptor.devices.map((d) => `${d}.json`).sort());
    for (const f of ['issuer.db', 'provider.db', 'ota.db', 'kek.key', 'tls/ca.crt', 'tls/operator.crt']) assert.ok(existsSync(join(dir, f)), f);
    assert.equal(await first.stop(), 0);
    assert.match(first.output(), /SIGTERM, stopping\nopentsm: platform stopped\n$/);
    assert.equal(first.errors(), '');
    assert.equal(existsSync(join(dir, PLATFORM_FILE)), false, 'the descriptor goes with the platform');

    const second = await up(dir, 2);
    assert.match(second.output(), /phones {10}2 \(0 manufactured now\)/);
    const again = JSON.parse(await readFile(join(dir, PLATFORM_FILE), 'utf8')) as { devices: string[] };
    assert.deepEqual(again.devices, descriptor.devices);
    assert.equal(await second.stop(), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('opentsm up --processes: one process per service, the same data folder layout, SIGTERM stops all', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-up-'));
  try {
    const p = await up(dir, 2, ['--processes']);
    const m = /processes {7}ota (\d+), ca (\d+), issuer (\d+), provider (\d+)/.exec(p.output());
    assert.ok(m, p.output());
    const pids = m.slice(1).map(Number);
    assert.equal(new Set(pids).size, 4);
    assert.match(p.output(), /phones {10}2 \(2 manufactured now\)/);
    const descriptor = JSON.parse(await readFile(join(dir, PLATFORM_FILE), 'utf8')) as { urls: Record<string, string> };
    assert.deepEqual(Object.keys(descriptor.urls).sort(), ['ca', 'issuer', 'ota', 'otaAdmin', 'provider', 'terminals']);
    for (const f of ['issuer.db', 'provider.db', 'ota.db', 'kek.key', 'tls/ca.crt', 'tls/operator.crt']) assert.ok(existsSync(join(dir, f)), f);
    assert.equal(await p.stop(), 0);
    assert.equal(p.errors(), '');
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `service process ${pid} is gone`);
    assert.equal(existsSync(join(dir, PLATFORM_FILE)), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('opentsm up: bad input → readable errors, exit 2, nothing started', () => {
  const cases: [string[], RegExp][] = [
    [['up', '--devices', '-1'], /--devices needs a value|--devices: not a number/],
    [['up', '--devices', '100001'], /--devices: 100001 is outside 0\.\.100000/],
    [['up', '--db', 'mysql://x'], /--db: expected sqlite or a postgres:\/\/ URL/],
    [['up', '--log-level', 'loud'], /--log-level: one of fatal, error, warn, info, debug, trace, silent/],
    [['up', 'now'], /unexpected argument: now/],
    [['up', '--port', '1'], /unknown option --port/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(NODE, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const help = spawnSync(NODE, [MAIN, 'up', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: opentsm up/);
});
