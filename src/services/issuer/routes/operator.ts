/**
 * The issuer operator's routes (peer `operator`): card inventory and providers with their permissions.
 *
 *   POST /v1/cards               register a card with its ISD keys (sealed at once; answered with KCVs only)
 *   GET  /v1/cards/{cardId}      the card and the SSDs the issuer knows on it
 *   POST /v1/providers           register a provider (its id is the CN of its platform certificate)
 *   GET  /v1/providers/{providerId}
 */
import type { FastifyInstance } from 'fastify';
import { conflict, notFound } from '../../../platform/errors.ts';
import { StorageError } from '../../../platform/storage/errors.ts';
import { keySetFromHex, wipeKeySet, type KeySetKcvs } from '../../sd-keys/key-set.ts';
import type { FlowDeps } from '../../common/deps.ts';
import { aidSchema, cardIdSchema, cardParams, kcvsSchema, key16Schema, kvnSchema, privilegesSchema } from '../../common/schemas.ts';
import type { PrivilegeName } from '../../../gp/privileges.ts';
import { getCard, getProvider, registerCard, registerProvider, scpOf, type CardProfileName } from '../inventory.ts';
import { listSsds } from '../manage.ts';
import { requireCaller, OPERATOR } from './auth.ts';
import { ssdViewSchema } from './ssd-schemas.ts';

const hexBytes = (min: number, max: number) => ({ type: 'string', pattern: `^([0-9A-Fa-f]{2}){${min},${max}}$` }) as const;

