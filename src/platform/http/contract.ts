/**
 * The route contract: every route declares a schema for its body (POST/PUT/PATCH) and for every status it
 * answers with (at least one success status; errors are problem+json and need no declaration). A route
 * registered without them throws at startup. At run time, a success status a route did not declare becomes
 * a 500 INTERNAL (and an error in the log) instead of an undocumented response.
 * A route's own `preHandler` is refused too: authorisation goes in `onRequest`, before the body is read and
 * validated (a caller without rights must not learn the body schema, issue 8 §4), and routes have no other use
 * for a hook between validation and handler.
 */
import type { FastifyInstance, FastifyReply, RouteOptions } from 'fastify';
import { PROBLEM_CONTENT_TYPE, PlatformError, ProblemError } from '../errors.ts';
import { platformPlugin } from './plugin.ts';
import { problemInstance } from './problems.ts';

const STATUS_KEY = /^([1-5](\d\d|xx|XX)|default)$/;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Throws `PlatformError('ROUTE_SCHEMA')` naming the route when its schema does not meet the contract. */
export function checkRouteContract(route: Pick<RouteOptions, 'method' | 'url' | 'schema'> & { preHandler?: unknown }): void {
  const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => String(m).toUpperCase());
  const name = `${methods.join(',')} ${route.url}`;
  const schema = route.schema as { body?: unknown; response?: unknown } | undefined;
  if (route.preHandler !== undefined && !(Array.isArray(route.preHandler) && route.preHandler.length === 0)) {
    throw new PlatformError('ROUTE_SCHEMA', `route ${name} has a preHandler: authorisation belongs in onRequest, before the body is validated`);
  }
  const response = schema?.response;
  if (response === undefined || response === null || typeof response !== 'object') {
    throw new PlatformError('ROUTE_SCHEMA', `route ${name} has no response schemas (schema.response is required)`);
  }
  const keys = Object.keys(response);
  for (const k of keys) {
    if (!STATUS_KEY.test(k)) throw new PlatformError('ROUTE_SCHEMA', `route ${name} declares response '${k}', which is not a status`);
  }
  if (!keys.some((k) => /^[123]/.test(k))) {
    throw new PlatformError('ROUTE_SCHEMA', `route ${name} declares no success response schema (1xx-3xx)`);
  }
  if (methods.some((m) => BODY_METHODS.has(m)) && (schema?.body === undefined || schema.body === null)) {
    throw new PlatformError('ROUTE_SCHEMA', `route ${name} has no body schema (schema.body is required for ${methods.join(',')})`);
  }
}

/** Is `status` among the keys of a route's response schemas? */
export function statusDeclared(response: object, status: number): boolean {
  const s = String(status);
  return s in response || `${s[0]}xx` in response || `${s[0]}XX` in response || 'default' in response;
}

export const contractPlugin = platformPlugin('opentsm-route-contract', async (app: FastifyInstance) => {
  app.addHook('onRoute', (route) => checkRouteContract(route));
  app.addHook('onSend', async (request, reply: FastifyReply, payload) => {
    const status = reply.statusCode;
    if (status >= 400) return payload;
    const response = (reply.routeOptions.schema as { response?: object } | undefined)?.response;
    if (response === undefined || statusDeclared(response, status)) return payload;
    request.log.error({ status, route: reply.routeOptions.url }, 'route answered with an undeclared status');
    const problem = new ProblemError({
      status: 500,
      code: 'INTERNAL',
      detail: `internal error; the service log has the details under request id ${request.id}`,
    });
    reply.code(500).type(`${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
    reply.removeHeader('content-length');
    return JSON.stringify(problem.toBody(problemInstance(request), { requestId: request.id }));
  });
});
