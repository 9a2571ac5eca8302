/**
 * runtime/service-main.ts: issuer, provider, OTA and CA each in its own process (issue 8 §6's building block),
 * wired only by the peers' URLs on their command lines and the internal CA in the data folder; each prints its
 * URL as one JSON line, answers over mutual TLS, and exits 0 on SIGTERM. Bad arguments exit 2 with a message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PlatformClient, RemoteProblemError } from '../../src/platform/http/client.ts';
import { ensureCa } from '../../src/platform/tls/ca.ts';
import { ensureIdentity } from '../../src/platform/tls/issue.ts';
import { mutualTlsAgent } from '../../src/platform/tls/options.ts';
import { ensureProviderCas, registerProvider } from '../../src/runtime/index.ts';

const MAIN = new URL('../../src/runtime/service-main.ts', import.meta.url).pathname;

interface Child {
  readonly proc: ChildProcess;
  readonly line: Record<string, string>;
}

async function start(args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: proc.stdout! });
  const first = new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${stderr}`)));
  });
  return { proc, line: JSON.parse(await first) as Record<string, string> };
}

async function stop(c: Child): Promise<number | null> {
  if (c.proc.exitCode !== null) return c.proc.exitCode;
  const exited = once(c.proc, 'exit');
  c.proc.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

test('issuer, provider, OTA and CA in four processes reach each other by URL', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-procs-'));
  const children: Child[] = [];
  try {
    const tlsDir = join(dir, 'tls');
    const ca = await ensureCa(tlsDir);
    const operatorAgent = mutualTlsAgent(await ensureIdentity(tlsDir, ca, { commonName: 'operator', usage: 'client' }));
    try {
      const common = ['--data', dir, '--log-level', 'silent'];
      const ota = await start(['ota', ...common]);
      children.push(ota);
      assert.equal(ota.line.service, 'ota');
      assert.match(ota.line.url!, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(ota.line.ramUrl!, /^https:\/\/127\.0\.0\.1:\d+\/ram$/);
      const caProc = await start(['ca', ...common]);
      children.push(caProc);
      const cas = await ensureProviderCas(dir, 'bank', new PlatformClient({ baseUrl: caProc.line.url!, agent: operatorAgent }));
      const issuer = await start(['issuer', ...common, '--ota-admin', ota.line.url!]);
      children.push(issuer);
      const provider = await start(['provider', ...common, '--provider-id', 'bank', '--issuer', issuer.line.url!, '--ota-admin', ota.line.url!, '--ca', caProc.line.url!, '--cas-scp11', cas.scp11!, '--cas-scp10', cas.scp10!, '--no-terminals']);
      children.push(provider);

      const op = (url: string) => new PlatformClient({ baseUrl: url, agent: operatorAgent });
      await registerProvider(op(issuer.line.url!), 'bank');
      const cardId = '8988210000000000009F';
      // provider process → issuer process: the issuer's own answer comes back (remote: true).
      await assert.rejects(
        op(provider.line.url!).post(`/v1/cards/${cardId}/ssds`, { body: { aid: 'A0000001515350410001', privileges: [], route: { kind: 'ota' } }, idempotencyKey: 'procs-1' }),
        (e: unknown) => e instanceof RemoteProblemError && e.status === 404 && e.problem?.remote === true && e.problem.detail === `remote platform: unknown card ${cardId}`,
      );
      // operator → OTA process: a device registers.
      const reg = await op(ota.line.url!).post<{ deviceId: string }>('/v1/devices', {
        body: { deviceId: cardId, pskIdentity: `psk-${cardId}`, psk: '8F3A61C2D94E07B5A1C3E5F70921B4D6', agentId: `//se-id/iccid/${cardId}` },
        idempotencyKey: 'procs-dev-1',
      });
      assert.equal(reg.status, 201);
    } finally {
      operatorAgent.destroy();
    }
    for (const c of children.reverse()) assert.equal(await stop(c), 0, `${c.line.service} exit code`);
    children.length = 0;
  } finally {
    for (const c of children) c.proc.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad arguments: exit 2 and say why', async () => {
  for (const [args, message] of [
    [['nope', '--data', '/tmp/x'], /one service: ota, ca, issuer, provider/],
    [['issuer', '--data', '/tmp/x'], /--ota-admin is required/],
    [['ca', '--data', '/tmp/x', '--port', '70000'], /--port: a port 0\.\.65535/],
  ] as const) {
    const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(proc, 'exit')) as [number | null];
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr, message);
  }
});
