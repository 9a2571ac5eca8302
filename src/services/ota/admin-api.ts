/**
 * The OTA server's platform-facing HTTP API on the platform's createService (problem+json, OpenAPI, request
 * ids, mutual TLS; callers admitted by certificate identity, never by URL):
 *
 *   POST /devices/{id}/scripts   (script callers, default `issuer` and `provider`)
 *        `{ targetAid?: hex, apdus: hex[], timeoutMs?: number }` → `200 { responses: hex[] }` — how issuer and
 *        provider (separate processes) reach phones (RemoteOtaChannel). Errors: 400 VALIDATION /
 *        MALFORMED_JSON, 415, 404 UNKNOWN_DEVICE, 504 DEVICE_TIMEOUT, 502 SESSION_LOST / SCRIPT_STATUS /
 *        BAD_FORMAT, 503 UNAVAILABLE, 503 CARD_BUSY (Retry-After). Nothing is queued for a refused request.
 *        The script is a conversation of its own: it waits for the card like any other (see below).
 *   POST   /devices/{id}/conversations                  (script callers) `{}` → `201 { conversationId, idleTimeoutMs }`
 *        once the card is free (first come, first served); until closed, or `idleTimeoutMs` without a script, it
 *        holds the card and every other caller waits. Waiting longer than the server allows: 503 CARD_BUSY with
 *        Retry-After (nothing is held).
 *   POST   /devices/{id}/conversations/{cid}/scripts     the body and answer of /scripts, inside the conversation;
 *        409 CONVERSATION_NOT_HELD when it is closed or expired (the script did not reach the card)
 *   DELETE /devices/{id}/conversations/{cid}             → 204; the card goes to the next in line
 *        Scoped (script-scope.ts): the issuer's scripts pass; a provider reaches only the applications the issuer
 *        granted it on that card, plus the listed probes; anything else → 403 SCRIPT_NOT_PERMITTED, audited,
 *        nothing sent. Scripts to one card are checked and sent one at a time (the tracked selection holds).
 *   PUT  /v1/devices/{id}/grants/{aid}   (issuers) `{ providerId }` → 200: the provider may address that AID
 *   DELETE /v1/devices/{id}/grants/{aid} (issuers) → 204 (404 when there was no grant)
 *   POST /v1/devices             (operators, default `operator`; Idempotency-Key) register a phone:
 *        `{ deviceId, pskIdentity, psk: hex, agentId? }` → 201 (the PSK is sealed, never answered); a weak PSK
 *        (psk-strength.ts) → 400 WEAK_PSK
 *   GET  /v1/devices/{id}        (operators) the registration, without the PSK
 */
import type { FastifyInstance } from 'fastify';
import { fromHex, toHex } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { decodeCommand } from '../../apdu/command.ts';
import { ProblemError, conflict, notFound } from '../../platform/errors.ts';
import { requirePeer } from '../../platform/http/peer.ts';
import { createService, type ServiceOptions } from '../../platform/http/service.ts';
import { KeyedLock } from '../common/keyed-lock.ts';
import { OtaError } from './errors.ts';
import { MemoryCardGrants, type CardGrants } from './grants.ts';
import { SelectionTracker, checkProviderScript } from './script-scope.ts';
import { weakPskReason } from './psk-strength.ts';
import { MAX_SCRIPT_COMMANDS, type ScriptOptions } from './ota-server.ts';
import { DEVICE_ID, DeviceStoreError, type DeviceRegistration, type DeviceView } from './device-store.ts';

export const OTA_VERSION = '0.3.0';

