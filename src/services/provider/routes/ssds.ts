/**
 * The provider's SSD routes (callers: the provider's own clients, by certificate CN):
 *
 *   GET  /v1/cards/{cardId}/ssds                 the provider's inventory of SSDs on a card (KCVs, no keys)
 *   GET  /v1/cards/{cardId}/ssds/{aid}
 *   POST /v1/cards/{cardId}/ssds                 (Idempotency-Key) get an SSD: the issuer creates it and hands it
 *        over, the provider replaces the initial keys with its own → 201 { state, kvn, kcvs, flowId }
 *   POST /v1/cards/{cardId}/ssds/{aid}/rotation  (Idempotency-Key) forced (or expiry) rotation of one SSD's keys
 * A request the issuer refuses before anything happened on the card (4xx at the `request` step) is abandoned:
 * the provider's row goes, the flow is marked failed, the issuer's problem code is answered.
 */
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { PrivilegeName } from '../../../gp/privileges.ts';
import { notFound } from '../../../platform/errors.ts';
import type { CardRoute, FlowDeps } from '../../common/deps.ts';
import { asProblem } from '../../common/flow-problem.ts';
import type { KeyedLock } from '../../common/keyed-lock.ts';
import { aidSchema, cardParams, kcvsSchema, privilegesSchema, routeSchema, ssdParams } from '../../common/schemas.ts';
import type { IssuerHttpClient } from '../../issuer/client.ts';
import type { IssuerClient } from '../flows/take-over.ts';
import { takeOverSsd } from '../take-over-run.ts';
import { getProviderSsd, listProviderSsds, rotateProviderSsd } from '../rotate.ts';

/** The issuer client; `withScope` (IssuerHttpClient) keys one flow's requests apart from an abandoned one. */
export type ScopedIssuerClient = IssuerClient & Partial<Pick<IssuerHttpClient, 'withScope'>>;

const ssdView = {
  type: 'object',
  required: ['cardId', 'aid', 'route', 'state', 'scp', 'kvn', 'kcvs', 'rotating', 'keysExpireAt', 'createdAt', 'updatedAt'],
  properties: {
    cardId: { type: 'string' },
    aid: { type: 'string' },
    route: { type: 'object', additionalProperties: true },
    state: { type: 'string' },
    scp: { type: 'integer' },
    kvn: { type: ['integer', 'null'] },
    kcvs: { oneOf: [kcvsSchema, { type: 'null' }] },
    rotating: { type: 'boolean' },
    keysExpireAt: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
  additionalProperties: false,
} as const;

const keysAnswer = {
  type: 'object',
  required: ['cardId', 'aid', 'state', 'kvn', 'kcvs', 'flowId'],
  properties: { cardId: { type: 'string' }, aid: { type: 'string' }, state: { type: 'string' }, kvn: { type: 'integer' }, kcvs: kcvsSchema, flowId: { type: 'string' } },
  additionalProperties: false,
} as const;

const takeOverBody = {
  type: 'object',
  required: ['aid', 'privileges', 'route'],
  properties: { aid: aidSchema, privileges: privilegesSchema, route: routeSchema },
  additionalProperties: false,
} as const;

const rotationBody = {
  type: 'object',
  required: ['reason'],
  properties: { reason: { type: 'string', enum: ['forced', 'expiry'] } },
  additionalProperties: false,
} as const;

/** Forget a take-over the issuer refused at its first step (nothing happened on the card). */
export async function providerSsdRoutes(
  app: FastifyInstance,
  deps: FlowDeps,
  options: { readonly issuer: ScopedIssuerClient; readonly locks: KeyedLock; readonly caller: onRequestAsyncHookHandler },
): Promise<void> {
  const { issuer, locks, caller } = options;

  app.get<{ Params: { cardId: string } }>(
    '/v1/cards/:cardId/ssds',
    {
      onRequest: caller,
      schema: {
        summary: "The provider's SSDs on a card",
        tags: ['ssds'],
        params: cardParams,
        response: { 200: { type: 'object', required: ['ssds'], properties: { ssds: { type: 'array', items: ssdView } }, additionalProperties: false } },
      },
    },
    async (request) => ({ ssds: await listProviderSsds(deps.db, request.params.cardId.toUpperCase()) }),
  );

  app.get<{ Params: { cardId: string; aid: string } }>(
    '/v1/cards/:cardId/ssds/:aid',
    { onRequest: caller, schema: { summary: 'One SSD', tags: ['ssds'], params: ssdParams, response: { 200: ssdView } } },
    async (request) => {
      const cardId = request.params.cardId.toUpperCase();
      const aid = request.params.aid.toUpperCase();
      const ssd = await getProviderSsd(deps.db, cardId, aid);
      if (!ssd) throw notFound(`no SSD ${aid} on card ${cardId}`);
      return ssd;
    },
  );

  app.post<{ Params: { cardId: string }; Body: { aid: string; privileges: PrivilegeName[]; route: CardRoute } }>(
    '/v1/cards/:cardId/ssds',
    {
      onRequest: caller,
      config: { idempotent: true },
      schema: { summary: 'Get an SSD from the issuer and take it over', tags: ['ssds'], params: cardParams, body: takeOverBody, response: { 201: keysAnswer } },
    },
    async (request, reply) => {
      const cardId = request.params.cardId.toUpperCase();
      const aid = request.body.aid.toUpperCase();
      let flowId: string | undefined;
      const flow = await asProblem(
        () => takeOverSsd(deps, issuer, locks, { cardId, aid, route: request.body.route, privileges: request.body.privileges }, (id) => (flowId = id)),
        () => (flowId === undefined ? {} : { flowId }),
      );
      const ssd = (await getProviderSsd(deps.db, cardId, aid))!;
      return reply.code(201).send({ cardId, aid, state: ssd.state, kvn: ssd.kvn, kcvs: ssd.kcvs, flowId: flow.id });
    },
  );

  app.post<{ Params: { cardId: string; aid: string }; Body: { reason: 'forced' | 'expiry' } }>(
    '/v1/cards/:cardId/ssds/:aid/rotation',
    {
      onRequest: caller,
      config: { idempotent: true },
      schema: { summary: "Rotate one SSD's keys", tags: ['ssds'], params: ssdParams, body: rotationBody, response: { 200: keysAnswer } },
    },
    async (request) => {
      const cardId = request.params.cardId.toUpperCase();
      const aid = request.params.aid.toUpperCase();
      let flowId: string | undefined;
      const flow = await asProblem(
        () => locks.run(`${cardId}/${aid}`, () => rotateProviderSsd(deps, { cardId, aid, reason: request.body.reason }, (f) => (flowId = f.id))),
        () => (flowId === undefined ? {} : { flowId }),
      );
      const ssd = (await getProviderSsd(deps.db, cardId, aid))!;
      return { cardId, aid, state: ssd.state, kvn: ssd.kvn, kcvs: ssd.kcvs, flowId: flow.id };
    },
  );
}
