/**
 * Request bodies in the log (level `debug`), always through the secret redaction — and only parsed JSON
 * objects and arrays, whose field names the redaction can judge. A body of any other shape (a `text/plain`
 * string, a buffer, a bare JSON string or number) is never logged, only its type and length: the redaction
 * works by field name, and a raw body has none (issue 8 §4: a posted ISD key reached the log verbatim).
 */
import type { FastifyInstance } from 'fastify';
import { safeLog } from '../log/logger.ts';
import { platformPlugin } from './plugin.ts';

/** What of `body` may be logged: the body itself when it is a JSON object or array (to be redacted), else a summary. */
export function loggableBody(body: unknown): Record<string, unknown> {
  if (body !== null && typeof body === 'object' && !(body instanceof Uint8Array) && !ArrayBuffer.isView(body)) {
    const proto = Object.getPrototypeOf(body) as unknown;
    if (Array.isArray(body) || proto === Object.prototype || proto === null) return { body };
  }
  if (typeof body === 'string') return { bodyType: 'string', bodyLength: body.length };
  if (body instanceof Uint8Array) return { bodyType: 'bytes', bodyLength: body.length };
  return { bodyType: body === null ? 'null' : typeof body };
}

export const requestLogPlugin = platformPlugin('opentsm-request-log', async (app: FastifyInstance) => {
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || !(request.log as { isLevelEnabled?(l: string): boolean }).isLevelEnabled?.('debug')) return;
    safeLog(request.log, 'debug', loggableBody(request.body), 'request body');
  });
});