export interface OtaAdminApiOptions extends Pick<ServiceOptions, 'logger' | 'tls' | 'identify' | 'idempotency' | 'requestTimeoutMs'> {
  readonly ota: {
    transmitScript(deviceId: string, apdus: readonly Uint8Array[], options?: ScriptOptions): Promise<Uint8Array[]>;
    /** Per-card conversations (absent: no /conversations routes). */
    openConversation?(deviceId: string): Promise<{ conversationId: string; idleTimeoutMs: number }>;
    closeConversation?(deviceId: string, conversationId: string): void;
  };
  /** Device registry for the operator routes (absent: no /v1/devices routes). */
  readonly devices?: {
    register(reg: DeviceRegistration, actor: string): Promise<DeviceView>;
    get(deviceId: string): Promise<DeviceView | undefined>;
  };
  /** Certificate CNs admitted to POST /devices/{id}/scripts (default ['issuer', 'provider']). */
  readonly scriptCallers?: readonly string[];
  /** Script callers that own the cards (their scripts are not scoped; they manage grants). Default ['issuer']. */
  readonly issuers?: readonly string[];
  /** Which provider may address which AIDs on which card (default: in memory, empty). */
  readonly grants?: CardGrants;
  /** Record a refused script (audit); called before the 403 leaves. */
  readonly auditRefusal?: (r: { actor: string; deviceId: string; index: number; reason: string }) => Promise<void>;
  /** Certificate CNs admitted to the device registry (default ['operator']). */
  readonly operators?: readonly string[];
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

function validation(detail: string): ProblemError {
  return new ProblemError({ status: 400, code: 'VALIDATION', detail });
}

/** Validate the body; returns the decoded script or throws ProblemError(400 VALIDATION). */
export function parseScriptRequest(body: unknown, maxTimeoutMs = 120_000): { apdus: Uint8Array[]; options: ScriptOptions } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validation('body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['targetAid', 'apdus', 'timeoutMs'].includes(k)) throw validation(`unknown member ${k.slice(0, 40)}`);
  if (!Array.isArray(o.apdus) || o.apdus.length === 0 || o.apdus.length > MAX_SCRIPT_COMMANDS) throw validation(`apdus must be an array of 1 to ${MAX_SCRIPT_COMMANDS} hex strings`);
  const apdus = o.apdus.map((a: unknown, i: number) => {
    if (typeof a !== 'string' || !HEX.test(a) || a.length > 2 * 65_546) throw validation(`apdus[${i}] is not an even-length hex string of at most 65 546 bytes`);
    const bytes = fromHex(a);
    try {
      decodeCommand(bytes);
    } catch (e) {
      if (e instanceof CodecError) throw validation(`apdus[${i}] is not a command APDU: ${e.message}`);
      throw e;
    }
    return bytes;
  });
  let targetAid: Uint8Array | undefined;
  if (o.targetAid !== undefined) {
    if (typeof o.targetAid !== 'string' || !HEX.test(o.targetAid) || o.targetAid.length < 10 || o.targetAid.length > 32) throw validation('targetAid must be 5 to 16 bytes in hex');
    targetAid = fromHex(o.targetAid);
  }
  if (o.timeoutMs !== undefined && (typeof o.timeoutMs !== 'number' || !Number.isInteger(o.timeoutMs) || o.timeoutMs < 1 || o.timeoutMs > maxTimeoutMs)) {
    throw validation(`timeoutMs must be an integer from 1 to ${maxTimeoutMs}`);
  }
  return {
    apdus,
    options: { ...(targetAid ? { targetAid } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs as number } : {}) },
  };
}

/** The problem the caller sees for an OtaError of the server. */
export function otaProblem(e: OtaError): ProblemError {
  switch (e.code) {
    case 'UNKNOWN_DEVICE':
      return new ProblemError({ status: 404, code: 'UNKNOWN_DEVICE', detail: e.message });
    case 'TIMEOUT':
      return new ProblemError({ status: 504, code: 'DEVICE_TIMEOUT', detail: e.message });
    case 'SESSION_LOST':
      return new ProblemError({ status: 502, code: 'SESSION_LOST', detail: e.message });
    case 'SCRIPT_STATUS':
      return new ProblemError({ status: 502, code: 'SCRIPT_STATUS', detail: e.message, extra: e.scriptStatus !== undefined ? { scriptStatus: e.scriptStatus } : {} });
    case 'BAD_FORMAT':
      return new ProblemError({ status: 502, code: 'BAD_FORMAT', detail: e.message });
    case 'CLOSED':
      return new ProblemError({ status: 503, code: 'UNAVAILABLE', detail: e.message });
    case 'BUSY':
      return new ProblemError({ status: 503, code: 'CARD_BUSY', detail: e.message, headers: { 'retry-after': String(e.retryAfterSeconds ?? 2) } });
    case 'NOT_HELD':
      return new ProblemError({ status: 409, code: 'CONVERSATION_NOT_HELD', detail: e.message });
    default:
      return new ProblemError({ status: 500, code: 'INTERNAL', detail: 'internal error' });
  }
}

