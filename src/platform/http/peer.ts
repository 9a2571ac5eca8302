/**
 * `request.peer`: who is calling, as authenticated by mutual TLS (the client certificate's CN), and
 * `requirePeer(...)`, the hook that admits only named platform peers. Authorisation is by certificate
 * identity, never by URL prefix or header, and runs first: routes put their authorisation hook in `onRequest`,
 * before the body is read, parsed or validated, so a caller without rights learns nothing of the route's body
 * schema (issue 8 §4) — it gets 401/403 whatever it sends.
 */
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ProblemError } from '../errors.ts';
import { peerIdentity, type PeerIdentity } from '../tls/peer.ts';
import { platformPlugin } from './plugin.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated platform peer, or null (plain HTTP, or no client certificate). */
    peer: PeerIdentity | null;
  }
}

/** How a service learns the caller's identity; default `peerIdentity` (TLS). Tests with `inject` pass their own. */
export type IdentifyPeer = (request: FastifyRequest) => PeerIdentity | null;

export const peerPlugin = platformPlugin('opentsm-peer', async (app: FastifyInstance, options: { identify?: IdentifyPeer }) => {
  const identify = options.identify ?? peerIdentity;
  app.decorateRequest('peer', null);
  app.addHook('onRequest', async (request) => {
    request.peer = identify(request);
  });
});

/** An onRequest hook admitting only peers whose certificate CN is one of `commonNames` (401 without a peer, 403 otherwise). */
export function requirePeer(...commonNames: string[]): onRequestAsyncHookHandler {
  if (commonNames.length === 0) throw new TypeError('requirePeer needs at least one common name');
  const allowed = new Set(commonNames);
  return async function requirePeerHook(request: FastifyRequest) {
    const peer = request.peer;
    if (peer === null) {
      throw new ProblemError({ status: 401, code: 'UNAUTHENTICATED', detail: 'this route needs a platform client certificate' });
    }
    if (!allowed.has(peer.commonName)) {
      throw new ProblemError({ status: 403, code: 'FORBIDDEN', detail: `peer '${peer.commonName}' may not call this route` });
    }
  };
}
