/**
 * The one error handler: every error a service produces leaves as RFC 9457 problem+json with a stable code.
 * Also the not-found handler (404, or 405 with `Allow` when the path exists for other methods) and the
 * handler of fastify's framework errors (malformed URLs).
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, ProblemError } from '../errors.ts';
import { platformPlugin } from './plugin.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';

/** Where in the request a validation error was found, and what is wrong there. */
export interface ValidationIssue {
  readonly in: 'body' | 'querystring' | 'params' | 'headers';
  /** JSON Pointer of the failing field inside that part, e.g. `/keys/0/kcv`; '' for the part itself. */
  readonly path: string;
  readonly message: string;
}

/** The request path of this occurrence (query string left out: it is not part of the problem's identity). */
export function problemInstance(request: FastifyRequest): string {
  const url = request.url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Answer `problem` on `reply`. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemError): FastifyReply {
  const body = problem.toBody(problemInstance(request), { requestId: request.id });
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  reply.header(REQUEST_ID_HEADER, request.id); // also for errors raised before the onRequest hooks
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

interface ValidationFailure {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

function validationProblem(error: FastifyError & { validation: ValidationFailure[]; validationContext?: string }): ProblemError {
  const where = (error.validationContext ?? 'body') as ValidationIssue['in'];
  const issues: ValidationIssue[] = error.validation.map((v) => {
    let path = v.instancePath ?? '';
    if (v.keyword === 'required' && typeof v.params.missingProperty === 'string') path += '/' + escapePointer(v.params.missingProperty);
    if (v.keyword === 'additionalProperties' && typeof v.params.additionalProperty === 'string') {
      path += '/' + escapePointer(v.params.additionalProperty);
    }
    const message =
      v.keyword === 'required' ? 'is required' : v.keyword === 'additionalProperties' ? 'is not allowed' : (v.message ?? v.keyword);
    return { in: where, path, message };
  });
  const first = issues[0];
  const detail = first === undefined ? `invalid ${where}` : `${where}${first.path === '' ? '' : ' ' + first.path} ${first.message}`;
  return new ProblemError({ status: 400, code: 'VALIDATION', detail, extra: { errors: issues } });
}

function escapePointer(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Map any error to the problem the client sees. Internals of unexpected errors never leave. */
export function toProblem(error: unknown, request: FastifyRequest): ProblemError {
  if (error instanceof ProblemError) return error;
  const e = error as FastifyError & { validation?: ValidationFailure[]; validationContext?: string };
  if (e !== null && typeof e === 'object' && Array.isArray(e.validation)) {
    return validationProblem(e as FastifyError & { validation: ValidationFailure[] });
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const ct = request.headers['content-type'];
      const detail = ct === undefined ? 'a body needs a Content-Type' : `content type '${String(ct).slice(0, 100)}' is not accepted here`;
      return new ProblemError({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', detail });
    }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError({
        status: 413,
        code: 'BODY_TOO_LARGE',
        detail: `request body exceeds ${request.routeOptions.bodyLimit} bytes`,
        extra: { limit: request.routeOptions.bodyLimit },
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ProblemError({ status: 400, code: 'MALFORMED_JSON', detail: 'request body is not valid JSON' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ProblemError({ status: 400, code: 'MALFORMED_JSON', detail: 'request body is empty but Content-Type is JSON' });
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500 && typeof e?.code === 'string' && e.code.startsWith('FST_')) {
    // fastify's own client errors (bad content length, bad URL, …): their messages describe the request only.
    return new ProblemError({ status, code: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', detail: e.message });
  }
  return new ProblemError({
    status: 500,
    code: 'INTERNAL',
    detail: `internal error; the service log has the details under request id ${request.id}`,
  });
}

/** Route patterns by method, to tell 405 from 404. */
interface KnownRoute {
  readonly method: string;
  readonly pattern: RegExp;
}

/** A fastify URL pattern (`/cards/:iccid/ssds/*`) as a RegExp over request paths. */
export function routePattern(url: string): RegExp {
  let out = '';
  let i = 0;
  while (i < url.length) {
    const c = url[i]!;
    if (c === ':' && url[i + 1] !== ':') {
      let j = i + 1;
      while (j < url.length && /[A-Za-z0-9_]/.test(url[j]!)) j++;
      if (url[j] === '(') {
        let depth = 0;
        let k = j;
        for (; k < url.length; k++) {
          if (url[k] === '(') depth++;
          else if (url[k] === ')' && --depth === 0) break;
        }
        out += url.slice(j, k + 1);
        i = k + 1;
      } else {
        out += '[^/]+';
        i = j;
      }
    } else if (c === ':' && url[i + 1] === ':') {
      out += ':';
      i += 2;
    } else if (c === '*') {
      out += '.*';
      i++;
    } else {
      out += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  return new RegExp(`^${out}$`);
}

export const problemsPlugin = platformPlugin('opentsm-problems', async (app: FastifyInstance) => {
  const routes: KnownRoute[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = routePattern(route.url);
    for (const method of methods) routes.push({ method: String(method).toUpperCase(), pattern });
  });

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request);
    if (problem.status >= 500) request.log.error({ err: error, code: problem.code }, 'request failed');
    else request.log.info({ code: problem.code, status: problem.status, detail: problem.detail }, 'request refused');
    return sendProblem(request, reply, problem);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = problemInstance(request);
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
    if (allowed.length > 0) {
      return sendProblem(
        request,
        reply,
        new ProblemError({
          status: 405,
          code: 'METHOD_NOT_ALLOWED',
          detail: `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
          extra: { allowed },
          headers: { allow: allowed.join(', ') },
        }),
      );
    }
    return sendProblem(request, reply, new ProblemError({ status: 404, code: 'NOT_FOUND', detail: `no route for ${request.method} ${path}` }));
  });
});

/** For `Fastify({ frameworkErrors })`: errors raised before routing (malformed URL encoding, overlong parameters). */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendProblem(request, reply, new ProblemError({ status: 400, code: 'BAD_REQUEST', detail: error.message }));
}

/**
 * For `Fastify({ clientErrorHandler })`: errors of the connection before a request exists — the request timeout
 * (a body that stopped arriving, issue 8 §4), headers too large, unparsable HTTP. Answered as problem+json with
 * `Connection: close`, then the socket is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'the request (headers and body) did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'request headers too large']
        : [400, 'BAD_REQUEST', 'malformed HTTP request'];
  const problem = new ProblemError({ status, code, detail });
  const body = Buffer.from(JSON.stringify(problem.toBody('')));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${problem.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    socket.write(body);
  }
  socket.destroy();
}
