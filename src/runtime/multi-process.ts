/**
 * `startMultiProcess(options)`: the platform the way production runs it (issue 8 §6; docs/architecture.md §3
 * runtime/) — the OTA server, the CA service, the issuer and the provider each in its own Node process
 * (service-main.ts, started with this process's `process.execPath`), the phones in this process, woken by the
 * OTA process's push triggers over IPC (the simulated SMS gateway; default) or by HTTPS long poll. The counterpart of startPlatform (one process); it returns the same kind of handle: URLs, the
 * operator's clients, the phones.
 *
 * What two processes must not race on is made here first, once: the internal TLS CA and the operator's
 * certificate, the keystore's KEK, the provider's CAs at the CA service, and every database's migrations (each
 * service is started after the one before it is listening). The provider's port is chosen before the issuer
 * starts, since each needs the other's URL. `close()` stops the phones, then sends SIGTERM to each service
 * (provider, issuer, CA, OTA) and waits for it to exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { PlatformConfig } from '../platform/config/config.ts';
import { PlatformClient } from '../platform/http/client.ts';
import { FileKeyStore } from '../platform/keystore/file-kek.ts';
import { ensureCa, type CertificateAuthority } from '../platform/tls/ca.ts';
import { ensureIdentity } from '../platform/tls/issue.ts';
import { mutualTlsAgent } from '../platform/tls/options.ts';
import type { DeviceFleet } from '../device/fleet.ts';
import type { ProviderCas } from '../services/provider/service.ts';
import { ensureProviderCas } from './ca.ts';
import { PLATFORM_FORMAT, writeDescriptor } from './descriptor.ts';
import { ensurePhones } from './fleet.ts';
import { isPushMessage, PushRelay } from './ipc-push.ts';
import { runLongPollPhones, runRelayedPhones } from './long-poll-phones.ts';
import { platformConfig, type PlatformUrls } from './peers.ts';
import { PhoneSaver, type PhoneRecord } from './phones.ts';
import { registerPhones, registerProvider, type OperatorClients } from './registration.ts';
import type { ServiceKind } from './service-main.ts';
import type { PushTrigger } from '../transport/ram-http/trigger.ts';

import type { PlatformOptions } from './platform.ts';

const SERVICE_MAIN = new URL('./service-main.ts', import.meta.url).pathname;

/** The options of `startPlatform` that mean the same here (phones run in this process, woken as `wake` says). */
export interface MultiProcessOptions
  extends Pick<PlatformOptions, 'dataDir' | 'devices' | 'database' | 'ports' | 'logLevel' | 'providerId' | 'persistPhones' | 'phones' | 'terminals' | 'registrationConcurrency'> {
  /** How the OTA process wakes the phones: triggers over IPC to this process (default) or HTTPS long poll. */
  readonly wake?: 'ipc' | 'long-poll';
  /** With wake 'ipc': every trigger to this function instead of the phones here (phones run by another process). */
  readonly onPush?: (trigger: PushTrigger) => void;
  /** Extra Node options for the service processes (e.g. `--cpu-prof`). */
  readonly nodeOptions?: readonly string[];
  readonly onProgress?: (message: string) => void;
}

export interface ServiceProcess {
  readonly kind: ServiceKind;
  readonly pid: number;
  readonly line: Readonly<Record<string, string>>;
}

export interface MultiProcessPlatform {
  readonly config: PlatformConfig;
  readonly dataDir: string;
  readonly providerId: string;
  readonly urls: PlatformUrls;
  readonly ca: CertificateAuthority;
  readonly providerCas: ProviderCas;
  readonly processes: readonly ServiceProcess[];
  readonly fleet: DeviceFleet | undefined;
  readonly phones: readonly PhoneRecord[];
  readonly manufactured: number;
  readonly operator: OperatorClients;
  /** Push triggers from the OTA process (wake 'ipc'): subscribe a phone, e.g. one run by another process. */
  readonly pushes: PushRelay;
  /** Each stopped service's peak RSS in KiB (from the line it prints when it exits). */
  readonly peakRssKb: ReadonlyMap<ServiceKind, number>;
  /** Stop the phones, then every service. */
  close(): Promise<void>;
}

interface Child {
  readonly kind: ServiceKind;
  readonly proc: ChildProcess;
  readonly line: Record<string, string>;
  stderr(): string;
  peakRssKb: number | undefined;
}

