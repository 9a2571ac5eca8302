/**
 * Request ids: a caller's `X-Request-Id` is kept when it is a plain token (so one id follows a call across
 * services), otherwise a fresh UUID is made. Every response carries it back, and every log line of the
 * request has it as `requestId`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { platformPlugin } from './plugin.ts';

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** For `Fastify({ genReqId })`. */
export function genRequestId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
}

export const requestIdPlugin = platformPlugin('opentsm-request-id', async (app: FastifyInstance) => {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
});
