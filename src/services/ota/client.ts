/**
 * The OTA server's typed client (ARCHITECTURE.md §3: actors meet only through their clients).
 * `RemoteOtaChannel`: a `CardChannel` onto a phone through the OTA server's admin API (admin-api.ts), for
 * services in other processes. Problem codes come back as `OtaError`s with the same codes as in-process.
 * `otaCardAccess`: the issuer's and the provider's way to reach cards over the air.
 */
import type { Agent } from 'node:https';
import type { CardChannel } from '../../apdu/channel.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { agentFetch, CardAccessError } from '../common/card-access.ts';
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
};

export class RemoteOtaChannel implements CardChannel {
  readonly deviceId: string;
  readonly #o: RemoteOtaChannelOptions;
  readonly #url: string;

  constructor(options: RemoteOtaChannelOptions) {
    this.#o = options;
    this.deviceId = options.deviceId;
    this.#url = new URL(`/devices/${encodeURIComponent(options.deviceId)}/scripts`, options.baseUrl).href;
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
    const f = this.#o.fetch ?? fetch;
    const res = await f(this.#url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new OtaError('BAD_RESPONSE', `OTA admin API answered ${res.status} without JSON`, { deviceId: this.deviceId });
    }
    if (res.status !== 200) {
      const p = json as { code?: unknown; detail?: unknown; scriptStatus?: unknown };
      const code = typeof p.code === 'string' ? (CODES[p.code] ?? 'BAD_RESPONSE') : 'BAD_RESPONSE';
      throw new OtaError(code, `OTA admin API: ${res.status} ${String(p.code)}: ${String(p.detail ?? '')}`, {
        deviceId: this.deviceId,
        ...(typeof p.scriptStatus === 'string' ? { scriptStatus: p.scriptStatus } : {}),
      });
    }
    const responses = (json as { responses?: unknown }).responses;
    if (!Array.isArray(responses) || responses.length > commands.length || !responses.every((r) => typeof r === 'string' && /^(?:[0-9A-Fa-f]{2}){2,}$/.test(r))) {
      throw new OtaError('BAD_RESPONSE', 'OTA admin API answered a malformed responses list', { deviceId: this.deviceId });
    }
    return responses.map((r: string) => fromHex(r));
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
      ...(f !== undefined ? { fetch: f } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  };
}
