/**
 * The platform's one configuration object. Only the CLI builds it (from flags and environment) and passes it
 * in; protocol and service code never read `process.env`. `loadConfig` validates an untrusted object and
 * lists every bad field at once; missing fields get their defaults from `dataDir`.
 */
import { join } from 'node:path';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { LOG_LEVELS, type LogLevel } from '../log/logger.ts';
import type { DatabaseConfig } from '../storage/database.ts';

export const SERVICE_NAMES = [
  'issuer',
  'provider',
  'ota',
  'ota-admin',
  'escrow',
  'hub',
  'ca',
  'operator',
  'identity',
  'payments',
  'merchant',
  'terminal',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Where a service listens; port 0 asks the OS for a free port. */
export interface ListenConfig {
  readonly host: string;
  readonly port: number;
}

/**
 * sqlite: one file per service; `path` may contain `{service}` (default `<dataDir>/{service}.db`), or be
 * ':memory:'. postgres: one database, one schema per service (`issuer`, `ota_admin`, …).
 */
export type DatabaseSettings =
  | { readonly driver: 'sqlite'; readonly path: string }
  | { readonly driver: 'postgres'; readonly url: string; readonly poolSize?: number };

export interface PlatformConfig {
  readonly dataDir: string;
  readonly database: DatabaseSettings;
  /** The key-encryption key file of the keystore. Default `<dataDir>/kek.key`. */
  readonly kekFile: string;
  /** The internal CA and service certificates. Default `<dataDir>/tls`. */
  readonly tlsDir: string;
  readonly logLevel: LogLevel;
  /** Longest time a client may take to send a whole request to any service, in ms (then 408). Default 30 000. */
  readonly requestTimeoutMs: number;
  readonly services: Readonly<Record<ServiceName, ListenConfig>>;
}

/** Default ports: 7101… in SERVICE_NAMES order, on loopback. */
export const DEFAULT_PORT_BASE = 7101;

export function defaultConfig(dataDir: string): PlatformConfig {
  if (typeof dataDir !== 'string' || dataDir === '') throw new TypeError('dataDir must be a non-empty string');
  return loadConfig({ dataDir });
}

/** The storage driver configuration of one service. */
export function databaseConfig(config: PlatformConfig, service: ServiceName): DatabaseConfig {
  const db = config.database;
  if (db.driver === 'sqlite') return { driver: 'sqlite', path: db.path.replaceAll('{service}', service) };
  return {
    driver: 'postgres',
    url: db.url,
    schema: service.replaceAll('-', '_'),
    ...(db.poolSize === undefined ? {} : { poolSize: db.poolSize }),
  };
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const HOST = /^[A-Za-z0-9.:_[\]-]{1,253}$/;

/** Validate `input` into a frozen PlatformConfig; throws ConfigError listing every bad field. */
export function loadConfig(input: unknown): PlatformConfig {
  const issues: ConfigIssue[] = [];
  const bad = (path: string, message: string) => issues.push({ path, message });
  if (!isObject(input)) throw new ConfigError([{ path: '(root)', message: 'must be an object' }]);

  const known = new Set(['dataDir', 'database', 'kekFile', 'tlsDir', 'logLevel', 'requestTimeoutMs', 'services']);
  for (const k of Object.keys(input)) if (!known.has(k)) bad(k, 'unknown field');

  const path = (name: string, value: unknown, fallback: string | undefined): string => {
    if (value === undefined) {
      if (fallback === undefined) bad(name, 'is required');
      return fallback ?? '';
    }
    if (typeof value !== 'string' || value === '' || value.includes('\0')) {
      bad(name, 'must be a non-empty path');
      return '';
    }
    return value;
  };

  const dataDir = path('dataDir', input.dataDir, undefined);
  const kekFile = path('kekFile', input.kekFile, join(dataDir, 'kek.key'));
  const tlsDir = path('tlsDir', input.tlsDir, join(dataDir, 'tls'));

  let logLevel: LogLevel = 'info';
  if (input.logLevel !== undefined) {
    if (typeof input.logLevel === 'string' && (LOG_LEVELS as readonly string[]).includes(input.logLevel)) logLevel = input.logLevel as LogLevel;
    else bad('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  let requestTimeoutMs = 30_000;
  if (input.requestTimeoutMs !== undefined) {
    const t = input.requestTimeoutMs;
    if (typeof t === 'number' && Number.isInteger(t) && t >= 100 && t <= 600_000) requestTimeoutMs = t;
    else bad('requestTimeoutMs', 'must be an integer 100..600000 (milliseconds)');
  }

  const database = loadDatabase(input.database, dataDir, bad);
  const services = loadServices(input.services, bad);

  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze({ dataDir, database, kekFile, tlsDir, logLevel, requestTimeoutMs, services });
}

function loadDatabase(v: unknown, dataDir: string, bad: (p: string, m: string) => void): DatabaseSettings {
  const fallback: DatabaseSettings = { driver: 'sqlite', path: join(dataDir, '{service}.db') };
  if (v === undefined) return fallback;
  if (!isObject(v)) {
    bad('database', 'must be an object');
    return fallback;
  }
  if (v.driver === 'sqlite') {
    for (const k of Object.keys(v)) if (k !== 'driver' && k !== 'path') bad(`database.${k}`, 'unknown field for driver sqlite');
    if (v.path === undefined) return fallback;
    if (typeof v.path !== 'string' || v.path === '' || v.path.includes('\0')) {
      bad('database.path', "must be a non-empty path (may contain {service}) or ':memory:'");
      return fallback;
    }
    return { driver: 'sqlite', path: v.path };
  }
  if (v.driver === 'postgres') {
    for (const k of Object.keys(v)) if (!['driver', 'url', 'poolSize'].includes(k)) bad(`database.${k}`, 'unknown field for driver postgres');
    let url = '';
    if (typeof v.url !== 'string' || !/^postgres(ql)?:\/\/\S+$/.test(v.url)) bad('database.url', 'must be a postgres:// or postgresql:// URL');
    else url = v.url;
    if (v.poolSize !== undefined && !(Number.isInteger(v.poolSize) && (v.poolSize as number) >= 1 && (v.poolSize as number) <= 1000)) {
      bad('database.poolSize', 'must be an integer 1..1000');
    }
    return { driver: 'postgres', url, ...(typeof v.poolSize === 'number' ? { poolSize: v.poolSize } : {}) };
  }
  bad('database.driver', "must be 'sqlite' or 'postgres'");
  return fallback;
}

function loadServices(v: unknown, bad: (p: string, m: string) => void): Record<ServiceName, ListenConfig> {
  const out = {} as Record<ServiceName, ListenConfig>;
  SERVICE_NAMES.forEach((name, i) => (out[name] = { host: '127.0.0.1', port: DEFAULT_PORT_BASE + i }));
  if (v === undefined) return out;
  if (!isObject(v)) {
    bad('services', 'must be an object');
    return out;
  }
  for (const [name, s] of Object.entries(v)) {
    if (!(SERVICE_NAMES as readonly string[]).includes(name)) {
      bad(`services.${name}`, `unknown service (one of ${SERVICE_NAMES.join(', ')})`);
      continue;
    }
    const key = name as ServiceName;
    if (!isObject(s)) {
      bad(`services.${name}`, 'must be an object { host?, port? }');
      continue;
    }
    for (const k of Object.keys(s)) if (k !== 'host' && k !== 'port') bad(`services.${name}.${k}`, 'unknown field');
    let { host, port } = out[key];
    if (s.host !== undefined) {
      if (typeof s.host === 'string' && HOST.test(s.host)) host = s.host;
      else bad(`services.${name}.host`, 'must be a host name or IP address');
    }
    if (s.port !== undefined) {
      if (Number.isInteger(s.port) && (s.port as number) >= 0 && (s.port as number) <= 65535) port = s.port as number;
      else bad(`services.${name}.port`, 'must be an integer 0..65535 (0: any free port)');
    }
    out[key] = { host, port };
  }
  const seen = new Map<string, string>();
  for (const name of SERVICE_NAMES) {
    const { host, port } = out[name];
    if (port === 0) continue;
    const where = `${host}:${port}`;
    const other = seen.get(where);
    if (other !== undefined) bad(`services.${name}.port`, `${where} is already used by ${other}`);
    else seen.set(where, name);
  }
  return out;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
