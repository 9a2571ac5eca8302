/**
 * Acceptance test of the GlobalPlatform core through a REAL pcscd: `opentsm card serve --vpcd` runs as its
 * own process; `opensc-tool` (an independent PC/SC program) selects the ISD; `opentsm gp --reader pcsc`
 * opens SCP03 (and SCP02 on an SCP02 card), lists the registry, creates a domain — and the state file
 * keeps it across a restart of the card process.
 *
 * Skipped (with the reason) where pcscd/vpcd/opensc are missing, unless OPENTSM_REQUIRE_PCSCD=1
 * (set by .ci/run), where a missing dependency fails the test instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcscdUnavailableReason, startPcscd, type PcscdHandle } from '../transport/pcscd-harness.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const required = process.env.OPENTSM_REQUIRE_PCSCD === '1';
const missing =
  pcscdUnavailableReason() ??
  (existsSync('/usr/include/PCSC/winscard.h') ? undefined : 'libpcsclite-dev is not installed') ??
  (existsSync('/usr/bin/opensc-tool') ? undefined : 'opensc (opensc-tool) is not installed');
const skip = required ? false : missing;

function run(file: string, args: readonly string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const opentsm = (...args: string[]) => run(process.execPath, [MAIN, ...args], 60_000);

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await attempt().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Served {
  readonly child: ChildProcess;
  readonly log: () => string;
  stop(): Promise<void>;
}

function serve(port: number, state: string, scp: '02' | '03'): Served {
  const child = spawn(process.execPath, [MAIN, 'card', 'serve', '--vpcd', `127.0.0.1:${port}`, '--state', state, '--scp', scp], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Wait until opensc-tool sees a card in reader 0 and answers the ISD SELECT. */
async function selectIsdWithOpensc(): Promise<string> {
  return until('opensc-tool SELECT of the ISD', 20_000, async () => {
    const r = await run('opensc-tool', ['-r', '0', '-s', '00A4040008A000000151000000']);
    return r.code === 0 && r.stdout.includes('Received') ? r.stdout : undefined;
  });
}

test('opentsm card serve --vpcd + real pcscd: opensc-tool and opentsm gp --reader pcsc', { skip, timeout: 240_000 }, async (t) => {
  if (missing) assert.fail(`OPENTSM_REQUIRE_PCSCD=1 but ${missing}`);
  const dir = mkdtempSync(join(tmpdir(), 'opentsm-e2e-'));
  let pcscd: PcscdHandle | undefined;
  let card: Served | undefined;
  try {
    pcscd = await startPcscd();
    const state03 = join(dir, 'scp03.json');
    card = serve(pcscd.vpcdPort, state03, '03');

    await t.test('opensc-tool -r 0 -s 00A4040008A000000151000000 answers 9000', async () => {
      const out = await selectIsdWithOpensc();
      assert.match(out, /^Sending: 00 A4 04 00 08 A0 00 00 01 51 00 00 00 \nReceived \(SW1=0x90, SW2=0x00\)/);
    });

    await t.test('opentsm gp --reader pcsc --list opens SCP03 and lists the registry', async () => {
      const r = await opentsm('gp', '--reader', 'pcsc', '--list');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^# PC\/SC reader Virtual PCD 00 00, ATR 3B/m);
      assert.match(r.stdout, /^# SCP03 i=70 KVN 30 security level 01 with A000000151000000$/m);
      assert.match(r.stdout, /^ISD: A000000151000000 \(SECURED\)$/m);
      assert.match(r.stdout, /^PKG: A0000001515350 \(LOADED\)$/m);
    });

    await t.test('create a domain over pcscd at level 33; the state file keeps it across a restart', async () => {
      const created = await opentsm('gp', '--reader', 'pcsc', '--sec', 'renc', '--create-domain', 'A0000001515350415344', '--privs', 'sd,dm');
      assert.equal(created.code, 0, created.stderr);
      assert.match(readFileSync(state03, 'utf8'), /A0000001515350415344/i);
      await card!.stop();
      card = serve(pcscd!.vpcdPort, state03, '03');
      await selectIsdWithOpensc();
      const r = await opentsm('gp', '--reader', 'pcsc', '--list');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^SSD: A0000001515350415344 \(SELECTABLE\)$/m);
      assert.match(r.stdout, /Privs: {3}Security Domain, Delegated Management/);
    });

    await t.test('card serve reconnects after pcscd restarts', { skip: pcscd.started ? false : 'pcscd was not started by this test' }, async () => {
      await pcscd!.restart();
      await selectIsdWithOpensc();
      const r = await opentsm('gp', '--reader', 'pcsc', '--list');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^SSD: A0000001515350415344 \(SELECTABLE\)$/m);
      assert.equal(card!.child.exitCode, null, 'the card process kept running');
    });

    await t.test('an SCP02 card: opentsm gp --reader pcsc --list opens SCP02', async () => {
      await card!.stop();
      card = serve(pcscd!.vpcdPort, join(dir, 'scp02.json'), '02');
      await selectIsdWithOpensc();
      const r = await opentsm('gp', '--reader', 'pcsc', '--list');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^# SCP02 i=55 KVN 20 security level 01 with A000000151000000$/m);
      assert.match(r.stdout, /^ISD: A000000151000000 \(SECURED\)$/m);
    });

    await t.test('wrong keys: the card refuses, opentsm says so and exits 1', async () => {
      const r = await opentsm('gp', '--reader', 'pcsc', '--key', '00112233445566778899AABBCCDDEEFF', '--list');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^opentsm gp: secure channel: .*card cryptogram/im);
    });
  } catch (e) {
    t.diagnostic(`card serve output:\n${card?.log() ?? ''}\npcscd output:\n${pcscd?.log() ?? ''}`);
    throw e;
  } finally {
    await card?.stop();
    await pcscd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
