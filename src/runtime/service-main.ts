/**
 * One service of the platform in this process (docs/architecture.md §3 runtime/: "one service per process"; issue 8
 * §6 runs issuer, provider, OTA and CA each in its own process). The building block of a multi-process
 * launcher:
 *
 *   node src/runtime/service-main.ts <ota|ca|issuer|provider> --data DIR [--db sqlite|postgres://…]
 *        [--host H] [--port N] [--admin-port N (ota)] [--log-level L]
 *        [--ota-admin URL] [--issuer URL] [--provider URL] [--ca URL]        the peers this service calls
 *        [--provider-id ID] [--cas-scp11 ID] [--cas-scp10 ID] [--script-caller CN …] [--no-terminals]
 *        [--exit-with-parent (stop when stdin, a pipe from the launcher, closes)]
 *        [--push long-poll|ipc (ota: how phones are woken; ipc hands triggers to the parent process)]
 *
 * Every certificate comes from the platform's internal CA in `DIR/tls` (the launcher creates it first). When the
 * service listens, one JSON line goes to stdout: `{"service":…,"url":…}` (the OTA adds `ramUrl`); SIGTERM or
 * SIGINT close it, it prints `{"stopped":true,"maxRssKb":N}` (its peak RSS) and the process exits 0. The OTA wakes phones in other processes by long poll
 * (LongPollPushGateway), or hands triggers to its parent over IPC (`--push ipc`): no phone runs here.
 */
import { parseArgs } from 'node:util';
import type { ListenConfig, ServiceName } from '../platform/config/config.ts';
import { LOG_LEVELS, type LogLevel } from '../platform/log/logger.ts';
import { LongPollPushGateway } from '../services/ota/push-long-poll.ts';
import { runCa } from './ca.ts';
import { ParentPushGateway } from './ipc-push.ts';
import { runIssuer } from './issuer.ts';
import { runOta } from './ota.ts';
import { platformConfig } from './peers.ts';
import { runProvider } from './provider.ts';

export const SERVICE_KINDS = ['ota', 'ca', 'issuer', 'provider'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export interface RunningService {
  readonly line: Record<string, string>;
  close(): Promise<void>;
}

function need(v: string | undefined, name: string): string {
  if (v === undefined || v === '') throw new Error(`--${name} is required for this service`);
  return v;
}

function port(v: string | undefined, name: string): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name}: a port 0..65535`);
  return n;
}

/** Parse `argv` (without node and the script) and start the service it names. */
export async function startServiceFromArgs(argv: readonly string[]): Promise<RunningService> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      data: { type: 'string' },
      db: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'admin-port': { type: 'string' },
      'log-level': { type: 'string' },
      'ota-admin': { type: 'string' },
      issuer: { type: 'string' },
      provider: { type: 'string' },
      ca: { type: 'string' },
      'provider-id': { type: 'string' },
      'cas-scp11': { type: 'string' },
      'cas-scp10': { type: 'string' },
      'script-caller': { type: 'string', multiple: true },
      'no-terminals': { type: 'boolean' },
      push: { type: 'string' },
      'exit-with-parent': { type: 'boolean' },
    },
  });
  const kind = positionals[0] as ServiceKind | undefined;
  if (positionals.length !== 1 || kind === undefined || !SERVICE_KINDS.includes(kind)) throw new Error(`one service: ${SERVICE_KINDS.join(', ')}`);
  const logLevel = (values['log-level'] ?? 'warn') as LogLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new Error(`--log-level: one of ${LOG_LEVELS.join(', ')}`);
  const db = values.db;
  const database = db === undefined || db === 'sqlite' ? undefined : /^postgres(ql)?:\/\/\S+$/.test(db) ? { driver: 'postgres' as const, url: db } : undefined;
  if (db !== undefined && db !== 'sqlite' && database === undefined) throw new Error('--db: sqlite or a postgres:// URL');
  const host = values.host ?? '127.0.0.1';
  const listen: Partial<Record<ServiceName, ListenConfig>> =
    kind === 'ota'
      ? { ota: { host, port: port(values.port, 'port') }, 'ota-admin': { host, port: port(values['admin-port'], 'admin-port') } }
      : { [kind]: { host, port: port(values.port, 'port') } };
  const config = platformConfig({ dataDir: need(values.data, 'data'), logLevel, ...(database !== undefined ? { database } : {}) }, listen);
  const providerId = values['provider-id'] ?? 'bank';
  switch (kind) {
    case 'ota': {
      const push = values.push ?? 'long-poll';
      if (push !== 'long-poll' && push !== 'ipc') throw new Error('--push: long-poll or ipc');
      if (push === 'ipc' && process.send === undefined) throw new Error('--push ipc needs an IPC channel to the parent');
      const s = await runOta(config, { scriptCallers: values['script-caller'] ?? ['issuer', providerId], push: push === 'ipc' ? new ParentPushGateway() : new LongPollPushGateway() });
      return { line: { service: kind, url: s.adminUrl, ramUrl: s.ramUrl }, close: () => s.close() };
    }
    case 'ca': {
      const s = await runCa(config);
      return { line: { service: kind, url: s.url }, close: () => s.close() };
    }
    case 'issuer': {
      const provider = values.provider;
      const s = await runIssuer(config, { otaAdmin: need(values['ota-admin'], 'ota-admin'), ...(provider !== undefined ? { provider } : {}) });
      return { line: { service: kind, url: s.url }, close: () => s.close() };
    }
    case 'provider': {
      const cas = { ...(values['cas-scp11'] !== undefined ? { scp11: values['cas-scp11'] } : {}), ...(values['cas-scp10'] !== undefined ? { scp10: values['cas-scp10'] } : {}) };
      const s = await runProvider(
        config,
        { issuer: need(values.issuer, 'issuer'), otaAdmin: need(values['ota-admin'], 'ota-admin'), ca: need(values.ca, 'ca') },
        { providerId, cas, ...(values['no-terminals'] === true ? { terminals: false } : {}) },
      );
      return { line: { service: kind, url: s.url }, close: () => s.close() };
    }
  }
}

if (import.meta.main) {
  try {
    const running = await startServiceFromArgs(process.argv.slice(2));
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      running.close().then(
        () => process.stdout.write(JSON.stringify({ stopped: true, maxRssKb: process.resourceUsage().maxRSS }) + '\n', () => process.exit(0)),
        (e: unknown) => {
          process.stderr.write(`closing failed: ${String(e)}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // The line goes out only once the handlers are in: a launcher may send SIGTERM as soon as it reads it.
    process.stdout.write(JSON.stringify(running.line) + '\n');
    // Started with `--exit-with-parent` and stdin a pipe from the launcher: the pipe closes when the launcher dies
    // (even by SIGKILL), and the service stops with it instead of living on as an orphan.
    if (process.argv.includes('--exit-with-parent')) {
      process.stdin.on('end', stop);
      process.stdin.on('error', stop);
      process.stdin.resume();
    }
  } catch (e) {
    process.stderr.write(`service-main: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
}
