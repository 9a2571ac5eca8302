/**
 * `startCa(config)`: the CA as a running service — its database migrated (CA_MIGRATIONS plus idempotency and
 * audit tables), CA private keys sealed under the KEK (sealer prefix `ca`), the hash-chained audit log, and
 * mutual TLS with a certificate from the internal CA (CN `ca`, kept in `<tlsDir>/ca-service/`), listening on
 * `config.services.ca`.
 */
import type { FastifyInstance } from 'fastify';
import type { PlatformConfig } from '../../platform/config/config.ts';
import type { ServiceOptions } from '../../platform/http/service.ts';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ensureCa } from '../../platform/tls/ca.ts';
import { ensureIdentity, type TlsIdentity } from '../../platform/tls/issue.ts';
import { mutualTlsOptions } from '../../platform/tls/options.ts';
import type { RandomSource } from '../../crypto/random.ts';
import { auditLogAuditor } from '../common/auditor.ts';
import { openServiceStorage } from '../common/bootstrap.ts';
import { keyStoreSealer } from '../common/sealer.ts';
import { buildCaApp } from './app.ts';
import type { CaDeps } from './authority.ts';
import { CA_MIGRATIONS } from './schema.ts';

export interface CaServiceOptions {
  readonly logger?: ServiceOptions['logger'];
  readonly random?: RandomSource;
  readonly now?: () => Date;
  /** For tests without sockets: how `request.peer` is found. */
  readonly identify?: ServiceOptions['identify'];
}

export interface CaService {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly deps: CaDeps;
  close(): Promise<void>;
}

export async function startCa(config: PlatformConfig, options: CaServiceOptions = {}): Promise<CaService> {
  const storage = await openServiceStorage(config, 'ca', CA_MIGRATIONS, { auditCheckpoints: {} });
  let app: FastifyInstance | undefined;
  try {
    const listen = config.services.ca;
    const identity = await caServiceIdentity(config, listen.host);
    const deps: CaDeps = {
      db: storage.db,
      sealer: keyStoreSealer(storage.keystore, 'ca'),
      audit: auditLogAuditor(storage.auditLog),
      actor: 'ca',
      ...(options.random !== undefined ? { random: options.random } : {}),
      ...(options.now !== undefined ? { now: options.now } : {}),
    };
    app = await buildCaApp({
      deps,
      idempotency: storage.idempotency,
      tls: mutualTlsOptions(identity).server,
      requestTimeoutMs: config.requestTimeoutMs,
      ...(options.logger !== undefined ? { logger: options.logger } : { logger: { level: config.logLevel } }),
      ...(options.identify !== undefined ? { identify: options.identify } : {}),
    });
    await app.listen({ host: listen.host, port: listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : listen.port;
    const url = `https://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${port}`;
    const running = app;
    return {
      url,
      app: running,
      deps,
      async close() {
        await running.close();
        await storage.close();
      },
    };
  } catch (e) {
    await app?.close();
    await storage.close();
    throw e;
  }
}

/**
 * The service's TLS identity, CN `ca`. Not `serviceIdentity`: that keeps `<CN>.crt`/`<CN>.key` next to the
 * internal TLS CA's own `ca.crt`/`ca.key`, so CN `ca` would pick up (and on expiry overwrite) the internal CA
 * itself. Kept in `<tlsDir>/ca-service/` instead, with the same host names as serviceIdentity.
 */
async function caServiceIdentity(config: PlatformConfig, host: string): Promise<TlsIdentity> {
  const ca = await ensureCa(config.tlsDir);
  const ipAddresses = ['127.0.0.1', ...(isIP(host) !== 0 && host !== '127.0.0.1' && host !== '0.0.0.0' ? [host] : [])];
  const dnsNames = ['localhost', ...(isIP(host) === 0 && host !== 'localhost' ? [host] : [])];
  return ensureIdentity(join(config.tlsDir, 'ca-service'), ca, { commonName: 'ca', usage: 'both', ipAddresses, dnsNames });
}
