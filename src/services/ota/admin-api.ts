/**
 * The OTA server's platform-facing HTTP API, so that other services (issuer, provider — separate
 * processes) reach phones through the same OTA path: `POST /devices/{id}/scripts`
 * `{ targetAid?: hex, apdus: hex[], timeoutMs?: number }` → `200 { responses: hex[] }`.
 * Errors are problem+json: 400 VALIDATION / MALFORMED_JSON, 415, 404 UNKNOWN_DEVICE, 504 DEVICE_TIMEOUT,
 * 502 SESSION_LOST / SCRIPT_STATUS / BAD_FORMAT, 503 UNAVAILABLE. Nothing is queued for a refused request.
 *
 * Plain fastify for now, in one file, to be moved onto the platform's createService (auth, mTLS, OpenAPI).
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { fromHex, toHex } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { decodeCommand } from '../../apdu/command.ts';
import { OtaError } from './errors.ts';
import { MAX_SCRIPT_COMMANDS, type ScriptOptions } from './ota-server.ts';
import { PROBLEM_CONTENT_TYPE, problem, type OtaProblemCode } from './problem.ts';

export interface OtaAdminApiOptions {
  readonly ota: { transmitScript(deviceId: string, apdus: readonly Uint8Array[], options?: ScriptOptions): Promise<Uint8Array[]> };
  /** Longest time limit a caller may ask for (default 120 000 ms). */
  readonly maxTimeoutMs?: number;
}

export interface ScriptRequestBody {
  readonly targetAid?: string;
  readonly apdus: readonly string[];
  readonly timeoutMs?: number;
}

export interface ScriptResponseBody {
  readonly responses: readonly string[];
}

const HEX = /^(?:[0-9A-Fa-f]{2})+$/;
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

class Refusal extends Error {
  readonly status: number;
  readonly code: OtaProblemCode;
  readonly extra: Record<string, unknown>;
  constructor(status: number, code: OtaProblemCode, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

/** Validate the body; returns the decoded script or throws Refusal(400). */
export function parseScriptRequest(body: unknown, maxTimeoutMs = 120_000): { apdus: Uint8Array[]; options: ScriptOptions } {
  const bad = (detail: string) => new Refusal(400, 'VALIDATION', detail);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['targetAid', 'apdus', 'timeoutMs'].includes(k)) throw bad(`unknown member ${k.slice(0, 40)}`);
  if (!Array.isArray(o.apdus) || o.apdus.length === 0 || o.apdus.length > MAX_SCRIPT_COMMANDS) throw bad(`apdus must be an array of 1 to ${MAX_SCRIPT_COMMANDS} hex strings`);
  const apdus = o.apdus.map((a: unknown, i: number) => {
    if (typeof a !== 'string' || !HEX.test(a) || a.length > 2 * 65_546) throw bad(`apdus[${i}] is not an even-length hex string of at most 65 546 bytes`);
    const bytes = fromHex(a);
    try {
      decodeCommand(bytes);
    } catch (e) {
      if (e instanceof CodecError) throw bad(`apdus[${i}] is not a command APDU: ${e.message}`);
      throw e;
    }
    return bytes;
  });
  let targetAid: Uint8Array | undefined;
  if (o.targetAid !== undefined) {
    if (typeof o.targetAid !== 'string' || !HEX.test(o.targetAid) || o.targetAid.length < 10 || o.targetAid.length > 32) throw bad('targetAid must be 5 to 16 bytes in hex');
    targetAid = fromHex(o.targetAid);
  }
  if (o.timeoutMs !== undefined && (typeof o.timeoutMs !== 'number' || !Number.isInteger(o.timeoutMs) || o.timeoutMs < 1 || o.timeoutMs > maxTimeoutMs)) {
    throw bad(`timeoutMs must be an integer from 1 to ${maxTimeoutMs}`);
  }
  return {
    apdus,
    options: { ...(targetAid ? { targetAid } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs as number } : {}) },
  };
}

function fromOtaError(e: OtaError): Refusal {
  switch (e.code) {
    case 'UNKNOWN_DEVICE':
      return new Refusal(404, 'UNKNOWN_DEVICE', e.message);
    case 'TIMEOUT':
      return new Refusal(504, 'DEVICE_TIMEOUT', e.message);
    case 'SESSION_LOST':
      return new Refusal(502, 'SESSION_LOST', e.message);
    case 'SCRIPT_STATUS':
      return new Refusal(502, 'SCRIPT_STATUS', e.message, { scriptStatus: e.scriptStatus });
    case 'BAD_FORMAT':
      return new Refusal(502, 'BAD_FORMAT', e.message);
    case 'CLOSED':
      return new Refusal(503, 'UNAVAILABLE', e.message);
    default:
      return new Refusal(500, 'INTERNAL', 'internal error');
  }
}

function send(reply: FastifyReply, status: number, code: OtaProblemCode, detail: string, instance: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(problem(status, code, detail, instance, extra));
}

export function buildOtaAdminApi(options: OtaAdminApiOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  const maxTimeout = options.maxTimeoutMs ?? 120_000;

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const instance = req.url.split('?')[0]!;
    if (err instanceof Refusal) return send(reply, err.status, err.code, err.message, instance, err.extra);
    if (err instanceof OtaError) {
      const r = fromOtaError(err);
      return send(reply, r.status, r.code, r.message, instance, r.extra);
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return send(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type application/json required', instance);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, 413, 'BODY_TOO_LARGE', 'request body too large', instance);
    if (err.statusCode === 400) return send(reply, 400, 'MALFORMED_JSON', 'the body is not valid JSON', instance);
    return send(reply, 500, 'INTERNAL', 'internal error', instance);
  });
  app.setNotFoundHandler((req, reply) => send(reply, 404, 'NOT_FOUND', 'no such resource', req.url.split('?')[0]!));

  app.post<{ Params: { id: string } }>('/devices/:id/scripts', async (req, reply) => {
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct !== 'application/json') throw new Refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type application/json required');
    if (!DEVICE_ID.test(req.params.id)) throw new Refusal(404, 'UNKNOWN_DEVICE', 'no such device');
    if (req.body === undefined || req.body === null) throw new Refusal(400, 'VALIDATION', 'a JSON body is required');
    const { apdus, options: scriptOptions } = parseScriptRequest(req.body, maxTimeout);
    const responses = await options.ota.transmitScript(req.params.id, apdus, scriptOptions);
    const body: ScriptResponseBody = { responses: responses.map((r) => toHex(r).toUpperCase()) };
    return reply.code(200).send(body);
  });
  return app;
}
