/**
 * Idempotency keys for POSTs that move money or keys. A route opts in with `config: { idempotent: true }`:
 * - `Idempotency-Key` header required (400 IDEMPOTENCY_KEY_REQUIRED; 400 IDEMPOTENCY_KEY_INVALID when not
 *   1..255 visible ASCII characters);
 * - the first request's status, body and content headers are kept, bound to a hash of method, route, path
 *   parameters, query, peer identity (certificate CN) and body; keys are scoped per peer;
 * - a retry with the same key and request replays them with `Idempotent-Replayed: true`;
 * - the same key with a different request → 422 IDEMPOTENCY_KEY_REUSED;
 * - the same key while the first request still runs → 409 IDEMPOTENCY_IN_PROGRESS (`Retry-After: 1`).
 * Responses with status ≥ 500 are not kept: the key is released so the client can retry. A claim whose
 * response never gets stored (the process died mid-request) is taken over after the store's lock timeout.
 * The check runs after authorisation (the route's onRequest hook) and validation, the store after all onSend hooks.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onSendAsyncHookHandler,
  preHandlerAsyncHookHandler,
} from 'fastify';
import { PlatformError, ProblemError } from '../errors.ts';
import { platformPlugin } from '../http/plugin.ts';
import type { IdempotencyStore } from './store.ts';
import { requestHash } from './hash.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Require an Idempotency-Key and replay the first response on retries. */
    idempotent?: boolean;
  }
}

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
/** Response headers kept with the body and replayed. */
const KEPT_HEADERS = ['content-type', 'location'];

interface Claim {
  readonly scope: string;
  readonly key: string;
}

export interface IdempotencyPluginOptions extends Record<string, unknown> {
  /** Without a store, registering an idempotent route throws at startup. */
  readonly store?: IdempotencyStore;
}

export const idempotencyPlugin = platformPlugin('opentsm-idempotency', async (app: FastifyInstance, options: IdempotencyPluginOptions) => {
  const store = options.store;
  const claims = new WeakMap<FastifyRequest, Claim>();

  const check: preHandlerAsyncHookHandler = async function idempotencyCheck(request, reply) {
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (key === undefined) {
      throw new ProblemError({ status: 400, code: 'IDEMPOTENCY_KEY_REQUIRED', detail: 'this request needs an Idempotency-Key header' });
    }
    if (typeof key !== 'string' || !KEY_FORMAT.test(key)) {
      throw new ProblemError({
        status: 400,
        code: 'IDEMPOTENCY_KEY_INVALID',
        detail: 'Idempotency-Key must be one header of 1 to 255 visible ASCII characters',
      });
    }
    const scope = request.peer?.commonName ?? '';
    const hash = requestHash({
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      params: request.params,
      query: request.query,
      peer: scope,
      body: request.body,
    });
    const result = await store!.begin(scope, key, hash);
    switch (result.kind) {
      case 'claimed':
        claims.set(request, { scope, key });
        return;
      case 'mismatch':
        throw new ProblemError({
          status: 422,
          code: 'IDEMPOTENCY_KEY_REUSED',
          detail: 'this Idempotency-Key was used for a different request',
        });
      case 'in_progress':
        throw new ProblemError({
          status: 409,
          code: 'IDEMPOTENCY_IN_PROGRESS',
          detail: 'a request with this Idempotency-Key is still being processed',
          headers: { 'retry-after': '1' },
        });
      case 'replay': {
        request.log.info({ status: result.response.status }, 'idempotent replay');
        reply.code(result.response.status).headers({ ...result.response.headers }).header(REPLAYED_HEADER, 'true');
        return reply.send(Buffer.from(result.response.body));
      }
    }
  };

  const keep: onSendAsyncHookHandler<unknown> = async function idempotencyKeep(request, reply: FastifyReply, payload) {
    const claim = claims.get(request);
    if (claim === undefined) return payload;
    claims.delete(request);
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload instanceof Uint8Array ? payload : payload == null ? Buffer.alloc(0) : undefined;
    if (reply.statusCode >= 500 || body === undefined) {
      if (body === undefined) request.log.warn('idempotent route answered with a stream; response not kept');
      await store!.abandon(claim.scope, claim.key);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const v = reply.getHeader(name);
      if (v !== undefined) headers[name] = String(v);
    }
    await store!.complete(claim.scope, claim.key, { status: reply.statusCode, headers, body });
    return payload;
  };

  app.addHook('onRoute', (route) => {
    if ((route.config as { idempotent?: boolean } | undefined)?.idempotent !== true) return;
    if (store === undefined) {
      throw new PlatformError('ROUTE_SCHEMA', `route ${String(route.method)} ${route.url} is idempotent but the service has no idempotency store`);
    }
    route.preHandler = [...toArray(route.preHandler), check];
    route.onSend = [...toArray(route.onSend), keep];
  });
});

function toArray<T>(v: T | readonly T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? [...v] : [v as T];
}
