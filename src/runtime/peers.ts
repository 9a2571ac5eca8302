/**
 * Where the services of one platform listen, and the configuration each service is started with
 * (docs/architecture.md §3 runtime/). A service finds its peers through `config.services`; `withPeers` writes the
 * peers' URLs there, so the same start function serves the all-in-one process (peers' URLs known once they
 * listen) and one service per process (peers' URLs given on the command line or in a file). Every service and
 * peer certificate comes from the platform's internal CA in `config.tlsDir` (mutual TLS, one trust root).
 */
import { loadConfig, type DatabaseSettings, type ListenConfig, type PlatformConfig, type ServiceName } from '../platform/config/config.ts';
import type { LogLevel } from '../platform/log/logger.ts';

/** Where each service of a running platform listens. */
export interface PlatformUrls {
  readonly issuer: string;
  readonly provider: string;
  readonly otaAdmin: string;
  readonly ota: string;
  readonly ca: string;
  readonly terminals?: string;
}

/** What every service of one platform shares: data folder, database, log level. */
export interface PlatformBase {
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly database?: DatabaseSettings;
}

/** The peers a service calls (only those it needs). */
export type PeerUrls = Partial<Pick<PlatformUrls, 'issuer' | 'provider' | 'otaAdmin' | 'ota' | 'ca'>>;

const PEER_SERVICE: Readonly<Record<keyof PeerUrls, ServiceName>> = {
  issuer: 'issuer',
  provider: 'provider',
  otaAdmin: 'ota-admin',
  ota: 'ota',
  ca: 'ca',
};

/** The port of an `https://host:port` URL. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

function listenOf(url: string): ListenConfig {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) };
}

/** Every service on a free port (tests, scenarios, benchmarks) — or, with `false`, the configured ports 7101…. */
export function anyPorts(any: boolean): Partial<Record<ServiceName, ListenConfig>> {
  if (!any) return {};
  const free = { host: '127.0.0.1', port: 0 };
  return { issuer: free, provider: free, ota: free, 'ota-admin': free, terminal: free, ca: free };
}

/** The validated configuration of a platform whose services listen at `listen`. */
export function platformConfig(base: PlatformBase, listen: Partial<Record<ServiceName, ListenConfig>>): PlatformConfig {
  return loadConfig({
    dataDir: base.dataDir,
    logLevel: base.logLevel,
    ...(base.database !== undefined ? { database: base.database } : {}),
    services: listen,
  });
}

/** `config` with the peers' addresses taken from their URLs (the rest unchanged). */
export function withPeers(config: PlatformConfig, peers: PeerUrls): PlatformConfig {
  const services: Partial<Record<ServiceName, ListenConfig>> = { ...config.services };
  for (const [k, url] of Object.entries(peers) as [keyof PeerUrls, string | undefined][]) {
    if (url !== undefined) services[PEER_SERVICE[k]] = listenOf(url);
  }
  return loadConfig({ dataDir: config.dataDir, database: config.database, kekFile: config.kekFile, tlsDir: config.tlsDir, logLevel: config.logLevel, services });
}
