/**
 * Start the provider (with its business-terminal relay) as one service of a platform (docs/architecture.md §3
 * runtime/). Peers: the issuer (SSD requests), the OTA admin API (cards over the air) and the CA service
 * (certificates of asymmetric SSDs, with the provider's CAs there).
 */
import type { PlatformConfig } from '../platform/config/config.ts';
import { startProvider, type ProviderCas, type ProviderService } from '../services/provider/service.ts';
import { withPeers } from './peers.ts';

export interface ProviderPeers {
  readonly issuer: string;
  readonly otaAdmin: string;
  readonly ca: string;
}

export interface ProviderStart {
  readonly providerId: string;
  readonly cas: ProviderCas;
  /** Mount the terminal relay (default true). */
  readonly terminals?: boolean;
  /** Certificate CNs admitted besides the issuer (the operator). */
  readonly clients?: readonly string[];
}

export async function runProvider(config: PlatformConfig, peers: ProviderPeers, start: ProviderStart): Promise<ProviderService> {
  return startProvider(withPeers(config, peers), {
    providerId: start.providerId,
    cas: start.cas,
    clients: start.clients ?? ['operator'],
    ...(start.terminals === false ? { terminals: false as const } : {}),
  });
}
