/**
 * Start the OTA server (RAM over HTTP on PSK-TLS + admin API on mutual TLS) as one service of a platform
 * (docs/architecture.md §3 runtime/, §6 the wire). It calls no peer; the issuer and the provider call it.
 */
import type { PlatformConfig } from '../platform/config/config.ts';
import type { PushGateway } from '../services/ota/push.ts';
import { startOta, type OtaService } from '../services/ota/service.ts';

export interface OtaStart {
  /** Certificate CNs that may send scripts (the issuer and the provider). */
  readonly scriptCallers: readonly string[];
  /** How phones are woken up (default an in-process gateway). */
  readonly push?: PushGateway;
  readonly lingerMs?: number;
  readonly timeoutMs?: number;
}

export async function runOta(config: PlatformConfig, start: OtaStart): Promise<OtaService> {
  return startOta(config, {
    scriptCallers: start.scriptCallers,
    ...(start.push !== undefined ? { push: start.push } : {}),
    server: { lingerMs: start.lingerMs ?? 2000, timeoutMs: start.timeoutMs ?? 30_000 },
  });
}
