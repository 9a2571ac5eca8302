/**
 * The provider's route for asymmetric SSDs (docs/architecture.md §4 flow 4; callers: the provider's own clients):
 *
 *   POST /v1/cards/{cardId}/asymmetric-ssds   (Idempotency-Key) get an SSD whose keys the card generates: ICCID
 *        read over OTA, the issuer creates the SSD with the provider CA's trust point, the provider re-keys it,
 *        has the new key certified by its CA, installs the certificate and its applet → 201
 * A request the issuer refuses at the `request` step (4xx) is abandoned: the provider's rows go, the flow fails.
 */
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { PrivilegeName } from '../../../gp/privileges.ts';
import { RemoteProblemError } from '../../../platform/http/client.ts';
import type { CardRoute, FlowDeps } from '../../common/deps.ts';
import { asProblem } from '../../common/flow-problem.ts';
import { FlowError } from '../../common/flow-error.ts';
import type { KeyedLock } from '../../common/keyed-lock.ts';
import { aidSchema, cardParams, privilegesSchema, routeSchema } from '../../common/schemas.ts';
import { PROVIDER_SD_KVN, sdKid, type AsymmetricVariant } from '../../sd-keys/asymmetric.ts';
import { runAsymmetricSsd, startAsymmetricSsd, type AsymmetricPorts, type AsymmetricSsdFlow, type AsymmetricSsdRequest } from '../asymmetric/flow.ts';

const body = {
  type: 'object',
  required: ['aid', 'variant'],
  properties: {
    aid: aidSchema,
    variant: { type: 'string', enum: ['11a', '11c', '10'] },
    privileges: { ...privilegesSchema, default: ['AuthorizedManagement'] },
    route: { ...routeSchema, default: { kind: 'ota' } },
    modulusBits: { type: 'integer', enum: [1024, 2048] },
    instanceAid: aidSchema,
  },
  additionalProperties: false,
} as const;

const answer = {
  type: 'object',
  required: ['cardId', 'aid', 'variant', 'state', 'kvn', 'kid', 'caId', 'serial', 'instanceAid', 'flowId'],
  properties: {
    caId: { type: 'string', description: "the provider's CA that certified the SSD's key pair" },
    cardId: { type: 'string' },
    aid: { type: 'string' },
    variant: { type: 'string' },
    state: { type: 'string' },
    kvn: { type: 'integer' },
    kid: { type: 'integer' },
    serial: { type: 'string' },
    instanceAid: { type: 'string' },
    flowId: { type: 'string' },
  },
  additionalProperties: false,
} as const;

interface Body {
  aid: string;
  variant: AsymmetricVariant;
  privileges: PrivilegeName[];
  route: CardRoute;
  modulusBits?: 1024 | 2048;
  instanceAid?: string;
}

/**
 * Forget a request refused before anything happened on the card: by the issuer at `request`, or at `probe`
 * (the card answers another ICCID, or already has an application with that AID).
 */
async function abandon(deps: FlowDeps, flow: AsymmetricSsdFlow, e: RemoteProblemError | FlowError): Promise<void> {
  const current = await deps.flows.get<AsymmetricSsdFlow['data']>(flow.id);
  if (!current || (current.step !== 'request' && current.step !== 'probe')) return;
  await deps.db.transaction(async (tx) => {
    await tx.execute('DELETE FROM asymmetric_sds WHERE card_id = $1 AND aid = $2', [current.data.cardId, current.data.aid]);
    await tx.execute("DELETE FROM ssds WHERE card_id = $1 AND aid = $2 AND state = 'requested'", [current.data.cardId, current.data.aid]);
    await deps.flows.recordFailure(current, e.message, true, tx);
    const details = e instanceof RemoteProblemError ? { status: e.status, code: e.problem?.code ?? e.code } : { code: e.code, step: current.step };
    await deps.audit(tx, { actor: deps.actor, action: 'ssd.request-refused', subject: current.subject, details: { ...details, flowId: flow.id } });
  });
}

/** Start (or resume) and run the flow, serialised per card and SSD. */
export async function getAsymmetricSsd(deps: FlowDeps, ports: AsymmetricPorts, locks: KeyedLock, req: AsymmetricSsdRequest, onFlow?: (id: string) => void): Promise<AsymmetricSsdFlow> {
  return locks.run(`${req.cardId.toUpperCase()}/${req.aid.toUpperCase()}`, async () => {
    const flow = await startAsymmetricSsd(deps, ports, req);
    onFlow?.(flow.id);
    try {
      return await runAsymmetricSsd(deps, ports, flow);
    } catch (e) {
      if (e instanceof RemoteProblemError && e.code === 'REMOTE_PROBLEM' && e.status >= 400 && e.status < 500 && e.problem?.code !== 'IDEMPOTENCY_IN_PROGRESS') await abandon(deps, flow, e);
      if (e instanceof FlowError && e.code === 'CONFLICT' && e.step === 'probe') await abandon(deps, flow, e);
      throw e;
    }
  });
}

export async function asymmetricSsdRoutes(
  app: FastifyInstance,
  deps: FlowDeps,
  options: { readonly ports: AsymmetricPorts; readonly locks: KeyedLock; readonly caller: onRequestAsyncHookHandler },
): Promise<void> {
  const { ports, locks, caller } = options;
  app.post<{ Params: { cardId: string }; Body: Body }>(
    '/v1/cards/:cardId/asymmetric-ssds',
    {
      onRequest: caller,
      config: { idempotent: true },
      schema: { summary: 'Get an SSD whose keys the card generates (SCP11a/c or SCP10), over the air', tags: ['ssds'], params: cardParams, body, response: { 201: answer } },
    },
    async (request, reply) => {
      const cardId = request.params.cardId.toUpperCase();
      const b = request.body;
      let flowId: string | undefined;
      const flow = await asProblem(
        () =>
          getAsymmetricSsd(
            deps,
            ports,
            locks,
            {
              cardId,
              aid: b.aid,
              route: b.route,
              privileges: b.privileges,
              variant: b.variant,
              ...(b.modulusBits !== undefined ? { modulusBits: b.modulusBits } : {}),
              ...(b.instanceAid !== undefined ? { instanceAid: b.instanceAid } : {}),
            },
            (id) => (flowId = id),
          ),
        () => (flowId === undefined ? {} : { flowId }),
      );
      const d = flow.data;
      const state = (await deps.db.query<{ state: string }>('SELECT state FROM ssds WHERE card_id = $1 AND aid = $2', [d.cardId, d.aid]))[0]?.state ?? 'unknown';
      return reply.code(201).send({ cardId: d.cardId, aid: d.aid, variant: d.variant, state, kvn: PROVIDER_SD_KVN, kid: sdKid(d.variant), caId: d.caId, serial: d.serial ?? '', instanceAid: d.instanceAid, flowId: flow.id });
    },
  );
}