// The body schema is deliberately loose (the contract needs one; parseScriptRequest gives the exact
// messages for members, hex and APDU structure).
const scriptBody = { type: 'object', description: '{ targetAid?: hex, apdus: hex[] (1..255 C-APDUs), timeoutMs?: integer }' } as const;
const scriptAnswer = {
  type: 'object',
  required: ['responses'],
  properties: { responses: { type: 'array', items: { type: 'string' } } },
  additionalProperties: false,
} as const;
const deviceParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 256 } },
  additionalProperties: false,
} as const;
const conversationParams = {
  type: 'object',
  required: ['id', 'cid'],
  properties: { id: { type: 'string', maxLength: 256 }, cid: { type: 'string', maxLength: 64 } },
  additionalProperties: false,
} as const;
const conversationBody = { type: 'object', properties: {}, additionalProperties: false } as const;
const conversationAnswer = {
  type: 'object',
  required: ['conversationId', 'idleTimeoutMs'],
  properties: { conversationId: { type: 'string' }, idleTimeoutMs: { type: 'integer' } },
  additionalProperties: false,
} as const;
const deviceBody = {
  type: 'object',
  required: ['deviceId', 'pskIdentity', 'psk'],
  properties: {
    deviceId: { type: 'string', pattern: DEVICE_ID.source },
    pskIdentity: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
    psk: { type: 'string', pattern: '^([0-9A-Fa-f]{2}){16,64}$', description: 'the PSK, 16 to 64 bytes in hex (sealed at once; never answered)' },
    agentId: { type: 'string', minLength: 1, maxLength: 256 },
  },
  additionalProperties: false,
} as const;
const deviceView = {
  type: 'object',
  required: ['deviceId', 'pskIdentity', 'agentId', 'createdAt'],
  properties: { deviceId: { type: 'string' }, pskIdentity: { type: 'string' }, agentId: { type: ['string', 'null'] }, createdAt: { type: 'string' } },
  additionalProperties: false,
} as const;

