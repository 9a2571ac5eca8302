/**
 * The OTA server's typed client (docs/architecture.md §3: actors meet only through their clients).
 * `RemoteOtaChannel`: a `CardChannel` onto a phone through the OTA server's admin API (admin-api.ts), for
 * services in other processes. Problem codes come back as `OtaError`s with the same codes as in-process.
 * `otaCardAccess`: the issuer's and the provider's way to reach cards over the air.
 * `otaGrantsClient`: the issuer's grants (which provider may address which AID on which card, issue 8 §4).
 *
 * With `conversation: true` the channel holds the card for its whole use (issue 8 §2): the first script opens a
 * conversation (`POST /devices/{id}/conversations`, waiting its turn), every script goes to it, and `close()`
 * ends it (`DELETE …/conversations/{cid}`) — so a secure channel session is never interleaved with another
 * caller's scripts. After `close()` the next script opens a new conversation.
 */
import type { Agent } from 'node:https';
import type { CardChannel } from '../../apdu/channel.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { PlatformClient, RemoteProblemError } from '../../platform/http/client.ts';
import { agentFetch, CardAccessError } from '../common/card-access.ts';
import { HeldConversation } from '../common/held-conversation.ts';
import type { CardAccess, CardRoute } from '../common/deps.ts';
import { OtaError, type OtaErrorCode } from './errors.ts';

export interface RemoteOtaChannelOptions {
  /** Base URL of the OTA admin API, e.g. http://127.0.0.1:7300. */
  readonly baseUrl: string;
  readonly deviceId: string;
  readonly targetAid?: Uint8Array;
  /** Time limit per script asked of the server. */
  readonly timeoutMs?: number;
  /** fetch to use (for mTLS agents, tests); default global fetch. */
  readonly fetch?: typeof fetch;
  /** Hold the card from the first script until close() (default false: each script queues on its own). */
  readonly conversation?: boolean;
}

const CODES: Record<string, OtaErrorCode> = {
  UNKNOWN_DEVICE: 'UNKNOWN_DEVICE',
  DEVICE_TIMEOUT: 'TIMEOUT',
  SESSION_LOST: 'SESSION_LOST',
  SCRIPT_STATUS: 'SCRIPT_STATUS',
  BAD_FORMAT: 'BAD_FORMAT',
  VALIDATION: 'BAD_REQUEST',
  MALFORMED_JSON: 'BAD_REQUEST',
  UNAVAILABLE: 'CLOSED',
  CARD_BUSY: 'BUSY',
  CONVERSATION_NOT_HELD: 'NOT_HELD',
};

export class RemoteOtaChannel implements CardChannel {
  readonly deviceId: string;
  readonly #o: RemoteOtaChannelOptions;
  readonly #device: string;
  /** The conversation held (conversation mode). */
  readonly #conversation = new HeldConversation(() => this.#open());

  constructor(options: RemoteOtaChannelOptions) {
    this.#o = options;
    this.deviceId = options.deviceId;
    this.#device = new URL(`/devices/${encodeURIComponent(options.deviceId)}/`, options.baseUrl).href;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    const [r] = await this.transmitScript([command]);
    if (r === undefined) throw new OtaError('BAD_RESPONSE', 'no R-APDU came back', { deviceId: this.deviceId });
    return r;
  }

