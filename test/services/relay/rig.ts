/**
 * A provider with the terminal relay on a real mutual-TLS socket (loopback), a business terminal holding a
 * simulated card, and the issuer's side (its certificate, an https agent, `issuerTerminalAccess`).
 * Every C-APDU that reaches the card is logged (`apdus`).
 */
import type { AddressInfo } from 'node:net';
import type { Agent } from 'node:https';
import { toHex } from '../../../src/core/bytes.ts';
import { createCard, type SimulatedCard } from '../../../src/card/index.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { createService } from '../../../src/platform/http/index.ts';
import { createCa, issueCertificate, mutualTlsAgent, mutualTlsOptions, type CertificateAuthority, type TlsIdentity } from '../../../src/platform/tls/index.ts';
import { terminalRelay, type RelayFaults, type ServiceRequestHandler, type TerminalRelay } from '../../../src/services/provider/relay/index.ts';
import { issuerTerminalAccess } from '../../../src/services/issuer/terminal-access.ts';
import type { CardAccess } from '../../../src/services/common/deps.ts';
import { Terminal, issueTerminalIdentity } from '../../../src/terminal/index.ts';
import type { FastifyInstance } from 'fastify';

export const TERMINAL_ID = 'T1';
export const ISD = 'A000000151000000';
/** The simulator's default ICCID. */
export const ICCID = '98001032547698103214';

export interface RelayRig {
  readonly ca: CertificateAuthority;
  readonly app: FastifyInstance;
  readonly relay: TerminalRelay;
  readonly url: string;
  readonly card: SimulatedCard;
  /** C-APDUs the card processed, hex. */
  readonly apdus: string[];
  readonly terminal: Terminal;
  readonly issuerIdentity: TlsIdentity;
  readonly terminalIdentity: TlsIdentity;
  readonly issuerAgent: Agent;
  readonly issuerAccess: CardAccess;
  /** Set the provider's work for the next service requests. */
  handler: ServiceRequestHandler;
  close(): Promise<void>;
}

export async function relayRig(
  options: { faults?: RelayFaults; lingerMs?: number; scriptTimeoutMs?: number; startTerminal?: boolean; terminals?: readonly string[] } = {},
): Promise<RelayRig> {
  const { ca } = await createCa();
  const providerIdentity = await issueCertificate(ca, { commonName: 'provider', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const issuerIdentity = await issueCertificate(ca, { commonName: 'issuer', usage: 'client' });
  const terminalIdentity = await issueTerminalIdentity(ca, TERMINAL_ID);
  const app = await createService({ name: 'provider', version: '1', logger: false, tls: mutualTlsOptions(providerIdentity).server });
  const box: { handler: ServiceRequestHandler } = { handler: async () => ({}) };
  const relay = await terminalRelay(app, {
    onServiceRequest: (r, p) => box.handler(r, p),
    lingerMs: options.lingerMs ?? 500,
    scriptTimeoutMs: options.scriptTimeoutMs ?? 5000,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.terminals ? { terminals: options.terminals } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const card = createCard({ profile: 'scp03' });
  const apdus: string[] = [];
  const reader = new InProcessChannel(card, { onExchange: (c) => apdus.push(toHex(c).toUpperCase()) });
  const terminal = new Terminal({ id: TERMINAL_ID, reader, providerUrl: url, identity: terminalIdentity, retryDelayMs: 5, maxRetryDelayMs: 50 });
  if (options.startTerminal ?? true) terminal.start();
  const issuerAgent = mutualTlsAgent(issuerIdentity);
  const issuerAccess = issuerTerminalAccess({ providerUrl: url, agent: issuerAgent });
  const rig: RelayRig = {
    ca,
    app,
    relay,
    url,
    card,
    apdus,
    terminal,
    issuerIdentity,
    terminalIdentity,
    issuerAgent,
    issuerAccess,
    get handler() {
      return box.handler;
    },
    set handler(h) {
      box.handler = h;
    },
    close: async () => {
      await terminal.stop();
      issuerAgent.destroy();
      await app.close();
    },
  };
  return rig;
}

/** Resolve when `check` holds (polling). */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
