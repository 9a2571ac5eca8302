/**
 * How the platforms reach a card (docs/architecture.md §2: only APDUs over a transport). Over the air, through the
 * OTA server's admin API (`POST /devices/{id}/scripts`, device id = card id; `otaCardAccess` in the OTA's
 * client, services/ota/client.ts); through a provider's business
 * terminal (wired by the terminal service: any `CardAccess` for `{ kind: 'terminal' }` routes).
 */
import { request as httpsRequest, type Agent } from 'node:https';
import { OpentsmError } from '../../core/errors.ts';
import type { CardAccess, CardRoute } from './deps.ts';

export type CardAccessErrorCode = 'NO_ROUTE';

/** The service has no way to reach a card over the requested route. */
export class CardAccessError extends OpentsmError {
  declare readonly code: CardAccessErrorCode;
  constructor(code: CardAccessErrorCode, message: string) {
    super(code, message);
  }
}

/** A `fetch` (for an actor's client) that goes through `agent` (mutual TLS to an https admin API). */
export function agentFetch(agent: Agent): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const body = typeof init?.body === 'string' ? init.body : undefined;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    return new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: init?.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 502;
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          // 204 and 304 carry no body (the Response constructor refuses one).
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }) as typeof fetch;
}

/** Dispatch on the route's kind; a kind without an access refuses with CardAccessError('NO_ROUTE'). */
export function routedCardAccess(routes: { readonly ota?: CardAccess; readonly terminal?: CardAccess }): CardAccess {
  return async (cardId, route) => {
    const access = route.kind === 'ota' ? routes.ota : routes.terminal;
    if (access === undefined) throw new CardAccessError('NO_ROUTE', `this service cannot reach cards over ${route.kind} routes`);
    return access(cardId, route);
  };
}