export async function buildOtaAdminApi(options: OtaAdminApiOptions): Promise<FastifyInstance> {
  const app = await createService({
    name: 'ota',
    version: OTA_VERSION,
    description: 'OTA server admin API: RAM over HTTP scripts to phones (GP Amendment B, SCP81 PSK-TLS) and the device registry',
    bodyLimit: 2 * 1024 * 1024,
    logger: options.logger ?? false,
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.identify !== undefined ? { identify: options.identify } : {}),
    ...(options.idempotency !== undefined ? { idempotency: options.idempotency } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  const maxTimeout = options.maxTimeoutMs ?? 120_000;
  const scripts = requirePeer(...(options.scriptCallers ?? ['issuer', 'provider']));
  const issuers = new Set(options.issuers ?? ['issuer']);
  const issuerOnly = requirePeer(...issuers);
  const grants = options.grants ?? new MemoryCardGrants();
  const tracker = new SelectionTracker();
  const perCard = new KeyedLock();

  const jsonOnly = async (req: { headers: Record<string, string | string[] | undefined> }) => {
    const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct !== 'application/json') throw new ProblemError({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'Content-Type application/json required' });
  };
  /**
   * Check (scope) and send one script. The check and the sending happen while the caller holds the card — a
   * conversation of its own for a plain script — and under the per-card lock, so the tracked selection that the
   * check relies on is the card's when the script runs (a plain script never waits for the card holding the lock).
   */
  const runScript = async (deviceId: string, body: unknown, caller: string, log: { warn(o: object, m: string): void }, conversationId?: string): Promise<ScriptResponseBody> => {
    if (!DEVICE_ID.test(deviceId)) throw new ProblemError({ status: 404, code: 'UNKNOWN_DEVICE', detail: 'no such device' });
    const { apdus, options: scriptOptions } = parseScriptRequest(body, maxTimeout);
    const checkAndSend = (cid: string | undefined) =>
      perCard.run(deviceId, async () => {
        let probes: readonly number[] = [];
        if (!issuers.has(caller)) {
          const decision = checkProviderScript(apdus, await grants.aidsOf(deviceId, caller), tracker.get(deviceId), scriptOptions.targetAid);
          if (decision.refusal !== undefined) {
            const { index, reason } = decision.refusal;
            await options.auditRefusal?.({ actor: caller, deviceId, index, reason });
            log.warn({ deviceId, caller, index, reason }, 'script refused');
            throw new ProblemError({ status: 403, code: 'SCRIPT_NOT_PERMITTED', detail: index < 0 ? reason : `apdus[${index}]: ${reason}`, extra: { index } });
          }
          probes = decision.probes;
        }
        let answered: Uint8Array[];
        try {
          answered = await options.ota.transmitScript(deviceId, apdus, { ...scriptOptions, ...(cid !== undefined ? { conversationId: cid } : {}) });
        } catch (e) {
          tracker.lost(deviceId);
          if (e instanceof OtaError) throw otaProblem(e);
          throw e;
        }
        tracker.answered(deviceId, apdus, answered, scriptOptions.targetAid !== undefined);
        // An existence probe (SELECT of an application that is not the caller's) is answered with its status word only.
        return answered.map((r, n) => (probes.includes(n) ? r.subarray(Math.max(0, r.length - 2)) : r));
      });
    let responses: Uint8Array[];
    const { openConversation, closeConversation } = options.ota;
    if (conversationId !== undefined || openConversation === undefined || closeConversation === undefined) {
      responses = await checkAndSend(conversationId);
    } else {
      let held: string;
      try {
        held = (await openConversation.call(options.ota, deviceId)).conversationId;
      } catch (e) {
        if (e instanceof OtaError) throw otaProblem(e);
        throw e;
      }
      try {
        responses = await checkAndSend(held);
      } finally {
        try {
          closeConversation.call(options.ota, deviceId, held);
        } catch {
          // already expired: the card went to the next in line
        }
      }
    }
    return { responses: responses.map((r) => toHex(r).toUpperCase()) };
  };

  app.post<{ Params: { id: string } }>(
    '/devices/:id/scripts',
    {
      onRequest: scripts,
      preValidation: jsonOnly,
      schema: { summary: 'Run a script of C-APDUs on a phone', tags: ['scripts'], params: deviceParams, body: scriptBody, response: { 200: scriptAnswer } },
    },
    async (req) => runScript(req.params.id, req.body, req.peer?.commonName ?? '', req.log),
  );

  const { openConversation, closeConversation } = options.ota;
  if (openConversation !== undefined && closeConversation !== undefined) {
    const ota = options.ota;
    app.post<{ Params: { id: string } }>(
      '/devices/:id/conversations',
      {
        onRequest: scripts,
        preValidation: jsonOnly,
        schema: {
          summary: 'Wait for the card and hold it: a conversation (one secure channel session) that others queue behind',
          tags: ['scripts'],
          params: deviceParams,
          body: conversationBody,
          response: { 201: conversationAnswer },
        },
      },
      async (req, reply) => {
        if (!DEVICE_ID.test(req.params.id)) throw new ProblemError({ status: 404, code: 'UNKNOWN_DEVICE', detail: 'no such device' });
        try {
          return reply.code(201).send(await openConversation.call(ota, req.params.id));
        } catch (e) {
          if (e instanceof OtaError) throw otaProblem(e);
          throw e;
        }
      },
    );
    app.post<{ Params: { id: string; cid: string } }>(
      '/devices/:id/conversations/:cid/scripts',
      {
        onRequest: scripts,
        preValidation: jsonOnly,
        schema: { summary: 'Run a script inside a conversation', tags: ['scripts'], params: conversationParams, body: scriptBody, response: { 200: scriptAnswer } },
      },
      async (req) => runScript(req.params.id, req.body, req.peer?.commonName ?? '', req.log, req.params.cid),
    );
    app.delete<{ Params: { id: string; cid: string } }>(
      '/devices/:id/conversations/:cid',
      { onRequest: scripts, schema: { summary: 'End a conversation: the card goes to the next in line', tags: ['scripts'], params: conversationParams, response: { 204: { description: 'The card goes to the next in line', type: 'null' } } } },
      async (req, reply) => {
        try {
          closeConversation.call(ota, req.params.id, req.params.cid);
        } catch (e) {
          if (e instanceof OtaError) throw otaProblem(e);
          throw e;
        }
        return reply.code(204).send();
      },
    );
  }

  const grantParams = {
    type: 'object',
    required: ['id', 'aid'],
    properties: { id: { type: 'string', pattern: DEVICE_ID.source }, aid: { type: 'string', pattern: '^([0-9A-Fa-f]{2}){5,16}$' } },
    additionalProperties: false,
  } as const;
  const grantBody = {
    type: 'object',
    required: ['providerId'],
    properties: { providerId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } },
    additionalProperties: false,
  } as const;
  const grantView = {
    type: 'object',
    required: ['deviceId', 'aid', 'providerId'],
    properties: { deviceId: { type: 'string' }, aid: { type: 'string' }, providerId: { type: 'string' } },
    additionalProperties: false,
  } as const;
  app.put<{ Params: { id: string; aid: string }; Body: { providerId: string } }>(
    '/v1/devices/:id/grants/:aid',
    {
      onRequest: issuerOnly,
      schema: { summary: 'The issuer lets a provider address an application (its SSD) on a card', tags: ['grants'], params: grantParams, body: grantBody, response: { 200: grantView } },
    },
    async (req) => {
      const g = { deviceId: req.params.id, aid: req.params.aid.toUpperCase(), providerId: req.body.providerId };
      if (issuers.has(g.providerId)) throw new ProblemError({ status: 400, code: 'VALIDATION', detail: 'the issuer needs no grant' });
      await grants.grant(g, req.peer?.commonName ?? 'unknown');
      return g;
    },
  );
  app.delete<{ Params: { id: string; aid: string } }>(
    '/v1/devices/:id/grants/:aid',
    { onRequest: issuerOnly, schema: { summary: 'Withdraw a grant (the SSD was deleted)', tags: ['grants'], params: grantParams, response: { 204: { type: 'null' } } } },
    async (req, reply) => {
      if (!(await grants.revoke(req.params.id, req.params.aid, req.peer?.commonName ?? 'unknown'))) throw notFound(`no grant of ${req.params.aid} on ${req.params.id}`, 'UNKNOWN_GRANT');
      return reply.code(204).send();
    },
  );

  const devices = options.devices;
  if (devices !== undefined) {
    const operator = requirePeer(...(options.operators ?? ['operator']));
    app.post<{ Body: { deviceId: string; pskIdentity: string; psk: string; agentId?: string } }>(
      '/v1/devices',
      {
        onRequest: operator,
        config: { idempotent: options.idempotency !== undefined },
        schema: { summary: 'Register a phone and its admin agent PSK', tags: ['devices'], body: deviceBody, response: { 201: deviceView } },
      },
      async (req, reply) => {
        const b = req.body;
        const psk = fromHex(b.psk);
        try {
          const weak = weakPskReason(psk);
          if (weak !== undefined) throw new ProblemError({ status: 400, code: 'WEAK_PSK', detail: `${weak}; register a random key` });
          const view = await devices.register(
            { deviceId: b.deviceId, pskIdentity: b.pskIdentity, psk, ...(b.agentId !== undefined ? { agentId: b.agentId } : {}) },
            req.peer?.commonName ?? 'unknown',
          );
          return reply.code(201).send(view);
        } catch (e) {
          if (e instanceof DeviceStoreError && e.code === 'WEAK_PSK') throw new ProblemError({ status: 400, code: 'WEAK_PSK', detail: e.message });
          if (e instanceof DeviceStoreError) throw conflict(e.message, 'ALREADY_EXISTS');
          throw e;
        } finally {
          psk.fill(0);
        }
      },
    );
    app.get<{ Params: { id: string } }>(
      '/v1/devices/:id',
      { onRequest: operator, schema: { summary: 'A registered phone (no PSK)', tags: ['devices'], params: deviceParams, response: { 200: deviceView } } },
      async (req) => {
        const v = DEVICE_ID.test(req.params.id) ? await devices.get(req.params.id) : undefined;
        if (!v) throw notFound(`no device ${req.params.id.slice(0, 128)}`, 'UNKNOWN_DEVICE');
        return v;
      },
    );
  }
  return app;
}
