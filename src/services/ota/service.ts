/**
 * `startOta(config)`: the OTA server as a running service — the RAM over HTTP endpoint on PSK-TLS
 * (`config.services.ota`, phones' admin agents connect there) and the admin API on createService with
 * mutual TLS (`config.services['ota-admin']`: scripts for the issuer and providers, the device registry for
 * the operator, each admitted by certificate identity). Device PSKs are sealed in the OTA's database under
 * the keystore and held unsealed in memory for the synchronous PSK callback of the TLS handshake.
 */
import type { FastifyInstance } from 'fastify';
import type { PlatformConfig } from '../../platform/config/config.ts';
import type { ServiceOptions } from '../../platform/http/service.ts';
import { mutualTlsOptions } from '../../platform/tls/options.ts';
import { auditLogAuditor } from '../common/auditor.ts';
import { openServiceStorage, serviceIdentity } from '../common/bootstrap.ts';
import { keyStoreSealer } from '../common/sealer.ts';
import { buildOtaAdminApi } from './admin-api.ts';
import { SqlCardGrants } from './grants.ts';
import { SealedPskStore } from './device-store.ts';
import { OtaServer, type OtaServerOptions } from './ota-server.ts';
import { InProcessPushGateway, type PushGateway } from './push.ts';
import { OTA_MIGRATIONS } from './schema.ts';

export interface OtaServiceOptions {
  /** How phones are woken up (default an in-process gateway: phones simulated in this process subscribe to it). */
  readonly push?: PushGateway;
  /** Certificate CNs that may send scripts (default ['issuer', 'provider']). */
  readonly scriptCallers?: readonly string[];
  /** Certificate CNs that may register devices (default ['operator']). */
  readonly operators?: readonly string[];
  /** Options of the RAM over HTTP server (session linger, time limits, fault injection for tests). */
  readonly server?: Omit<OtaServerOptions, 'pskStore' | 'push'>;
  readonly logger?: ServiceOptions['logger'];
  readonly identify?: ServiceOptions['identify'];
}

export interface OtaService {
  /** Where admin agents POST first (`https://host:port/ram`, PSK-TLS). */
  readonly ramUrl: string;
  /** The admin API (`https://host:port`, mutual TLS). */
  readonly adminUrl: string;
  readonly ota: OtaServer;
  readonly push: PushGateway;
  readonly devices: SealedPskStore;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function startOta(config: PlatformConfig, options: OtaServiceOptions = {}): Promise<OtaService> {
  const storage = await openServiceStorage(config, 'ota', OTA_MIGRATIONS, { auditCheckpoints: {} });
  let ota: OtaServer | undefined;
  let app: FastifyInstance | undefined;
  try {
    const audit = auditLogAuditor(storage.auditLog);
    const devices = await SealedPskStore.open(storage.db, keyStoreSealer(storage.keystore, 'ota'), audit);
    const push = options.push ?? new InProcessPushGateway();
    ota = new OtaServer({ lingerMs: 2000, requestTimeoutMs: config.requestTimeoutMs, ...options.server, pskStore: devices, push });
    const ram = config.services.ota;
    const { url: ramUrl } = await ota.listen(ram.port, ram.host);
    const listen = config.services['ota-admin'];
    const identity = await serviceIdentity(config, 'ota', listen.host);
    app = await buildOtaAdminApi({
      ota,
      devices,
      idempotency: storage.idempotency,
      tls: mutualTlsOptions(identity).server,
      requestTimeoutMs: config.requestTimeoutMs,
      grants: new SqlCardGrants(storage.db, audit),
      auditRefusal: (r) =>
        storage.db.transaction((tx) => audit(tx, { actor: r.actor, action: 'ota.script-refused', subject: `device/${r.deviceId}`, details: { index: r.index, reason: r.reason } })),
      logger: options.logger ?? { level: config.logLevel },
      ...(options.scriptCallers !== undefined ? { scriptCallers: options.scriptCallers } : {}),
      ...(options.operators !== undefined ? { operators: options.operators } : {}),
      ...(options.identify !== undefined ? { identify: options.identify } : {}),
    });
    await app.listen({ host: listen.host, port: listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : listen.port;
    const adminUrl = `https://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${port}`;
    const server = ota;
    const running = app;
    return {
      ramUrl,
      adminUrl,
      ota: server,
      push,
      devices,
      app: running,
      async close() {
        await running.close();
        await server.close();
        await storage.close();
      },
    };
  } catch (e) {
    await app?.close();
    await ota?.close();
    await storage.close();
    throw e;
  }
}