  async transmitScript(commands: readonly Uint8Array[]): Promise<Uint8Array[]> {
    const body = {
      apdus: commands.map((c) => toHex(c).toUpperCase()),
      ...(this.#o.targetAid ? { targetAid: toHex(this.#o.targetAid).toUpperCase() } : {}),
      ...(this.#o.timeoutMs !== undefined ? { timeoutMs: this.#o.timeoutMs } : {}),
    };
    let path = 'scripts';
    if (this.#o.conversation) {
      const id = await this.#conversation.id();
      path = `conversations/${encodeURIComponent(id)}/scripts`;
    }
    let json: unknown;
    try {
      json = await this.#call('POST', path, body, 200);
    } catch (e) {
      // The conversation is gone (idle time limit): the next script opens a new one; this one's fate is known
      // (it was refused before reaching the card), but the secure channel of the caller is lost with it.
      if (e instanceof OtaError && e.code === 'NOT_HELD') this.#conversation.lost();
      throw e;
    }
    const responses = (json as { responses?: unknown }).responses;
    if (!Array.isArray(responses) || responses.length > commands.length || !responses.every((r) => typeof r === 'string' && /^(?:[0-9A-Fa-f]{2}){2,}$/.test(r))) {
      throw new OtaError('BAD_RESPONSE', 'OTA admin API answered a malformed responses list', { deviceId: this.deviceId });
    }
    return responses.map((r: string) => fromHex(r));
  }

  /** End the conversation (conversation mode); the card goes to the next in line. Idempotent. */
  async close(): Promise<void> {
    const id = await this.#conversation.release();
    if (id === undefined) return;
    await this.#call('DELETE', `conversations/${encodeURIComponent(id)}`, undefined, 204).catch(() => undefined);
  }

  async #open(): Promise<string> {
    const json = await this.#call('POST', 'conversations', {}, 201);
    const id = (json as { conversationId?: unknown }).conversationId;
    if (typeof id !== 'string' || id.length === 0) throw new OtaError('BAD_RESPONSE', 'OTA admin API answered no conversation id', { deviceId: this.deviceId });
    return id;
  }

  async #call(method: string, path: string, body: unknown, ok: number): Promise<unknown> {
    const f = this.#o.fetch ?? fetch;
    const res = await f(new URL(path, this.#device).href, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status === ok && ok === 204) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new OtaError('BAD_RESPONSE', `OTA admin API answered ${res.status} without JSON`, { deviceId: this.deviceId });
    }
    if (res.status !== ok) {
      const p = json as { code?: unknown; detail?: unknown; scriptStatus?: unknown };
      const code = typeof p.code === 'string' ? (CODES[p.code] ?? 'BAD_RESPONSE') : 'BAD_RESPONSE';
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new OtaError(code, `OTA admin API: ${res.status} ${String(p.code)}: ${String(p.detail ?? '')}`, {
        deviceId: this.deviceId,
        ...(typeof p.scriptStatus === 'string' ? { scriptStatus: p.scriptStatus } : {}),
        ...(Number.isInteger(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      });
    }
    return json;
  }
}

export interface OtaCardAccessOptions {
  /** Time limit per script asked of the OTA server (default: the server's). */
  readonly timeoutMs?: number;
}

/** Cards reached through the OTA admin API at `otaAdminUrl`; `agent` for an https (mTLS) admin API. */
export function otaCardAccess(otaAdminUrl: string, agent?: Agent, options: OtaCardAccessOptions = {}): CardAccess {
  const base = new URL(otaAdminUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`OTA admin URL must be http(s), got ${otaAdminUrl}`);
  const f = agent !== undefined ? agentFetch(agent) : undefined;
  return async (cardId: string, route: CardRoute) => {
    if (route.kind !== 'ota') throw new CardAccessError('NO_ROUTE', `route ${route.kind} is not OTA`);
    return new RemoteOtaChannel({
      baseUrl: base.href,
      deviceId: cardId,
      // The channel holds the card from its first script until the flow closes it (one conversation, issue 8 §2).
      conversation: true,
      ...(f !== undefined ? { fetch: f } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  };
}

export interface OtaGrantsClient {
  /** Let `providerId` address `aid` on card `cardId` (idempotent). */
  grant(cardId: string, aid: string, providerId: string): Promise<void>;
  /** Withdraw the grant of `aid` on `cardId` (none is fine). */
  revoke(cardId: string, aid: string): Promise<void>;
}

const path = (cardId: string, aid: string) => `/v1/devices/${encodeURIComponent(cardId)}/grants/${encodeURIComponent(aid.toUpperCase())}`;

export function otaGrantsClient(client: Pick<PlatformClient, 'call'>): OtaGrantsClient {
  return {
    async grant(cardId, aid, providerId) {
      await client.call('PUT', path(cardId, aid), { body: { providerId } });
    },
    async revoke(cardId, aid) {
      try {
        await client.call('DELETE', path(cardId, aid));
      } catch (e) {
        if (e instanceof RemoteProblemError && e.status === 404) return;
        throw e;
      }
    },
  };
}
