/**
 * The issuer's SSD routes.
 *
 * Providers (peer = a registered provider id):
 *   POST /v1/ssd-requests                                (Idempotency-Key) create an SSD on a card: business
 *        permissions checked, then INSTALL, initial keys through the ISD, extradition; answers the flow's step
 *   POST /v1/cards/{cardId}/ssds/{aid}/handover          the SSD's initial key set (only while the flow waits at
 *        `handover`; repeatable until acknowledged — deliberately not kept by the idempotency store, which
 *        would hold the keys in clear)
 *   POST /v1/cards/{cardId}/ssds/{aid}/handover-ack      the provider holds the keys; the issuer forgets them
 *        → 204 (repeating it changes nothing, so it needs no idempotency record)
 * Providers (their own SSDs) and the operator:
 *   GET    /v1/cards/{cardId}/ssds                       what the issuer knows (no keys)
 *   GET    /v1/cards/{cardId}/ssds/{aid}                 one SSD: state, key version, KCVs (no keys)
 *   POST   /v1/cards/{cardId}/ssds/{aid}/lock | unlock   SET STATUS through the ISD
 *   DELETE /v1/cards/{cardId}/ssds/{aid}                 DELETE through the ISD, then the issuer forgets it
 *   POST   /v1/cards/{cardId}/ssds/{aid}/rotation        (Idempotency-Key) rotate an issuer-managed SSD's keys
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../../platform/errors.ts';
import type { PrivilegeName } from '../../../gp/privileges.ts';
import { toHex } from '../../../core/bytes.ts';
import { wipeKeySet } from '../../sd-keys/key-set.ts';
import type { CardRoute, FlowDeps } from '../../common/deps.ts';
import type { KeyedLock } from '../../common/keyed-lock.ts';
import { asProblem } from '../../common/flow-problem.ts';
import { aidSchema, cardIdSchema, cardParams, emptyBody, kcvsSchema, noContent, privilegesSchema, routeSchema, ssdParams } from '../../common/schemas.ts';
import { acknowledgeHandover, initialKeysForProvider, requestSsd, runCreateSsd } from '../flows/create-ssd.ts';
import { deleteSsd, getSsd, listSsds, rotateIssuerSsd, setSsdLock } from '../manage.ts';
import { byOf, providerOf, requireCaller } from './auth.ts';
import { ssdViewSchema } from './ssd-schemas.ts';

export interface IssuerRouteOptions {
  readonly locks: KeyedLock;
  /** Life of a rotated issuer-managed key set. */
  readonly keyLifetimeMs?: number;
}

const requestBody = {
  type: 'object',
  required: ['cardId', 'aid', 'privileges', 'route'],
  properties: {
    cardId: cardIdSchema,
    aid: aidSchema,
    privileges: privilegesSchema,
    route: routeSchema,
    managedBy: { type: 'string', enum: ['provider', 'issuer'], default: 'provider' },
  },
  additionalProperties: false,
} as const;

const flowAnswer = {
  type: 'object',
  required: ['cardId', 'aid', 'step', 'flowId'],
  properties: { cardId: { type: 'string' }, aid: { type: 'string' }, step: { type: 'string' }, flowId: { type: 'string' } },
  additionalProperties: false,
} as const;

const keySetAnswer = {
  type: 'object',
  required: ['kvn', 'scp', 'enc', 'mac', 'dek'],
  properties: { kvn: { type: 'integer' }, scp: { type: 'integer', enum: [2, 3] }, enc: { type: 'string' }, mac: { type: 'string' }, dek: { type: 'string' } },
  additionalProperties: false,
} as const;

const lockBody = { type: 'object', properties: { route: routeSchema }, additionalProperties: false } as const;
const rotationBody = {
  type: 'object',
  required: ['reason'],
  properties: { reason: { type: 'string', enum: ['forced', 'expiry'] } },
  additionalProperties: false,
} as const;
const rotationAnswer = {
  type: 'object',
  required: ['cardId', 'aid', 'kvn', 'kcvs', 'flowId'],
  properties: { cardId: { type: 'string' }, aid: { type: 'string' }, kvn: { type: 'integer' }, kcvs: kcvsSchema, flowId: { type: 'string' } },
  additionalProperties: false,
} as const;

interface SsdParams {
  cardId: string;
  aid: string;
}

function ids(p: SsdParams) {
  return { cardId: p.cardId.toUpperCase(), aid: p.aid.toUpperCase() };
}

