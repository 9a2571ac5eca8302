/** node TLS options for mutual TLS between platform services: both sides present a certificate from the CA. */
import { Agent } from 'node:https';
import type { TlsIdentity } from './issue.ts';

/** For `https.createServer` / `Fastify({ https })`: a client certificate from the CA is required. */
export interface ServerTlsOptions {
  readonly key: string;
  readonly cert: string;
  readonly ca: readonly string[];
  readonly requestCert: true;
  readonly rejectUnauthorized: true;
  readonly minVersion: 'TLSv1.2';
}

/** For `new https.Agent(…)` / `tls.connect(…)`: presents our certificate, trusts only the CA. */
export interface ClientTlsOptions {
  readonly key: string;
  readonly cert: string;
  readonly ca: readonly string[];
  readonly rejectUnauthorized: true;
  readonly minVersion: 'TLSv1.2';
}

/**
 * Server and client options for `identity`. `trust` defaults to the identity's CA; pass more PEM
 * certificates to trust another platform's CA as well (cross-platform lines).
 */
export function mutualTlsOptions(identity: TlsIdentity, trust: readonly string[] = [identity.caPem]): {
  server: ServerTlsOptions;
  client: ClientTlsOptions;
} {
  const ca = Object.freeze([...trust]);
  return {
    server: Object.freeze({ key: identity.keyPem, cert: identity.certPem, ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }),
    client: Object.freeze({ key: identity.keyPem, cert: identity.certPem, ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' }),
  };
}

/** A keep-alive https Agent presenting `identity` (for node:https requests to other platform services). */
export function mutualTlsAgent(identity: TlsIdentity, trust?: readonly string[]): Agent {
  const { client } = mutualTlsOptions(identity, trust);
  return new Agent({ ...client, ca: [...client.ca], keepAlive: true });
}
