/**
 * The authenticated peer of a request: the subject CN of the client certificate the TLS layer verified
 * against the CA. Services authorise platform peers by this identity, never by URL or header.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface PeerIdentity {
  readonly commonName: string;
  /** SHA-256 fingerprint of the certificate, `AB:CD:…`. */
  readonly fingerprint256: string;
  readonly serialNumber: string;
}

/**
 * Identities already read, per TLS connection: reading the certificate (`getPeerCertificate`) parses it each
 * time, and a keep-alive connection carries many requests. Sound because renegotiation is disabled on the
 * socket the first time it is read (the certificate of a connection can then never change).
 */
const known = new WeakMap<TLSSocket, PeerIdentity>();

/** The verified peer of `request` (a fastify request or a raw IncomingMessage); null without mutual TLS. */
export function peerIdentity(request: { readonly raw: IncomingMessage } | IncomingMessage): PeerIdentity | null {
  const raw = 'raw' in request ? request.raw : request;
  const socket = raw.socket as TLSSocket | undefined;
  if (socket === undefined || typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) return null;
  const cached = known.get(socket);
  if (cached !== undefined) return cached;
  const cert = socket.getPeerCertificate();
  if (cert === null || typeof cert !== 'object' || cert.subject === undefined) return null;
  const cn = cert.subject.CN as string | string[] | undefined;
  const commonName = Array.isArray(cn) ? (cn.length === 1 ? cn[0] : undefined) : cn;
  if (typeof commonName !== 'string' || commonName === '') return null;
  const identity = Object.freeze({ commonName, fingerprint256: cert.fingerprint256, serialNumber: cert.serialNumber });
  if (typeof socket.disableRenegotiation === 'function') {
    socket.disableRenegotiation();
    known.set(socket, identity);
  }
  return identity;
}