export async function ssdRoutes(app: FastifyInstance, deps: FlowDeps, options: IssuerRouteOptions): Promise<void> {
  const provider = requireCaller(deps.db, 'provider');
  const anyone = requireCaller(deps.db, 'operator', 'provider');
  const locks = options.locks;

  /** The SSD exists and, for a provider caller, is that provider's (others' SSDs are not found). */
  async function visible(request: FastifyRequest, cardId: string, aid: string) {
    const ssd = await getSsd(deps.db, cardId, aid);
    const p = providerOf(request);
    if (!ssd || (p !== undefined && ssd.providerId !== p)) throw notFound(`no SSD ${aid} on card ${cardId}`);
    return ssd;
  }

  app.post<{ Body: { cardId: string; aid: string; privileges: PrivilegeName[]; route: CardRoute; managedBy: 'provider' | 'issuer' } }>(
    '/v1/ssd-requests',
    {
      onRequest: provider,
      config: { idempotent: true },
      schema: { summary: 'Create an SSD for the calling provider', tags: ['ssds'], body: requestBody, response: { 200: flowAnswer } },
    },
    async (request) => {
      const b = request.body;
      const cardId = b.cardId.toUpperCase();
      const aid = b.aid.toUpperCase();
      let flowId: string | undefined;
      return asProblem(
        () =>
          locks.run(`${cardId}/${aid}`, async () => {
            const flow = await requestSsd(deps, { cardId, aid, providerId: providerOf(request)!, privileges: b.privileges, managedBy: b.managedBy, route: b.route });
            flowId = flow.id;
            const done = await runCreateSsd(deps, flow);
            return { cardId, aid, step: done.step, flowId: done.id };
          }),
        () => (flowId === undefined ? {} : { flowId }),
      );
    },
  );

  app.post<{ Params: SsdParams }>(
    '/v1/cards/:cardId/ssds/:aid/handover',
    {
      onRequest: provider,
      schema: { summary: "The SSD's initial key set, for its provider", tags: ['ssds'], params: ssdParams, body: emptyBody, response: { 200: keySetAnswer } },
    },
    async (request) => {
      const { cardId, aid } = ids(request.params);
      await visible(request, cardId, aid);
      const keys = await asProblem(() => initialKeysForProvider(deps, cardId, aid, providerOf(request)!));
      try {
        return { kvn: keys.kvn, scp: keys.scp, enc: toHex(keys.enc).toUpperCase(), mac: toHex(keys.mac).toUpperCase(), dek: toHex(keys.dek).toUpperCase() };
      } finally {
        wipeKeySet(keys);
      }
    },
  );

  app.post<{ Params: SsdParams }>(
    '/v1/cards/:cardId/ssds/:aid/handover-ack',
    {
      onRequest: provider,
      schema: { summary: 'The provider holds the keys: the issuer forgets them', tags: ['ssds'], params: ssdParams, body: emptyBody, response: { 204: noContent } },
    },
    async (request, reply) => {
      const { cardId, aid } = ids(request.params);
      await visible(request, cardId, aid);
      await asProblem(() => acknowledgeHandover(deps, cardId, aid, providerOf(request)!));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { cardId: string } }>(
    '/v1/cards/:cardId/ssds',
    {
      onRequest: anyone,
      schema: {
        summary: 'SSDs the issuer knows on a card (a provider sees its own)',
        tags: ['ssds'],
        params: cardParams,
        response: { 200: { type: 'object', required: ['ssds'], properties: { ssds: { type: 'array', items: ssdViewSchema } }, additionalProperties: false } },
      },
    },
    async (request) => {
      const cardId = request.params.cardId.toUpperCase();
      const cards = await deps.db.query<{ card_id: string }>('SELECT card_id FROM cards WHERE card_id = $1', [cardId]);
      if (!cards[0]) throw notFound(`unknown card ${cardId}`);
      return { ssds: await listSsds(deps.db, cardId, providerOf(request)) };
    },
  );

  app.get<{ Params: SsdParams }>(
    '/v1/cards/:cardId/ssds/:aid',
    {
      onRequest: anyone,
      schema: { summary: 'One SSD the issuer knows: state, key version, KCVs, whether it holds keys (a provider sees its own)', tags: ['ssds'], params: ssdParams, response: { 200: ssdViewSchema } },
    },
    async (request) => {
      const { cardId, aid } = ids(request.params);
      return visible(request, cardId, aid);
    },
  );

  for (const action of ['lock', 'unlock'] as const) {
    app.post<{ Params: SsdParams; Body: { route?: CardRoute } }>(
      `/v1/cards/:cardId/ssds/:aid/${action}`,
      {
        onRequest: anyone,
        schema: { summary: `${action === 'lock' ? 'Lock' : 'Unlock'} an SSD through the ISD`, tags: ['ssds'], params: ssdParams, body: lockBody, response: { 200: ssdViewSchema } },
      },
      async (request) => {
        const { cardId, aid } = ids(request.params);
        await visible(request, cardId, aid);
        return asProblem(() =>
          locks.run(`${cardId}/${aid}`, () =>
            setSsdLock(deps, { cardId, aid, locked: action === 'lock', by: byOf(request), ...(request.body.route ? { route: request.body.route } : {}) }),
          ),
        );
      },
    );
  }

  app.delete<{ Params: SsdParams }>(
    '/v1/cards/:cardId/ssds/:aid',
    { onRequest: anyone, schema: { summary: 'Delete an SSD through the ISD', tags: ['ssds'], params: ssdParams, response: { 204: noContent } } },
    async (request, reply) => {
      const { cardId, aid } = ids(request.params);
      await visible(request, cardId, aid);
      await asProblem(() => locks.run(`${cardId}/${aid}`, () => deleteSsd(deps, { cardId, aid, by: byOf(request) })));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: SsdParams; Body: { reason: 'forced' | 'expiry' } }>(
    '/v1/cards/:cardId/ssds/:aid/rotation',
    {
      onRequest: anyone,
      config: { idempotent: true },
      schema: { summary: "Rotate an issuer-managed SSD's keys", tags: ['ssds'], params: ssdParams, body: rotationBody, response: { 200: rotationAnswer } },
    },
    async (request) => {
      const { cardId, aid } = ids(request.params);
      await visible(request, cardId, aid);
      let flowId: string | undefined;
      const flow = await asProblem(
        () =>
          locks.run(`${cardId}/${aid}`, () =>
            rotateIssuerSsd(deps, { cardId, aid, reason: request.body.reason, ...(options.keyLifetimeMs ? { lifetimeMs: options.keyLifetimeMs } : {}) }, (f) => (flowId = f.id)),
          ),
        () => (flowId === undefined ? {} : { flowId }),
      );
      const ssd = (await getSsd(deps.db, cardId, aid))!;
      return { cardId, aid, kvn: ssd.kvn, kcvs: ssd.kcvs, flowId: flow.id };
    },
  );
}
