/**
 * Who may call the issuer, by mutual-TLS identity (certificate CN), never by URL or header:
 * the issuer's operator (`operator`) and the providers registered in its `providers` table (CN = provider id).
 */
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ProblemError } from '../../../platform/errors.ts';
import type { Database } from '../../../platform/storage/database.ts';

export const OPERATOR = 'operator';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireCaller`: the operator, or a registered provider (its id). */
    caller?: { readonly kind: 'operator' } | { readonly kind: 'provider'; readonly providerId: string };
  }
}

export type CallerKind = 'operator' | 'provider';

/** Admit the listed kinds of caller; 401 without a client certificate, 403 for anyone else. */
export function requireCaller(db: Database, ...kinds: CallerKind[]): onRequestAsyncHookHandler {
  const allowed = new Set(kinds);
  return async function requireCallerHook(request: FastifyRequest) {
    const peer = request.peer;
    if (peer === null) throw new ProblemError({ status: 401, code: 'UNAUTHENTICATED', detail: 'this route needs a platform client certificate' });
    if (peer.commonName === OPERATOR) {
      if (allowed.has('operator')) {
        request.caller = { kind: 'operator' };
        return;
      }
    } else if (allowed.has('provider')) {
      const rows = await db.query<{ provider_id: string }>('SELECT provider_id FROM providers WHERE provider_id = $1', [peer.commonName]);
      if (rows[0]) {
        request.caller = { kind: 'provider', providerId: rows[0].provider_id };
        return;
      }
    }
    throw new ProblemError({ status: 403, code: 'FORBIDDEN', detail: `peer '${peer.commonName}' may not call this route` });
  };
}

/** The provider id of a provider caller (after `requireCaller`). */
export function providerOf(request: FastifyRequest): string | undefined {
  return request.caller?.kind === 'provider' ? request.caller.providerId : undefined;
}

/** Who did it, for audit records: `operator` or `provider:<id>`. */
export function byOf(request: FastifyRequest): string {
  const c = request.caller;
  return c === undefined ? 'unknown' : c.kind === 'operator' ? OPERATOR : `provider:${c.providerId}`;
}
