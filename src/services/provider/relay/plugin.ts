/**
 * `terminalRelay(app, options)`: mount the provider's terminal relay on a service made with
 * `createService` (mutual TLS: terminals and the issuer present certificates from the CA) and return the
 * relay, from which `terminalCardAccess(relay)` gives the provider's flows their `CardAccess`.
 */
import type { FastifyInstance } from 'fastify';
import { TerminalRelay, type TerminalRelayOptions } from './relay.ts';
import { terminalRoutes, type RelayFaults } from './routes-terminal.ts';
import { issuerRoutes } from './routes-issuer.ts';

export interface TerminalRelayPluginOptions extends TerminalRelayOptions {
  /** Largest RAM over HTTP body from a terminal (default 70 000 bytes). */
  readonly maxBodyBytes?: number;
  /** Fault injection for tests only. */
  readonly faults?: RelayFaults;
}

export async function terminalRelay(app: FastifyInstance, options: TerminalRelayPluginOptions): Promise<TerminalRelay> {
  const relay = new TerminalRelay(options);
  await app.register(async (scope) => {
    await terminalRoutes(scope, {
      relay,
      ...(options.faults !== undefined ? { faults: options.faults } : {}),
      ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    });
    await issuerRoutes(scope, { relay });
  });
  // Held polls would keep the server from closing: end them first.
  app.addHook('preClose', async () => {
    await relay.close();
  });
  return relay;
}
