/**
 * `opentsm up [--data DIR] [--devices N] [--db sqlite|postgres://…] [--log-level L] [--processes]`: start the
 * whole platform (OTA server, issuer, provider with its terminal relay, N simulated phones) in this process —
 * or, with --processes, each service in its own process (runtime/multi-process.ts, issue 8 §6) and the phones
 * here — print where it listens, and run until SIGINT/SIGTERM, then close everything cleanly. State persists
 * in DIR.
 */
import { resolve } from 'node:path';
import { formatOptions, parseArgs, parseIntArg, type OptionSpec } from './args.ts';
import { UsageError } from './errors.ts';
import { startPlatform, PLATFORM_FILE } from '../runtime/index.ts';
import { startMultiProcess } from '../runtime/multi-process.ts';
import { LOG_LEVELS, type LogLevel } from '../platform/log/logger.ts';
import type { DatabaseSettings } from '../platform/config/config.ts';

export const DEFAULT_DATA_DIR = 'opentsm-data';
export const READY_LINE = 'opentsm: platform ready';

const SPECS: readonly OptionSpec[] = [
  { name: 'data', kind: 'value', valueName: 'DIR', help: `data folder (databases, KEK, TLS, phones; default ./${DEFAULT_DATA_DIR})` },
  { name: 'devices', kind: 'value', valueName: 'N', help: 'simulated phones (default 10; missing ones are manufactured)' },
  { name: 'db', kind: 'value', valueName: 'sqlite|URL', help: 'sqlite (default: files in DIR) or postgres://user@host/db' },
  { name: 'log-level', kind: 'value', valueName: 'LEVEL', help: `service logs on stdout: ${LOG_LEVELS.join(', ')} (default warn)` },
  { name: 'processes', kind: 'flag', help: 'run OTA, CA, issuer and provider each in its own process (phones here, woken by long poll)' },
  { name: 'any-ports', kind: 'flag', help: 'listen on free ports instead of 7101… (the URLs are printed and in DIR/platform.json)' },
  { name: 'help', kind: 'flag', help: 'this text' },
];

export const UP_USAGE = `usage: opentsm up [options]

Starts every service of the platform plus N simulated phones in one process (with --processes: one process
per service, as in production): the OTA server (RAM over HTTP on
PSK-TLS, admin API on mutual TLS), the issuer, the provider and its terminal relay, with certificates from an
internal CA made at first start in DIR/tls. First start manufactures the phones and registers them with the
issuer and the OTA server. Runs until Ctrl-C (SIGINT) or SIGTERM. Then: opentsm scenario run ota-ssd --platform DIR

${formatOptions(SPECS)}
`;

/** --db: 'sqlite' or a postgres URL. */
export function parseDb(value: string): DatabaseSettings | undefined {
  if (value === 'sqlite') return undefined;
  if (/^postgres(ql)?:\/\/\S+$/.test(value)) return { driver: 'postgres', url: value };
  throw new UsageError('BAD_VALUE', `--db: expected sqlite or a postgres:// URL, got ${JSON.stringify(value.slice(0, 80))}`);
}

export function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined) return 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new UsageError('BAD_VALUE', `--log-level: one of ${LOG_LEVELS.join(', ')}`);
  return value as LogLevel;
}

export async function runUp(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPECS);
  if (args.flags.has('help')) {
    process.stdout.write(UP_USAGE);
    return 0;
  }
  if (args.positional.length > 0) throw new UsageError('BAD_VALUE', `unexpected argument: ${args.positional[0]} (see opentsm up --help)`);
  const dataDir = resolve(args.values.get('data') ?? DEFAULT_DATA_DIR);
  const devices = parseIntArg(args.values.get('devices') ?? '10', 'devices', 0, 100_000);
  const db = args.values.has('db') ? parseDb(args.values.get('db')!) : undefined;
  const logLevel = parseLogLevel(args.values.get('log-level'));
  const out = (s: string) => process.stdout.write(s + '\n');

  out(`opentsm: starting the platform in ${dataDir}`);
  const t0 = performance.now();
  const options = {
    dataDir,
    devices,
    logLevel,
    ...(args.flags.has('any-ports') ? { ports: 'any' as const } : {}),
    ...(db !== undefined ? { database: db } : {}),
    onProgress: (m: string) => out(`opentsm: ${m}`),
  };
  const platform = args.flags.has('processes') ? await startMultiProcess(options) : await startPlatform(options);
  const u = platform.urls;
  out(`  data folder     ${dataDir}  (${PLATFORM_FILE} describes this platform)`);
  out(`  database        ${platform.config.database.driver === 'sqlite' ? `sqlite, ${platform.config.database.path}` : 'postgres'}`);
  out(`  issuer          ${u.issuer}   (mutual TLS)`);
  out(`  provider        ${u.provider}   (mutual TLS, provider id ${platform.providerId})`);
  if (u.terminals) out(`  terminal relay  ${u.terminals}   (business terminals, mutual TLS)`);
  out(`  OTA admin API   ${u.otaAdmin}   (mutual TLS)`);
  out(`  OTA RAM/HTTP    ${u.ota}   (PSK-TLS, phones' admin agents)`);
  out(`  CA              ${u.ca}   (mutual TLS; provider CAs ${platform.providerCas.scp11} SCP11, ${platform.providerCas.scp10} SCP10)`);
  out(`  phones          ${platform.phones.length} (${platform.manufactured} manufactured now)`);
  if ('processes' in platform) out(`  processes       ${platform.processes.map((p) => `${p.kind} ${p.pid}`).join(', ')}`);
  out(`  certificates    ${platform.config.tlsDir} (operator client certificate: operator.crt / operator.key)`);
  // The handlers go in before the ready line: a SIGTERM sent as soon as the line is read must find them, or
  // the default action kills the process mid-write (exit by signal, descriptor left behind).
  const stopped = new Promise<void>((done) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      out(`opentsm: ${signal}, stopping`);
      done();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  out(`${READY_LINE} in ${((performance.now() - t0) / 1000).toFixed(1)} s — Ctrl-C to stop`);

  await stopped;
  await platform.close();
  out('opentsm: platform stopped');
  return 0;
}
