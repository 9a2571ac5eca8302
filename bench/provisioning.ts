/**
 * SSD hand-overs per second through the real services (issue 8 §6): `POST /v1/cards/{id}/ssds` at the provider (mutual
 * TLS) → provider asks the issuer (mutual TLS) → the issuer creates the SSD through the ISD and delivers its
 * initial keys (OTA admin API, mutual TLS → RAM over HTTP on PSK-TLS → the phone's admin agent → simulated
 * card), extradites it, hands the keys over → the provider replaces them (again over OTA).
 *
 * --mode multi-process (default): OTA, CA, issuer and provider each in its own process (runtime/multi-process.ts),
 * the phones in a child process; the OTA process's push triggers come over IPC to this process, which passes
 * them to the phones' process (the SMS gateway of this bench); this process also sends the requests. --mode single: the
 * services in this process (startPlatform), the phones in a child process (push triggers over IPC standing in
 * for SMS) or in this one. Reports hand-overs/s, p50/p99 latency per hand-over and the peak RSS of each process.
 *
 *   npm run bench -- provisioning [--mode multi-process|single] [--db sqlite|postgres] [--devices 1000]
 *                                 [--seconds 10] [--concurrency 8] [--phones child|in-process] [--cpu-prof DIR]
 *                                 [--long-poll (phones woken by HTTPS long poll instead of push over IPC)]
 * PostgreSQL: the private cluster of scripts/postgres.sh (started when not running), a fresh database.
 * --cpu-prof DIR: V8 CPU profiles of the service processes (multi-process) written to DIR.
 */
import { fork, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform, PROVIDER_AID_PREFIX } from '../src/runtime/index.ts';
import { startMultiProcess } from '../src/runtime/multi-process.ts';
import { runLongPollPhones } from '../src/runtime/long-poll-phones.ts';
import { LongPollPushGateway } from '../src/services/ota/push-long-poll.ts';
import type { PhoneRecord } from '../src/runtime/index.ts';
import { SimulatedCard } from '../src/card/index.ts';
import { fromHex } from '../src/core/bytes.ts';
import { DeviceFleet } from '../src/device/fleet.ts';
import type { PushSubscription } from '../src/device/device.ts';
import type { DatabaseSettings } from '../src/platform/config/config.ts';
import { openDatabase } from '../src/platform/storage/open.ts';
import type { PushGateway } from '../src/services/ota/push.ts';
import type { PushTrigger } from '../src/transport/ram-http/trigger.ts';

const HERE = fileURLToPath(import.meta.url);

interface Options {
  mode: 'multi-process' | 'single';
  /** single mode: wake the phones by long poll instead of IPC (as multi-process does). */
  longPoll: boolean;
  cpuProf: string | undefined;
  db: 'sqlite' | 'postgres';
  devices: number;
  seconds: number;
  concurrency: number;
  phones: 'child' | 'in-process';
}

