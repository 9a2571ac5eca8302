/**
 * The terminal-facing routes of the relay. The caller is the terminal named by its client certificate
 * (`terminal.<id>`, verified by mutual TLS against the CA); nothing in the URL or headers says which
 * terminal it is.
 *
 * - RAM over HTTP (GP Amendment B): `POST /v1/terminal/ram` opens (or, with X-Admin-Resume, resumes) the
 *   terminal's admin session; the reply is held while nothing is queued (long poll), then 204. Replies and
 *   problems come from `RamEndpoint` as they are (binary scripts, problem+json refusals).
 * - Service requests: `POST /v1/terminal/requests`, `GET /v1/terminal/requests/:id`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ProblemError } from '../../../platform/errors.ts';
import { CONTENT_TYPE_RESPONSE, CONTENT_TYPE_SCRIPT, RAM_MAX_BODY_BYTES } from '../../../transport/ram-http/headers.ts';
import type { RamReply } from '../../../transport/ram-http/server-session.ts';
import {
  REQUEST_ID,
  RELAY_PATHS,
  serviceRequestBodySchema,
  serviceRequestViewSchema,
  terminalAgentId,
  terminalIdOf,
  type ServiceRequestBody,
} from '../../common/relay-api.ts';
import { relayProblem } from '../../common/relay-errors.ts';
import type { TerminalRelay } from './relay.ts';

/** Test hooks to cut a terminal's connection at chosen points (fault tests); never set in production. */
export interface RelayFaults {
  /** Before a RAM request is processed; 'drop' destroys the connection as if the request was lost. */
  onRequest?(info: { terminalId: string; path: string }): 'process' | 'drop';
  /** After a RAM request was processed; 'drop' destroys the connection instead of sending the reply. */
  onReply?(info: { terminalId: string; path: string; status: number }): 'send' | 'drop';
}

const TERMINAL = Symbol('terminalId');
type WithTerminal = FastifyRequest & { [TERMINAL]?: string };

/** The terminal id of an authorised request (set by `requireTerminal`). */
export function terminalOf(request: FastifyRequest): string {
  const id = (request as WithTerminal)[TERMINAL];
  if (id === undefined) throw new Error('requireTerminal did not run');
  return id;
}

/** onRequest: the peer must be an admitted terminal (401 without a certificate, 403 otherwise). */
export function requireTerminal(relay: TerminalRelay): onRequestAsyncHookHandler {
  return async function requireTerminalHook(request: FastifyRequest) {
    const peer = request.peer;
    if (peer === null) throw new ProblemError({ status: 401, code: 'UNAUTHENTICATED', detail: 'this route needs a terminal client certificate' });
    const id = terminalIdOf(peer.commonName);
    if (id === undefined || !relay.admits(id)) {
      throw new ProblemError({ status: 403, code: 'FORBIDDEN', detail: `peer '${peer.commonName}' is not an admitted terminal` });
    }
    (request as WithTerminal)[TERMINAL] = id;
  };
}

const scriptResponses = {
  200: { description: 'A command script for the card in the terminal', content: { [CONTENT_TYPE_SCRIPT]: { schema: { type: 'string', format: 'binary' } } } },
  204: { description: 'The administration session ends (nothing queued)', type: 'null' },
} as const;

const ramSchema = {
  summary: 'RAM over HTTP administration session of a terminal (GP Amendment B)',
  tags: ['terminal'],
  body: { content: { [CONTENT_TYPE_RESPONSE]: { schema: { type: 'string', format: 'binary' } } } },
  response: scriptResponses,
} as const;

export async function terminalRoutes(app: FastifyInstance, options: { relay: TerminalRelay; faults?: RelayFaults; maxBodyBytes?: number }): Promise<void> {
  const { relay, faults } = options;
  const guard = requireTerminal(relay);

  // RAM over HTTP: bodies are bytes whatever their content type; RamEndpoint checks the type itself. The limit is the
  // route's bodyLimit (the one the 413 problem quotes), not a parser's own.
  const bodyLimit = options.maxBodyBytes ?? RAM_MAX_BODY_BYTES;
  await app.register(async (ram) => {
    ram.removeAllContentTypeParsers();
    ram.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const terminalId = terminalOf(request);
      const path = request.url;
      if (faults?.onRequest?.({ terminalId, path }) === 'drop') return drop(request, reply);
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(request.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
      const body = request.body instanceof Uint8Array ? new Uint8Array(request.body) : new Uint8Array(0);
      const r: RamReply = await relay.endpoint.handle({ deviceId: terminalId, expectedAgentId: terminalAgentId(terminalId), method: request.method, path, headers, body });
      if (faults?.onReply?.({ terminalId, path, status: r.status }) === 'drop') return drop(request, reply);
      reply.code(r.status).headers(r.headers);
      return r.body.length === 0 ? reply.send() : reply.send(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.length));
    };
    ram.post(RELAY_PATHS.ram, { bodyLimit, onRequest: guard, schema: ramSchema, config: { openapi: true } }, handler);
    ram.post(`${RELAY_PATHS.ram}/*`, { bodyLimit, onRequest: guard, schema: ramSchema, config: { openapi: false } }, handler);
  });

  app.post(
    RELAY_PATHS.requests,
    {
      onRequest: guard,
      schema: {
        summary: 'The user asks for an application at this terminal: the provider starts its flow for the card in the reader',
        tags: ['terminal'],
        body: serviceRequestBodySchema,
        response: { 202: serviceRequestViewSchema },
      },
    },
    async (request, reply) => {
      try {
        return reply.code(202).send(relay.requestService(terminalOf(request), request.body as ServiceRequestBody));
      } catch (e) {
        throw relayProblem(e);
      }
    },
  );

  app.get(
    `${RELAY_PATHS.requests}/:id`,
    {
      onRequest: guard,
      schema: {
        summary: 'Progress of a service request of this terminal',
        tags: ['terminal'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: REQUEST_ID } } },
        response: { 200: serviceRequestViewSchema },
      },
    },
    async (request) => {
      try {
        return relay.request(terminalOf(request), (request.params as { id: string }).id);
      } catch (e) {
        throw relayProblem(e);
      }
    },
  );
}

function drop(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  request.raw.socket.destroy();
  return reply;
}
