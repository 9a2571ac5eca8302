/**
 * Service instances — the provider's applet on a card (callers: the provider's own clients):
 *
 *   GET  /v1/cards/{cardId}/instances                          the instances and their life-cycle states
 *   GET  /v1/cards/{cardId}/instances/{aid}
 *   POST /v1/cards/{cardId}/instances                          { sdAid, aid?, counter? } install → 201
 *   POST /v1/cards/{cardId}/instances/{aid}/personalisation    { records: [{ tag, value }] }
 *   POST /v1/cards/{cardId}/instances/{aid}/lifecycle          { action: activate | suspend | resume | terminate }
 * An action the current state does not allow: 409 WRONG_STATE, nothing sent to the card.
 */
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { notFound } from '../../../platform/errors.ts';
import { asProblem } from '../../common/flow-problem.ts';
import { aidSchema, cardParams, ssdParams } from '../../common/schemas.ts';
import { ECHO_APPLET, type PersoRecord } from '../applet.ts';
import type { InstanceManager } from '../instances.ts';

const instanceView = {
  type: 'object',
  required: ['cardId', 'aid', 'sdAid', 'state', 'updatedAt'],
  properties: {
    cardId: { type: 'string' },
    aid: { type: 'string' },
    sdAid: { type: 'string' },
    state: { type: 'string', enum: ['installed', 'personalised', 'operational', 'suspended', 'terminated'] },
    updatedAt: { type: 'string' },
  },
  additionalProperties: false,
} as const;

const installBody = {
  type: 'object',
  required: ['sdAid'],
  properties: { sdAid: aidSchema, aid: aidSchema, counter: { type: 'integer', minimum: 0, maximum: 0xffffffff } },
  additionalProperties: false,
} as const;

const persoBody = {
  type: 'object',
  required: ['records'],
  properties: {
    records: {
      type: 'array',
      minItems: 1,
      maxItems: 32,
      items: {
        type: 'object',
        required: ['tag', 'value'],
        properties: {
          // one-byte tags that are not constructed / not multi-byte leaders, or two-byte tags (xF yy with yy < 80)
          tag: { type: 'string', pattern: '^([0-9A-Fa-f][0-9A-Ea-e]|[0-9A-Fa-f][Ff][0-7][0-9A-Fa-f])$' },
          value: { type: 'string', pattern: '^([0-9A-Fa-f]{2}){0,127}$' },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
} as const;

const lifecycleBody = {
  type: 'object',
  required: ['action'],
  properties: { action: { type: 'string', enum: ['activate', 'suspend', 'resume', 'terminate'] } },
  additionalProperties: false,
} as const;

const instanceParams = ssdParams;

export async function instanceRoutes(app: FastifyInstance, instances: InstanceManager, caller: onRequestAsyncHookHandler): Promise<void> {
  app.get<{ Params: { cardId: string } }>(
    '/v1/cards/:cardId/instances',
    {
      onRequest: caller,
      schema: {
        summary: 'Service instances on a card',
        tags: ['instances'],
        params: cardParams,
        response: { 200: { type: 'object', required: ['instances'], properties: { instances: { type: 'array', items: instanceView } }, additionalProperties: false } },
      },
    },
    async (request) => ({ instances: await instances.list(request.params.cardId.toUpperCase()) }),
  );

  app.get<{ Params: { cardId: string; aid: string } }>(
    '/v1/cards/:cardId/instances/:aid',
    { onRequest: caller, schema: { summary: 'One service instance', tags: ['instances'], params: instanceParams, response: { 200: instanceView } } },
    async (request) => {
      const i = await instances.get(request.params.cardId.toUpperCase(), request.params.aid.toUpperCase());
      if (!i) throw notFound(`no service instance ${request.params.aid} on card ${request.params.cardId}`);
      return i;
    },
  );

  app.post<{ Params: { cardId: string }; Body: { sdAid: string; aid?: string; counter?: number } }>(
    '/v1/cards/:cardId/instances',
    { onRequest: caller, schema: { summary: 'Install the applet in an SSD', tags: ['instances'], params: cardParams, body: installBody, response: { 201: instanceView } } },
    async (request, reply) => {
      const b = request.body;
      const view = await asProblem(() =>
        instances.install({
          cardId: request.params.cardId.toUpperCase(),
          sdAid: b.sdAid.toUpperCase(),
          aid: (b.aid ?? ECHO_APPLET.instanceAid).toUpperCase(),
          ...(b.counter !== undefined ? { counter: b.counter } : {}),
        }),
      );
      return reply.code(201).send(view);
    },
  );

  app.post<{ Params: { cardId: string; aid: string }; Body: { records: PersoRecord[] } }>(
    '/v1/cards/:cardId/instances/:aid/personalisation',
    { onRequest: caller, schema: { summary: 'Personalise (STORE DATA)', tags: ['instances'], params: instanceParams, body: persoBody, response: { 200: instanceView } } },
    async (request) => asProblem(() => instances.personalise(request.params.cardId.toUpperCase(), request.params.aid.toUpperCase(), request.body.records)),
  );

  app.post<{ Params: { cardId: string; aid: string }; Body: { action: 'activate' | 'suspend' | 'resume' | 'terminate' } }>(
    '/v1/cards/:cardId/instances/:aid/lifecycle',
    { onRequest: caller, schema: { summary: 'Life-cycle transition', tags: ['instances'], params: instanceParams, body: lifecycleBody, response: { 200: instanceView } } },
    async (request) => asProblem(() => instances.act(request.params.cardId.toUpperCase(), request.params.aid.toUpperCase(), request.body.action)),
  );
}
