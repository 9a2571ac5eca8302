/**
 * The issuer's routes for asymmetric SSDs (docs/architecture.md §4 flow 4). Providers only (peer = provider id):
 *
 *   POST /v1/asymmetric-ssd-requests               (Idempotency-Key) create an SSD whose keys are generated on the
 *        card: permissions checked, card found by ICCID, INSTALL + set-up keys + extradition through the ISD over
 *        the card's route, key pair generated on card, the provider CA's trust point imported; answers the SD
 *        information (public key, key references) — nothing secret
 *   GET  /v1/cards/{cardId}/ssds/{aid}/sd-info     the same SD information again (the provider's own SSDs only)
 */
import type { FastifyInstance } from 'fastify';
import type { PrivilegeName } from '../../../gp/privileges.ts';
import type { CardRoute, FlowDeps } from '../../common/deps.ts';
import type { KeyedLock } from '../../common/keyed-lock.ts';
import { asProblem } from '../../common/flow-problem.ts';
import { aidSchema, cardIdSchema, privilegesSchema, routeSchema, ssdParams } from '../../common/schemas.ts';
import type { AsymmetricSdInfo } from '../../sd-keys/asymmetric.ts';
import { asymmetricSdInfo, requestAsymmetricSsd, type AsymmetricRequest } from '../flows/asymmetric-ssd.ts';
import { providerOf, requireCaller } from './auth.ts';

const hex = (min: number, max: number) => ({ type: 'string', pattern: `^([0-9A-Fa-f]{2}){${min},${max}}$` }) as const;

export const trustPointSchema = {
  oneOf: [
    { type: 'object', required: ['curve', 'point'], properties: { curve: { type: 'string', enum: ['P-256', 'P-384'] }, point: hex(65, 97) }, additionalProperties: false },
    { type: 'object', required: ['modulus', 'exponent'], properties: { modulus: hex(128, 256), exponent: hex(1, 4) }, additionalProperties: false },
  ],
} as const;

const keyRefSchema = {
  type: 'object',
  required: ['kvn', 'kid'],
  properties: { kvn: { type: 'integer' }, kid: { type: 'integer' } },
  additionalProperties: false,
} as const;

export const sdInfoSchema = {
  type: 'object',
  required: ['cardId', 'aid', 'variant', 'sdKey', 'publicKey', 'trustPoint'],
  properties: {
    cardId: { type: 'string' },
    aid: { type: 'string' },
    variant: { type: 'string', enum: ['11a', '11c', '10'] },
    sdKey: keyRefSchema,
    publicKey: {
      oneOf: [
        { type: 'object', required: ['point'], properties: { point: { type: 'string' } }, additionalProperties: false },
        { type: 'object', required: ['modulus', 'exponent'], properties: { modulus: { type: 'string' }, exponent: { type: 'string' } }, additionalProperties: false },
      ],
    },
    trustPoint: keyRefSchema,
    flowId: { type: 'string' },
  },
  additionalProperties: false,
} as const;

const requestBody = {
  type: 'object',
  required: ['cardId', 'aid', 'privileges', 'route', 'variant', 'trustPoint'],
  properties: {
    cardId: cardIdSchema,
    aid: aidSchema,
    privileges: privilegesSchema,
    route: routeSchema,
    variant: { type: 'string', enum: ['11a', '11c', '10'] },
    trustPoint: trustPointSchema,
    modulusBits: { type: 'integer', enum: [1024, 2048] },
  },
  additionalProperties: false,
} as const;

interface RequestBody {
  cardId: string;
  aid: string;
  privileges: PrivilegeName[];
  route: CardRoute;
  variant: AsymmetricRequest['variant'];
  trustPoint: AsymmetricRequest['trustPoint'];
  modulusBits?: 1024 | 2048;
}

export async function asymmetricRoutes(app: FastifyInstance, deps: FlowDeps, options: { readonly locks: KeyedLock }): Promise<void> {
  const provider = requireCaller(deps.db, 'provider');
  const { locks } = options;

  app.post<{ Body: RequestBody }>(
    '/v1/asymmetric-ssd-requests',
    {
      onRequest: provider,
      config: { idempotent: true },
      schema: { summary: 'Create an SSD whose keys the card generates, for the calling provider', tags: ['ssds'], body: requestBody, response: { 200: sdInfoSchema } },
    },
    async (request): Promise<AsymmetricSdInfo & { flowId?: string }> => {
      const b = request.body;
      const cardId = b.cardId.toUpperCase();
      const aid = b.aid.toUpperCase();
      const providerId = providerOf(request)!;
      let flowId: string | undefined;
      return asProblem(
        () =>
          locks.run(`${cardId}/${aid}`, () =>
            requestAsymmetricSsd(
              deps,
              {
                cardId,
                aid,
                providerId,
                privileges: b.privileges,
                route: b.route,
                asymmetric: { variant: b.variant, trustPoint: b.trustPoint, ...(b.modulusBits !== undefined ? { modulusBits: b.modulusBits } : {}) },
              },
              (id) => (flowId = id),
            ),
          ),
        () => (flowId === undefined ? {} : { flowId }),
      );
    },
  );

  app.get<{ Params: { cardId: string; aid: string } }>(
    '/v1/cards/:cardId/ssds/:aid/sd-info',
    { onRequest: provider, schema: { summary: 'SD information of an asymmetric SSD (public data)', tags: ['ssds'], params: ssdParams, response: { 200: sdInfoSchema } } },
    async (request) => {
      const cardId = request.params.cardId.toUpperCase();
      const aid = request.params.aid.toUpperCase();
      return asProblem(() => asymmetricSdInfo(deps, cardId, aid, providerOf(request)!));
    },
  );
}