const cardBody = {
  type: 'object',
  required: ['cardId', 'iin', 'cin', 'profile', 'isdAid', 'isdKeys'],
  properties: {
    cardId: cardIdSchema,
    iin: hexBytes(1, 16),
    cin: hexBytes(1, 16),
    eid: { type: 'string', pattern: '^[0-9]{32}$' },
    cplc: hexBytes(1, 64),
    profile: { type: 'string', enum: ['scp03', 'scp02'] },
    isdAid: aidSchema,
    isdKeys: {
      type: 'object',
      required: ['kvn', 'enc', 'mac', 'dek'],
      properties: { kvn: kvnSchema, enc: key16Schema, mac: key16Schema, dek: key16Schema },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

const cardView = {
  type: 'object',
  required: ['cardId', 'iin', 'cin', 'eid', 'profile', 'isdAid', 'isdKcvs'],
  properties: {
    cardId: { type: 'string' },
    iin: { type: 'string' },
    cin: { type: 'string' },
    eid: { type: ['string', 'null'] },
    profile: { type: 'string' },
    isdAid: { type: 'string' },
    isdKcvs: kcvsSchema,
    ssds: { type: 'array', items: ssdViewSchema },
  },
  additionalProperties: false,
} as const;

const PROVIDER_ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/** Names that are platform identities, never provider ids. */
const RESERVED = new Set([OPERATOR, 'issuer', 'provider-platform', 'ota', 'ota-admin', 'escrow', 'hub', 'ca', 'terminal']);

const providerBody = {
  type: 'object',
  required: ['providerId', 'name', 'aidPrefix', 'privileges', 'maxSsds'],
  properties: {
    providerId: { type: 'string', pattern: PROVIDER_ID },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    aidPrefix: hexBytes(1, 16),
    privileges: privilegesSchema,
    maxSsds: { type: 'integer', minimum: 1, maximum: 64 },
  },
  additionalProperties: false,
} as const;

const providerView = {
  type: 'object',
  required: ['providerId', 'name', 'aidPrefix', 'privileges', 'maxSsds'],
  properties: {
    providerId: { type: 'string' },
    name: { type: 'string' },
    aidPrefix: { type: 'string' },
    privileges: { type: 'array', items: { type: 'string' } },
    maxSsds: { type: 'integer' },
  },
  additionalProperties: false,
} as const;

interface CardBody {
  cardId: string;
  iin: string;
  cin: string;
  eid?: string;
  cplc?: string;
  profile: CardProfileName;
  isdAid: string;
  isdKeys: { kvn: number; enc: string; mac: string; dek: string };
}

interface ProviderBody {
  providerId: string;
  name: string;
  aidPrefix: string;
  privileges: PrivilegeName[];
  maxSsds: number;
}

async function cardViewOf(deps: FlowDeps, cardId: string) {
  const card = await getCard(deps.db, cardId);
  if (!card) return undefined;
  const rows = await deps.db.query<{ isd_kcvs: string }>('SELECT isd_kcvs FROM cards WHERE card_id = $1', [cardId]);
  return { ...card, isdKcvs: JSON.parse(rows[0]!.isd_kcvs) as KeySetKcvs };
}

function uniqueToConflict(what: string) {
  return (e: unknown) => {
    if (e instanceof StorageError && e.code === 'UNIQUE_VIOLATION') throw conflict(`${what} is already registered`, 'ALREADY_EXISTS');
    throw e;
  };
}

export async function operatorRoutes(app: FastifyInstance, deps: FlowDeps): Promise<void> {
  const operator = requireCaller(deps.db, 'operator');

  app.post<{ Body: CardBody }>(
    '/v1/cards',
    { onRequest: operator, schema: { summary: 'Register a card and its ISD keys', tags: ['cards'], body: cardBody, response: { 201: cardView } } },
    async (request, reply) => {
      const b = request.body;
      const cardId = b.cardId.toUpperCase();
      if (await getCard(deps.db, cardId)) throw conflict(`card ${cardId} is already registered`, 'ALREADY_EXISTS');
      const { scp } = scpOf(b.profile);
      const isdKeys = keySetFromHex(b.isdKeys.kvn, scp, b.isdKeys.enc, b.isdKeys.mac, b.isdKeys.dek);
      try {
        await registerCard(deps, {
          cardId,
          iin: b.iin.toUpperCase(),
          cin: b.cin.toUpperCase(),
          eid: b.eid ?? null,
          profile: b.profile,
          isdAid: b.isdAid.toUpperCase(),
          isdKeys,
          ...(b.cplc === undefined ? {} : { cplc: b.cplc.toUpperCase() }),
        }).catch(uniqueToConflict(`card ${cardId}`));
      } finally {
        wipeKeySet(isdKeys);
      }
      return reply.code(201).send(await cardViewOf(deps, cardId));
    },
  );

  app.get<{ Params: { cardId: string } }>(
    '/v1/cards/:cardId',
    { onRequest: operator, schema: { summary: 'A card and its SSDs (no keys)', tags: ['cards'], params: cardParams, response: { 200: cardView } } },
    async (request) => {
      const cardId = request.params.cardId.toUpperCase();
      const card = await cardViewOf(deps, cardId);
      if (!card) throw notFound(`unknown card ${cardId}`);
      return { ...card, ssds: await listSsds(deps.db, cardId) };
    },
  );

  app.post<{ Body: ProviderBody }>(
    '/v1/providers',
    { onRequest: operator, schema: { summary: 'Register a provider and its permissions', tags: ['providers'], body: providerBody, response: { 201: providerView } } },
    async (request, reply) => {
      const b = request.body;
      if (RESERVED.has(b.providerId)) throw conflict(`'${b.providerId}' is a platform identity, not a provider id`, 'RESERVED_ID');
      if (await getProvider(deps.db, b.providerId)) throw conflict(`provider ${b.providerId} is already registered`, 'ALREADY_EXISTS');
      await registerProvider(deps, { ...b, aidPrefix: b.aidPrefix.toUpperCase() }).catch(uniqueToConflict(`provider ${b.providerId}`));
      return reply.code(201).send(await getProvider(deps.db, b.providerId));
    },
  );

  app.get<{ Params: { providerId: string } }>(
    '/v1/providers/:providerId',
    {
      onRequest: operator,
      schema: {
        summary: 'A provider and its permissions',
        tags: ['providers'],
        params: { type: 'object', required: ['providerId'], properties: { providerId: { type: 'string', pattern: PROVIDER_ID } }, additionalProperties: false },
        response: { 200: providerView },
      },
    },
    async (request) => {
      const p = await getProvider(deps.db, request.params.providerId);
      if (!p) throw notFound(`unknown provider ${request.params.providerId}`);
      return p;
    },
  );
}
