/**
 * Run the provider's take-over of an SSD — from its HTTP API or from a request at a business terminal —
 * serialised per card and SSD. When the issuer refuses the request (a 4xx problem), the provider's
 * `requested` row is removed and the flow marked failed, so a corrected request can start afresh.
 */
import { RemoteProblemError } from '../../platform/http/client.ts';
import type { CardRoute, FlowDeps } from '../common/deps.ts';
import type { KeyedLock } from '../common/keyed-lock.ts';
import type { PrivilegeName } from '../../gp/privileges.ts';
import { runTakeOver, startTakeOver, type TakeOverFlow } from './flows/take-over.ts';
import type { ScopedIssuerClient } from './routes/ssds.ts';

async function abandon(deps: FlowDeps, flowId: string, e: RemoteProblemError): Promise<void> {
  const flow = await deps.flows.get<{ cardId: string; aid: string }>(flowId);
  if (!flow || flow.step !== 'request' || flow.status === 'failed') return;
  await deps.db.transaction(async (tx) => {
    await tx.execute("DELETE FROM ssds WHERE card_id = $1 AND aid = $2 AND state = 'requested'", [flow.data.cardId, flow.data.aid]);
    await deps.flows.recordFailure(flow, e.message, true, tx);
    await deps.audit(tx, { actor: deps.actor, action: 'ssd.request-refused', subject: flow.subject, details: { status: e.status, code: e.problem?.code ?? e.code, flowId } });
  });
}

function refusedByIssuer(e: unknown): e is RemoteProblemError {
  return e instanceof RemoteProblemError && e.code === 'REMOTE_PROBLEM' && e.status >= 400 && e.status < 500 && e.problem?.code !== 'IDEMPOTENCY_IN_PROGRESS';
}

export async function takeOverSsd(
  deps: FlowDeps,
  issuer: ScopedIssuerClient,
  locks: KeyedLock,
  req: { readonly cardId: string; readonly aid: string; readonly route: CardRoute; readonly privileges: readonly PrivilegeName[] },
  onFlow?: (flowId: string) => void,
): Promise<TakeOverFlow> {
  return locks.run(`${req.cardId}/${req.aid}`, async () => {
    let f: TakeOverFlow = await startTakeOver(deps, req);
    onFlow?.(f.id);
    try {
      f = await runTakeOver(deps, issuer.withScope ? issuer.withScope(f.id) : issuer, f);
    } catch (e) {
      if (refusedByIssuer(e)) await abandon(deps, f.id, e);
      throw e;
    }
    return f;
  });
}
