/**
 * runtime/multi-process.ts (issue 8 §6): the OTA server, CA, issuer and provider each in its own process, the
 * phones in this one woken by long poll. One SSD hand-over through the provider's API goes across all four
 * processes and the phone, woken by the OTA process's triggers over IPC or by long poll; close() stops every process cleanly (exit 0, exit report read, descriptor removed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORM_FILE, PROVIDER_AID_PREFIX } from '../../src/runtime/index.ts';
import { startMultiProcess } from '../../src/runtime/multi-process.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const wake of ['ipc', 'long-poll'] as const)
test(`four service processes (phones woken by ${wake}): an SSD hand-over through the provider, then a clean stop`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-multi-'));
  try {
    const platform = await startMultiProcess({ dataDir: dir, devices: 3, ports: 'any', logLevel: 'silent', terminals: false, wake });
    let closed = false;
    try {
      assert.deepEqual(platform.processes.map((p) => p.kind), ['ota', 'ca', 'issuer', 'provider']);
      const pids = new Set(platform.processes.map((p) => p.pid));
      assert.equal(pids.size, 4);
      assert.ok(!pids.has(process.pid));
      assert.equal(platform.phones.length, 3);
      const descriptor = JSON.parse(await readFile(join(dir, PLATFORM_FILE), 'utf8')) as { urls: unknown; pid: number };
      assert.deepEqual(descriptor.urls, platform.urls);
      assert.equal(descriptor.pid, process.pid);

      const cardId = platform.phones[1]!.iccid;
      const aid = PROVIDER_AID_PREFIX + '2001';
      const r = await platform.operator.provider.post<{ state: string; kvn: number }>(`/v1/cards/${cardId}/ssds`, {
        body: { aid, privileges: ['AuthorizedManagement'], route: { kind: 'ota' } },
        idempotencyKey: 'multi-1',
      });
      assert.equal(r.status, 201);
      assert.equal(r.body.state, 'provider-managed');
      assert.equal(r.body.kvn, 0x30);
      const issuerView = (await platform.operator.issuer.get<{ ssds: { aid: string; state: string; keysHeld: boolean }[] }>(`/v1/cards/${cardId}/ssds`)).body.ssds;
      assert.deepEqual(issuerView.map((s) => [s.aid, s.state, s.keysHeld]), [[aid, 'provider-managed', false]]);
      const phone = platform.fleet!.get(cardId)!;
      assert.ok(phone.agent.stats.sessions >= 1 && phone.agent.stats.commands > 0, 'the phone was woken by long poll and ran the scripts');
      assert.equal(platform.fleet!.get(platform.phones[0]!.iccid)!.agent.stats.sessions, 0, 'the other phones were not woken');

      await platform.close();
      closed = true;
      for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} has exited`);
      assert.deepEqual([...platform.peakRssKb.keys()].sort(), ['ca', 'issuer', 'ota', 'provider']);
      for (const kb of platform.peakRssKb.values()) assert.ok(kb > 10_000, `peak RSS ${kb} KiB is a real figure`);
      await assert.rejects(access(join(dir, PLATFORM_FILE)), { code: 'ENOENT' });
    } finally {
      if (!closed) await platform.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a launcher killed by SIGKILL takes its service processes with it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-multi-'));
  const script = `import { startMultiProcess } from ${JSON.stringify(new URL('../../src/runtime/multi-process.ts', import.meta.url).pathname)};
const p = await startMultiProcess({ dataDir: ${JSON.stringify(dir)}, devices: 0, ports: 'any', logLevel: 'silent', terminals: false });
process.stdout.write(JSON.stringify(p.processes.map((x) => x.pid)) + '\\n');`;
  const launcher = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = (await once(launcher.stdout!, 'data')) as [Buffer];
    const pids = JSON.parse(chunk.toString()) as number[];
    assert.equal(pids.length, 4);
    launcher.kill('SIGKILL');
    await once(launcher, 'exit');
    // Each service sees its stdin close and stops: wait until each is gone (ESRCH), yielding to the event loop.
    for (const pid of pids) {
      while (alive(pid)) await new Promise((r) => setImmediate(r));
    }
  } finally {
    launcher.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
