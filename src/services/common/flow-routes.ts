/**
 * `GET /v1/flows/{flowId}`: what an operator (or the flow's owner) may know of a persisted flow
 * (docs/architecture.md §5): its kind, subject, step, status, attempts and last error — never its data (which may
 * hold key check values and references the console has no use for). Mounted by the issuer and the provider;
 * each decides who may see a flow (`visible`); a flow the caller may not see is 404, as one that does not exist.
 */
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { notFound } from '../../platform/errors.ts';
import type { FlowRecord } from '../../platform/flows/store.ts';
import type { FlowDeps } from './deps.ts';

export interface FlowView {
  readonly flowId: string;
  readonly kind: string;
  readonly subject: string;
  readonly step: string;
  readonly status: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const str = { type: 'string' } as const;

export const flowViewSchema = {
  type: 'object',
  required: ['flowId', 'kind', 'subject', 'step', 'status', 'attempts', 'lastError', 'createdAt', 'updatedAt'],
  properties: {
    flowId: str,
    kind: { type: 'string', description: 'the flow type, e.g. issuer.create-ssd' },
    subject: { type: 'string', description: 'what the flow is about, e.g. card:8988…/sd:A000…' },
    step: { type: 'string', description: 'the step it is at (recorded before it is done)' },
    status: { type: 'string', enum: ['running', 'waiting', 'done', 'failed'] },
    attempts: { type: 'integer', description: 'how many times a step was attempted and failed' },
    lastError: { type: ['string', 'null'], description: 'the last failure recorded, if any' },
    createdAt: str,
    updatedAt: str,
  },
  additionalProperties: false,
} as const;

const flowParams = {
  type: 'object',
  required: ['flowId'],
  properties: { flowId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
  additionalProperties: false,
} as const;

export function flowView(f: FlowRecord): FlowView {
  return {
    flowId: f.id,
    kind: f.kind,
    subject: f.subject,
    step: f.step,
    status: f.status,
    attempts: f.attempts,
    lastError: f.error,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  };
}

export interface FlowRouteOptions {
  readonly onRequest: onRequestAsyncHookHandler;
  /** Whether the caller of `request` may see `flow`. */
  readonly visible: (request: FastifyRequest, flow: FlowRecord) => Promise<boolean> | boolean;
}

export async function flowRoutes(app: FastifyInstance, deps: Pick<FlowDeps, 'flows'>, options: FlowRouteOptions): Promise<void> {
  app.get<{ Params: { flowId: string } }>(
    '/v1/flows/:flowId',
    {
      onRequest: options.onRequest,
      schema: { summary: 'A flow: its step, status, attempts and last error', tags: ['flows'], params: flowParams, response: { 200: flowViewSchema } },
    },
    async (request) => {
      const flow = await deps.flows.get<Record<string, unknown>>(request.params.flowId);
      if (flow === undefined || !(await options.visible(request, flow))) throw notFound(`no flow ${request.params.flowId}`);
      return flowView(flow);
    },
  );
}