/** A free TCP port on `host` (the kernel's choice, released at once). */
export async function freePort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function spawnService(kind: ServiceKind, args: readonly string[], nodeOptions: readonly string[], onMessage?: (m: unknown) => void): Promise<Child> {
  // stdin a pipe that is never written: it closes when this process dies, and the service with it.
  const proc = spawn(process.execPath, [...nodeOptions, SERVICE_MAIN, kind, ...args, '--exit-with-parent'], {
    stdio: onMessage !== undefined ? ['pipe', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe'],
    ...(onMessage !== undefined ? { serialization: 'advanced' as const } : {}),
  });
  if (onMessage !== undefined) proc.on('message', onMessage);
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8192);
  });
  const lines = createInterface({ input: proc.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${kind} process exited ${code} before it was ready: ${stderr.trim()}`));
    proc.once('exit', onExit);
    lines.once('line', (l) => {
      proc.off('exit', onExit);
      resolve(l);
    });
  });
  const child: Child = { kind, proc, line: JSON.parse(first) as Record<string, string>, stderr: () => stderr, peakRssKb: undefined };
  // Later stdout: the exit report (peak RSS), or logs passed through.
  lines.on('line', (l) => {
    const m = /^\{"stopped":true,"maxRssKb":(\d+)\}$/.exec(l);
    if (m) child.peakRssKb = Number(m[1]);
    else process.stdout.write(`[${kind}] ${l}\n`);
  });
  return child;
}

async function stopService(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = once(c.proc, 'exit');
  const drained = once(c.proc.stdout!, 'close'); // its exit report read
  c.proc.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  await drained;
  if (code !== 0) throw new Error(`${c.kind} process (pid ${c.proc.pid}) exited ${code}: ${c.stderr().trim()}`);
}

export async function startMultiProcess(options: MultiProcessOptions): Promise<MultiProcessPlatform> {
  const devices = options.devices ?? 10;
  if (!Number.isInteger(devices) || devices < 0 || devices > 100_000) throw new RangeError('devices must be an integer 0..100000');
  const providerId = options.providerId ?? 'bank';
  const progress = options.onProgress ?? (() => undefined);
  const logLevel = options.logLevel ?? 'warn';
  const config = platformConfig({ dataDir: options.dataDir, logLevel, ...(options.database !== undefined ? { database: options.database } : {}) }, {});
  const any = options.ports === 'any';
  const host = (s: keyof PlatformConfig['services']) => config.services[s].host;
  const portArg = (s: keyof PlatformConfig['services']) => String(any ? 0 : config.services[s].port);
  const nodeOptions = options.nodeOptions ?? [];

  // Made once, before any service process: they would race on these files.
  const ca = await ensureCa(config.tlsDir);
  await FileKeyStore.open(config.kekFile);
  const operatorAgent = mutualTlsAgent(await ensureIdentity(config.tlsDir, ca, { commonName: 'operator', usage: 'client' }));

  const wake = options.wake ?? 'ipc';
  const pushes = new PushRelay();
  const children: Child[] = [];
  const peakRssKb = new Map<ServiceKind, number>();
  let phonesStop: (() => Promise<void>) | undefined;
  let removeDescriptor: (() => Promise<void>) | undefined;
  const closeAll = async () => {
    const errors: unknown[] = [];
    try {
      await removeDescriptor?.();
      await phonesStop?.();
    } catch (e) {
      errors.push(e);
    }
    for (const c of children.reverse()) {
      try {
        await stopService(c);
        if (c.peakRssKb !== undefined) peakRssKb.set(c.kind, c.peakRssKb);
      } catch (e) {
        errors.push(e);
      }
    }
    children.length = 0;
    operatorAgent.destroy();
    if (errors.length > 0) throw errors[0];
  };
  try {
    const db = config.database.driver === 'postgres' ? config.database.url : 'sqlite';
    const common = ['--data', options.dataDir, '--db', db, '--log-level', logLevel];
    const start = async (kind: ServiceKind, args: string[], onMessage?: (m: unknown) => void) => {
      progress(`starting the ${kind} process`);
      const c = await spawnService(kind, [...common, ...args], nodeOptions, onMessage);
      children.push(c);
      return c.line;
    };
    const ota = await start(
      'ota',
      ['--host', host('ota'), '--port', portArg('ota'), '--admin-port', portArg('ota-admin'), '--script-caller', 'issuer', '--script-caller', providerId, '--push', wake],
      wake === 'ipc' ? (m) => (isPushMessage(m) ? (options.onPush ?? ((t) => pushes.deliver(t)))(m.trigger) : undefined) : undefined,
    );
    const caLine = await start('ca', ['--host', host('ca'), '--port', portArg('ca')]);
    const operatorCa = new PlatformClient({ baseUrl: caLine.url!, agent: operatorAgent });
    const providerCas = await ensureProviderCas(options.dataDir, providerId, operatorCa);
    // Issuer and provider each call the other: the provider's port is chosen first.
    const providerHost = host('provider');
    const providerPort = any ? await freePort(providerHost) : config.services.provider.port;
    const providerUrl = `https://${providerHost.includes(':') ? `[${providerHost}]` : providerHost}:${providerPort}`;
    const terminals = options.terminals !== false;
    const issuer = await start('issuer', ['--host', host('issuer'), '--port', portArg('issuer'), '--ota-admin', ota.url!, ...(terminals ? ['--provider', providerUrl] : [])]);
    const provider = await start('provider', [
      '--host', providerHost, '--port', String(providerPort), '--provider-id', providerId,
      '--issuer', issuer.url!, '--ota-admin', ota.url!, '--ca', caLine.url!,
      ...(providerCas.scp11 !== undefined ? ['--cas-scp11', providerCas.scp11] : []),
      ...(providerCas.scp10 !== undefined ? ['--cas-scp10', providerCas.scp10] : []),
      ...(terminals ? [] : ['--no-terminals']),
    ]);

    const operator: OperatorClients = {
      ca: operatorCa,
      issuer: new PlatformClient({ baseUrl: issuer.url!, agent: operatorAgent }),
      provider: new PlatformClient({ baseUrl: provider.url!, agent: operatorAgent }),
      ota: new PlatformClient({ baseUrl: ota.url!, agent: operatorAgent }),
    };
    await registerProvider(operator.issuer, providerId);
    const phoneDir = options.persistPhones !== false ? options.dataDir : undefined;
    const set = await ensurePhones(devices, phoneDir);
    const unregistered = set.phones.filter((p) => !p.registered.issuer || !p.registered.ota).length;
    if (unregistered > 0) progress(`registering ${unregistered} phone(s) with the issuer and the OTA server`);
    await registerPhones(operator, set.phones, {
      ...(options.registrationConcurrency !== undefined ? { concurrency: options.registrationConcurrency } : {}),
      ...(phoneDir !== undefined ? { dataDir: phoneDir } : {}),
    });
    let fleet: DeviceFleet | undefined;
    if (options.phones !== 'none') {
      const saver = phoneDir !== undefined ? new PhoneSaver(phoneDir) : undefined;
      const cardOf = (p: PhoneRecord) => {
        const card = set.cards.get(p.iccid)!;
        saver?.watch(p, card);
        return card;
      };
      const running = wake === 'ipc' ? runRelayedPhones(set.phones, cardOf, ota.ramUrl!, pushes) : runLongPollPhones(set.phones, cardOf, ota.ramUrl!);
      fleet = running.fleet;
      phonesStop = async () => {
        await running.stop();
        await saver?.flush();
      };
    }

    const urls: PlatformUrls = { issuer: issuer.url!, provider: provider.url!, otaAdmin: ota.url!, ota: ota.ramUrl!, ca: caLine.url!, ...(terminals ? { terminals: provider.url! } : {}) };
    removeDescriptor = await writeDescriptor(options.dataDir, {
      format: PLATFORM_FORMAT,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      providerId,
      urls,
      database: config.database,
      devices: set.phones.map((p) => p.iccid),
    });
    let closed: Promise<void> | undefined;
    return {
      config,
      dataDir: options.dataDir,
      providerId,
      urls,
      ca,
      providerCas,
      processes: children.map((c) => ({ kind: c.kind, pid: c.proc.pid!, line: c.line })),
      fleet,
      phones: set.phones,
      manufactured: set.manufactured,
      operator,
      pushes,
      peakRssKb,
      close: () => (closed ??= closeAll()),
    };
  } catch (e) {
    await closeAll().catch(() => undefined);
    throw e;
  }
}
