/**
 * Rotation campaigns (callers: the provider's own clients):
 *
 *   POST /v1/campaigns         (Idempotency-Key) { reason, targets: [{ cardId, aid }] } → 202 { campaignId };
 *                              every target must be a provider-managed SSD, else 404 and nothing is created
 *   GET  /v1/campaigns/{id}    { status, total, done, failed, failures[] }
 */
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { notFound } from '../../../platform/errors.ts';
import { asProblem } from '../../common/flow-problem.ts';
import { aidSchema, cardIdSchema } from '../../common/schemas.ts';
import { MAX_CAMPAIGN_TARGETS, type CampaignReason, type CampaignRunner, type CampaignTarget } from '../campaigns.ts';

const campaignBody = {
  type: 'object',
  required: ['reason', 'targets'],
  properties: {
    reason: { type: 'string', enum: ['forced', 'expiry'] },
    targets: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_CAMPAIGN_TARGETS,
      items: { type: 'object', required: ['cardId', 'aid'], properties: { cardId: cardIdSchema, aid: aidSchema }, additionalProperties: false },
    },
  },
  additionalProperties: false,
} as const;

const campaignView = {
  type: 'object',
  required: ['campaignId', 'reason', 'status', 'total', 'done', 'failed', 'failures', 'createdAt', 'updatedAt'],
  properties: {
    campaignId: { type: 'string' },
    reason: { type: 'string' },
    status: { type: 'string', enum: ['running', 'done'] },
    total: { type: 'integer' },
    done: { type: 'integer' },
    failed: { type: 'integer' },
    failures: {
      type: 'array',
      items: { type: 'object', required: ['cardId', 'aid', 'error'], properties: { cardId: { type: 'string' }, aid: { type: 'string' }, error: { type: 'string' } }, additionalProperties: false },
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
  additionalProperties: false,
} as const;

export async function campaignRoutes(app: FastifyInstance, runner: CampaignRunner, caller: onRequestAsyncHookHandler): Promise<void> {
  app.post<{ Body: { reason: CampaignReason; targets: CampaignTarget[] } }>(
    '/v1/campaigns',
    {
      onRequest: caller,
      config: { idempotent: true },
      schema: {
        summary: 'Start a key rotation campaign',
        tags: ['campaigns'],
        body: campaignBody,
        response: { 202: { type: 'object', required: ['campaignId'], properties: { campaignId: { type: 'string' } }, additionalProperties: false } },
      },
    },
    async (request, reply) => {
      const id = await asProblem(() => runner.create(request.body.reason, request.body.targets));
      runner.start(id);
      return reply.code(202).header('location', `/v1/campaigns/${id}`).send({ campaignId: id });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/campaigns/:id',
    {
      onRequest: caller,
      schema: {
        summary: "A campaign's progress",
        tags: ['campaigns'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } }, additionalProperties: false },
        response: { 200: campaignView },
      },
    },
    async (request) => {
      const c = await runner.get(request.params.id);
      if (!c) throw notFound(`no campaign ${request.params.id}`);
      return c;
    },
  );
}
