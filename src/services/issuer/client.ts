/**
 * `IssuerHttpClient`: the provider's side of the issuer's API (the provider's IssuerClient port, structurally)
 * over a PlatformClient with mutual TLS. Every POST carries an Idempotency-Key that is stable for
 * (operation, card, AID[, scope]) — a retry after a lost answer replays the issuer's first answer instead of
 * acting twice. `withScope(flowId)` keys the requests of one take-over flow apart from an earlier, abandoned
 * one (whose refusal the issuer would otherwise replay).
 */
import { fromHex } from '../../core/bytes.ts';
import type { PrivilegeName } from '../../gp/privileges.ts';
import type { PlatformClient } from '../../platform/http/client.ts';
import type { KeySetKcvs, SdKeySet } from '../sd-keys/key-set.ts';
import type { CardRoute } from '../common/deps.ts';
import type { AsymmetricSdInfo, AsymmetricVariant, TrustPointKey } from '../sd-keys/asymmetric.ts';

/** An SSD as the issuer's API shows it (`GET /v1/cards/{cardId}/ssds[/{aid}]`). */
export interface IssuerSsdView {
  readonly aid: string;
  readonly providerId: string;
  readonly managedBy: 'provider' | 'issuer';
  readonly state: string;
  readonly scp: number;
  readonly kvn: number;
  readonly kcvs: KeySetKcvs;
  /** Whether the issuer holds keys of this SSD (issuer-managed, or until the hand-over is acknowledged). */
  readonly keysHeld: boolean;
  readonly keysExpireAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SsdRequestAnswer {
  readonly cardId: string;
  readonly aid: string;
  readonly step: string;
  readonly flowId: string;
}

/** `POST /v1/asymmetric-ssd-requests`: an asymmetric SSD for the calling provider (docs/architecture.md §4 flow 4). */
export interface AsymmetricSsdRequest {
  readonly cardId: string;
  readonly aid: string;
  readonly privileges: readonly PrivilegeName[];
  readonly route: CardRoute;
  readonly variant: AsymmetricVariant;
  readonly trustPoint: TrustPointKey;
  readonly modulusBits?: 1024 | 2048;
}

/**
 * The issuer's API as another platform calls it. The caller's own ports (the provider's IssuerClient and
 * AsymmetricIssuerPort) are satisfied structurally: the issuer does not depend on its callers' types.
 */
export class IssuerHttpClient {
  readonly #http: PlatformClient;
  readonly #scope: string | undefined;

  constructor(http: PlatformClient, options: { scope?: string } = {}) {
    this.#http = http;
    this.#scope = options.scope;
  }

  /** The same client with idempotency keys scoped to `scope` (e.g. the provider's flow id). */
  withScope(scope: string): IssuerHttpClient {
    return new IssuerHttpClient(this.#http, { scope });
  }

  idempotencyKey(operation: string, cardId: string, aid: string): string {
    return [operation, cardId.toUpperCase(), aid.toUpperCase(), ...(this.#scope === undefined ? [] : [this.#scope])].join(':');
  }

  async requestSsd(req: { cardId: string; aid: string; privileges: readonly PrivilegeName[]; route: CardRoute; managedBy?: 'provider' | 'issuer' }): Promise<SsdRequestAnswer> {
    const r = await this.#http.post<SsdRequestAnswer>('/v1/ssd-requests', {
      body: { cardId: req.cardId, aid: req.aid, privileges: req.privileges, route: req.route, ...(req.managedBy ? { managedBy: req.managedBy } : {}) },
      idempotencyKey: this.idempotencyKey('ssd-request', req.cardId, req.aid),
    });
    return r.body;
  }

  async requestAsymmetricSsd(req: AsymmetricSsdRequest): Promise<AsymmetricSdInfo> {
    const r = await this.#http.post<AsymmetricSdInfo>('/v1/asymmetric-ssd-requests', {
      body: {
        cardId: req.cardId,
        aid: req.aid,
        privileges: req.privileges,
        route: req.route,
        variant: req.variant,
        trustPoint: req.trustPoint,
        ...(req.modulusBits !== undefined ? { modulusBits: req.modulusBits } : {}),
      },
      idempotencyKey: this.idempotencyKey('asymmetric-ssd-request', req.cardId, req.aid),
    });
    const { flowId: _flowId, ...info } = r.body as AsymmetricSdInfo & { flowId?: string };
    return info;
  }

  async fetchInitialKeys(cardId: string, aid: string): Promise<SdKeySet> {
    const r = await this.#http.post<{ kvn: number; scp: 2 | 3; enc: string; mac: string; dek: string }>(`/v1/cards/${cardId}/ssds/${aid}/handover`, {
      body: {},
      idempotencyKey: this.idempotencyKey('handover', cardId, aid),
    });
    const k = r.body;
    if (!Number.isInteger(k.kvn) || (k.scp !== 2 && k.scp !== 3) || ![k.enc, k.mac, k.dek].every((v) => typeof v === 'string' && /^[0-9A-Fa-f]{32}$/.test(v))) {
      throw new TypeError('the issuer answered a malformed key set');
    }
    return { kvn: k.kvn, scp: k.scp, enc: fromHex(k.enc), mac: fromHex(k.mac), dek: fromHex(k.dek) };
  }

  async acknowledgeHandover(cardId: string, aid: string): Promise<void> {
    await this.#http.post(`/v1/cards/${cardId}/ssds/${aid}/handover-ack`, { body: {}, idempotencyKey: this.idempotencyKey('handover-ack', cardId, aid) });
  }

  async ssds(cardId: string): Promise<IssuerSsdView[]> {
    return (await this.#http.get<{ ssds: IssuerSsdView[] }>(`/v1/cards/${cardId}/ssds`)).body.ssds;
  }
}
