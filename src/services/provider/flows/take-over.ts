/**
 * Provider flow: get a supplementary security domain on a card and take it over (docs/architecture.md §4 flow 3):
 *
 *   request      ask the issuer to create the SSD (idempotent: the issuer keys it by card and AID); the issuer
 *                runs its flow through the card's route (OTA or this provider's terminal) up to hand-over
 *   fetch-keys   fetch the SSD's initial key set from the issuer, seal it as `current`, generate and seal the
 *                provider's own key set as `pending` (one transaction)
 *   replace      PUT KEY the provider's key set over the initial one, reconciled by asking the card
 *   acknowledge  tell the issuer it holds the keys, so that the issuer forgets them
 */
import type { PrivilegeName } from '../../../gp/privileges.ts';
import type { FlowRecord } from '../../../platform/flows/store.ts';
import { DONE, runFlow } from '../../../platform/flows/runner.ts';
import { encodeKeySet, generateKeySet, keySetKcvs, type KeySetKcvs, type SdKeySet } from '../../sd-keys/key-set.ts';
import type { CardRoute, FlowDeps } from '../../common/deps.ts';
import { FlowError } from '../../common/flow-error.ts';
import { replaceWithReconcile } from '../../common/rotation.ts';
import { providerKeyContext, providerKeySlot, KEY_LIFETIME_MS } from '../key-slot.ts';

export const TAKE_OVER = 'provider.take-over';
/** Key version of the provider's first key set in an SSD. */
export const PROVIDER_KVN = 0x30;

/** What the provider needs from the issuer (HTTP client in the service; direct calls in tests). */
export interface IssuerClient {
  requestSsd(req: { cardId: string; aid: string; privileges: readonly PrivilegeName[]; route: CardRoute }): Promise<{ step: string }>;
  fetchInitialKeys(cardId: string, aid: string): Promise<SdKeySet>;
  acknowledgeHandover(cardId: string, aid: string): Promise<void>;
}

export interface TakeOverData {
  readonly cardId: string;
  readonly aid: string;
  readonly route: CardRoute;
  readonly privileges: readonly PrivilegeName[];
  readonly initial?: KeySetKcvs;
  readonly own?: KeySetKcvs;
}

export type TakeOverFlow = FlowRecord<TakeOverData>;

const now = () => new Date().toISOString();

export async function startTakeOver(deps: FlowDeps, req: Omit<TakeOverData, 'initial' | 'own'>): Promise<TakeOverFlow> {
  const aid = req.aid.toUpperCase();
  const subject = `card:${req.cardId}/sd:${aid}`;
  return deps.db.transaction(async (tx) => {
    const open = await deps.flows.open<TakeOverData>(TAKE_OVER, subject, tx);
    if (open) return open;
    const existing = await tx.query<{ state: string }>('SELECT state FROM ssds WHERE card_id = $1 AND aid = $2', [req.cardId, aid]);
    if (existing[0]) throw new FlowError('CONFLICT', `SSD ${aid} on card ${req.cardId} is already ${existing[0].state}`);
    const at = now();
    await tx.execute(
      "INSERT INTO ssds (card_id, aid, route, state, scp, kvn, keys, pending, kcvs, pending_kcvs, keys_expire_at, created_at, updated_at) VALUES ($1, $2, $3, 'requested', 0, NULL, NULL, NULL, NULL, NULL, NULL, $4, $4)",
      [req.cardId, aid, JSON.stringify(req.route), at],
    );
    const flow = await deps.flows.create<TakeOverData>(TAKE_OVER, subject, 'request', { ...req, aid }, tx);
    await deps.audit(tx, { actor: deps.actor, action: 'ssd.requested', subject, details: { route: req.route.kind, flowId: flow.id } });
    return flow;
  });
}

export async function runTakeOver(deps: FlowDeps, issuer: IssuerClient, start: TakeOverFlow): Promise<TakeOverFlow> {
  const d = start.data;
  return runFlow<TakeOverData>(deps, start, {
    request: async (flow) => {
      const r = await issuer.requestSsd({ cardId: d.cardId, aid: d.aid, privileges: d.privileges, route: d.route });
      if (r.step !== 'handover') throw new FlowError('WRONG_STATE', `the issuer's flow is at ${r.step}`, flow.step);
      // Asking again is harmless (the issuer keys the request by card and AID), so `fetch-keys` is not
      // recorded on its own: it is recorded with its result, in the next transaction.
      return { next: 'fetch-keys', unrecorded: true };
    },
    'fetch-keys': async (flow) => {
      const initial = await issuer.fetchInitialKeys(d.cardId, d.aid);
      const own = generateKeySet(PROVIDER_KVN === initial.kvn ? PROVIDER_KVN + 1 : PROVIDER_KVN, initial.scp, deps.random);
      const ctx = providerKeyContext(d.cardId, d.aid);
      const [sealedInitial, sealedOwn] = [await deps.sealer.wrap(encodeKeySet(initial), ctx), await deps.sealer.wrap(encodeKeySet(own), ctx)];
      const kInitial = keySetKcvs(initial);
      const kOwn = keySetKcvs(own);
      return {
        next: 'replace',
        data: { initial: kInitial, own: kOwn },
        commit: async (tx) => {
          await tx.execute(
            "UPDATE ssds SET state = 'keys-received', scp = $1, kvn = $2, keys = $3, kcvs = $4, pending = $5, pending_kcvs = $6, updated_at = $7 WHERE card_id = $8 AND aid = $9",
            [initial.scp, initial.kvn, sealedInitial, JSON.stringify(kInitial), sealedOwn, JSON.stringify(kOwn), now(), d.cardId, d.aid],
          );
          await deps.audit(tx, { actor: deps.actor, action: 'key.received', subject: flow.subject, details: { from: 'issuer', kcvs: kInitial } });
          await deps.audit(tx, { actor: deps.actor, action: 'key.generated', subject: flow.subject, details: { purpose: 'provider', kcvs: kOwn } });
        },
      };
    },
    replace: async (flow) => {
      const slot = providerKeySlot(deps.db, deps.sealer, d.cardId, d.aid);
      const { reconciled, to } = await replaceWithReconcile(deps, slot, d.cardId, d.aid, d.route, flow.step, !deps.flows.isFresh(flow.id));
      return {
        next: 'acknowledge',
        commit: async (tx) => {
          await slot.promote(tx, to);
          await tx.execute("UPDATE ssds SET state = 'provider-managed' WHERE card_id = $1 AND aid = $2", [d.cardId, d.aid]);
          await deps.audit(tx, { actor: deps.actor, action: 'key.replaced', subject: flow.subject, details: { fromKcvs: flow.data.initial ?? null, toKcvs: to, reconciled } });
        },
      };
    },
    acknowledge: async () => {
      await issuer.acknowledgeHandover(d.cardId, d.aid);
      return { next: DONE };
    },
  });
}

export { KEY_LIFETIME_MS };
