/**
 * Start the issuer as one service of a platform (docs/architecture.md §3 runtime/). Peers: the OTA admin API
 * (cards over the air) and, for cards at a business terminal, the provider's terminal relay — its URL may be
 * known only once the provider listens (all-in-one process), so it is given as a function.
 */
import type { Agent } from 'node:https';
import type { PlatformConfig } from '../platform/config/config.ts';
import { mutualTlsAgent } from '../platform/tls/options.ts';
import { serviceIdentity } from '../services/common/bootstrap.ts';
import { startIssuer, type IssuerService } from '../services/issuer/service.ts';
import { issuerTerminalAccess } from '../services/issuer/terminal-access.ts';
import { withPeers } from './peers.ts';

export interface IssuerPeers {
  readonly otaAdmin: string;
  /** The provider running the business terminals (omit: no cards at terminals). */
  readonly provider?: string | (() => string);
}

export async function runIssuer(config: PlatformConfig, peers: IssuerPeers): Promise<IssuerService> {
  const cfg = withPeers(config, { otaAdmin: peers.otaAdmin });
  let agent: Agent | undefined;
  if (peers.provider !== undefined) agent = mutualTlsAgent(await serviceIdentity(cfg, 'issuer', cfg.services.issuer.host));
  try {
    const provider = peers.provider;
    const issuer = await startIssuer(cfg, {
      ...(agent !== undefined && provider !== undefined
        ? { terminalAccess: issuerTerminalAccess({ providerUrl: typeof provider === 'string' ? provider : () => provider(), agent }) }
        : {}),
    });
    const a = agent;
    return a === undefined
      ? issuer
      : {
          ...issuer,
          close: async () => {
            await issuer.close();
            a.destroy();
          },
        };
  } catch (e) {
    agent?.destroy();
    throw e;
  }
}