function parse(args: string[]): Options {
  const o: Options = { mode: 'multi-process', longPoll: false, cpuProf: undefined, db: 'sqlite', devices: 1000, seconds: 10, concurrency: 8, phones: 'child' };
  for (let i = 0; i < args.length; i++) {
    const [k, v] = [args[i], args[i + 1]];
    const num = (min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${k} needs an integer >= ${min}`);
      i++;
      return n;
    };
    if (k === '--mode' && (v === 'multi-process' || v === 'single')) (o.mode = v), i++;
    else if (k === '--long-poll') o.longPoll = true;
    else if (k === '--cpu-prof' && v !== undefined) (o.cpuProf = v), i++;
    else if (k === '--db' && (v === 'sqlite' || v === 'postgres')) (o.db = v), i++;
    else if (k === '--phones' && (v === 'child' || v === 'in-process')) (o.phones = v), i++;
    else if (k === '--devices') o.devices = num(1);
    else if (k === '--seconds') o.seconds = num(1);
    else if (k === '--concurrency') o.concurrency = num(1);
    else throw new Error(`unknown or bad argument ${k} (--mode multi-process|single, --db sqlite|postgres, --cpu-prof DIR, --devices N, --seconds N, --concurrency N, --phones child|in-process)`);
  }
  return o;
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Push triggers to the phones' process over IPC (the SMS gateway of this bench). */
class IpcPushGateway implements PushGateway {
  child: ChildProcess | undefined;
  push(trigger: PushTrigger): void {
    this.child?.send({ type: 'push', trigger });
  }
}

async function postgresUrl(): Promise<string> {
  const script = fileURLToPath(new URL('../scripts/postgres.sh', import.meta.url));
  const out = await new Promise<string>((resolve, reject) =>
    execFile('bash', [script, 'start'], { timeout: 300_000 }, (e, stdout, stderr) => (e ? reject(new Error(`postgres.sh start: ${stderr || e.message}`)) : resolve(stdout))),
  );
  const url = out.trim().split('\n').pop()!;
  const admin = await openDatabase({ driver: 'postgres', url, poolSize: 1 });
  try {
    await admin.execute('DROP DATABASE IF EXISTS opentsm_bench');
    await admin.execute('CREATE DATABASE opentsm_bench');
  } finally {
    await admin.close();
  }
  return url.replace(/\/[^/]*$/, '/opentsm_bench');
}

async function startPhones(platform: { urls: { ota: string }; phones: readonly PhoneRecord[] }, push: IpcPushGateway | 'long-poll'): Promise<{ child: ChildProcess; stop(): Promise<number> }> {
  const child = fork(HERE, ['--phones-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  if (push !== 'long-poll') push.child = child;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', (m: { type: string }) => (m.type === 'ready' ? resolve() : reject(new Error(String(m.type)))));
    child.once('exit', (c) => reject(new Error(`phones process exited ${c}`)));
  });
  child.send({ type: 'start', ramUrl: platform.urls.ota, phones: platform.phones, longPoll: push === 'long-poll' });
  await ready;
  return {
    child,
    stop: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m: { type: string; maxRssKb: number }) => resolve(m.maxRssKb));
        child.send({ type: 'stop' });
      }),
  };
}

/** The phones' process: a DeviceFleet whose push subscription is fed by the parent over IPC. */
function phonesChild(): void {
  const handlers = new Map<string, (t: PushTrigger) => void>();
  const push: PushSubscription = {
    subscribe(id, h) {
      handlers.set(id, h);
      return () => handlers.delete(id);
    },
  };
  let fleet: DeviceFleet | undefined;
  let stopLongPoll: (() => Promise<void>) | undefined;
  process.on('message', (m: { type: string; ramUrl?: string; phones?: PhoneRecord[]; trigger?: PushTrigger; longPoll?: boolean }) => {
    if (m.type === 'start' && m.longPoll === true) {
      const running = runLongPollPhones(m.phones!, (p) => SimulatedCard.fromState(p.cardState), m.ramUrl!);
      stopLongPoll = () => running.stop();
      process.send!({ type: 'ready' });
    } else if (m.type === 'start') {
      fleet = new DeviceFleet({ serverUrl: m.ramUrl!, push });
      for (const p of m.phones!) fleet.add({ id: p.iccid, card: SimulatedCard.fromState(p.cardState), pskIdentity: p.pskIdentity, psk: fromHex(p.psk), retryDelayMs: 20, maxRetries: 5 });
      process.send!({ type: 'ready' });
    } else if (m.type === 'push') {
      const h = handlers.get(m.trigger!.deviceId);
      if (h) queueMicrotask(() => h(m.trigger!));
    } else if (m.type === 'stop') {
      fleet?.stop();
      void (stopLongPoll?.() ?? Promise.resolve()).then(() => process.send!({ type: 'stopped', maxRssKb: process.resourceUsage().maxRSS }, () => process.exit(0)));
    }
  });
}

async function run(o: Options): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-bench-'));
  const database: DatabaseSettings | undefined = o.db === 'postgres' ? { driver: 'postgres', url: await postgresUrl(), poolSize: 16 } : undefined;
  const push = new IpcPushGateway();
  const t0 = performance.now();
  const common = { dataDir: dir, devices: o.devices, ports: 'any' as const, logLevel: 'silent' as const, persistPhones: false, terminals: false, registrationConcurrency: 32, ...(database !== undefined ? { database } : {}) };
  let platform: { urls: { ota: string }; phones: readonly PhoneRecord[]; operator: { provider: import('../src/platform/http/client.ts').PlatformClient }; close(): Promise<void> };
  let servicesRss: () => string;
  if (o.mode === 'multi-process') {
    const inProcess = o.phones === 'in-process' && !o.longPoll;
    const mp = await startMultiProcess({ ...common, phones: inProcess ? 'in-process' : 'none', ...(o.longPoll ? { wake: 'long-poll' as const } : inProcess ? {} : { onPush: (t) => push.push(t) }), ...(o.cpuProf !== undefined ? { nodeOptions: ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] } : {}) });
    platform = mp;
    servicesRss = () => [...mp.peakRssKb].map(([k, kb]) => `${k} ${(kb / 1024).toFixed(0)}`).join(', ') + ' MiB';
  } else {
    platform = await startPlatform({ ...common, ...(o.phones === 'child' ? { phones: 'none' as const, push: o.longPoll ? new LongPollPushGateway() : push } : {}) });
    servicesRss = () => `services ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`;
  }
  const phones = o.longPoll ? await startPhones(platform, 'long-poll') : o.phones === 'child' ? await startPhones(platform, push) : undefined;
  process.stdout.write(
    `platform up (${o.mode}) with ${o.devices} phones (${phones ? 'in a child process' : 'in process'}, ${o.longPoll ? 'long poll' : 'push over IPC'}) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${o.db}; ${o.concurrency} hand-overs at once\n`,
  );

  const ids = platform.phones.map((p) => p.iccid);
  let next = 0;
  const job = () => {
    const n = next++;
    const cardId = ids[n % ids.length]!;
    const aid = PROVIDER_AID_PREFIX + (0x1000 + Math.floor(n / ids.length)).toString(16).toUpperCase().padStart(4, '0');
    return { cardId, aid };
  };
  const handOver = async () => {
    const { cardId, aid } = job();
    const r = await platform.operator.provider.post<{ state: string }>(`/v1/cards/${cardId}/ssds`, {
      body: { aid, privileges: ['AuthorizedManagement'], route: { kind: 'ota' } },
      idempotencyKey: `bench-${cardId}-${aid}`,
    });
    if (r.status !== 201 || r.body.state !== 'provider-managed') throw new Error(`hand-over ${cardId} ${aid}: ${r.status} ${r.body.state}`);
  };
  // Warm-up (JIT, connections, TLS sessions), not measured.
  await Promise.all(Array.from({ length: Math.min(o.concurrency, ids.length) }, handOver));

  const latencies: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + o.seconds * 1000;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await handOver();
          latencies.push(performance.now() - t);
        } catch (e) {
          failures++;
          firstError ??= (e as Error).message;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const childRssKb = phones ? await phones.stop() : 0;
  await platform.close();
  const benchRss = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${o.mode} ${o.db.padEnd(8)} ${(latencies.length / elapsed).toFixed(1).padStart(6)} hand-overs/s  p50 ${pct(latencies, 50).toFixed(1)} ms  p99 ${pct(latencies, 99).toFixed(1)} ms  ` +
      `(${latencies.length} in ${elapsed.toFixed(1)} s, ${failures} failed${firstError ? `: ${firstError}` : ''})  ` +
      `peak RSS ${servicesRss()}${phones ? `, phones ${(childRssKb / 1024).toFixed(0)} MiB` : ''}${o.mode === 'multi-process' ? `, bench ${benchRss.toFixed(0)} MiB` : ''}\n`,
  );
  await rm(dir, { recursive: true, force: true });
}

export default async function (args: string[]): Promise<void> {
  await run(parse(args));
}

if (import.meta.main && process.argv.includes('--phones-child')) phonesChild();
