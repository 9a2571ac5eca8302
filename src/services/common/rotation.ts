/**
 * Key rotation of a security domain, shared by the issuer (issuer-managed SSDs) and the provider
 * (provider-managed SSDs): on expiry or by force. "A key rotation never leaves a card whose keys the
 * platform does not know" (docs/architecture.md §5):
 *
 *   prepare   the next key set is generated and sealed as `pending` next to `current` (one transaction)
 *   replace   ask the card which one it holds (INITIALIZE UPDATE, card cryptogram checked): `pending` →
 *             the PUT KEY already happened; `current` → PUT KEY now; then `pending` becomes `current`
 *
 * A cut at any APDU leaves the card with either set, and the platform holds both until it has seen which.
 */
import { fromHex } from '../../core/bytes.ts';
import type { Database } from '../../platform/storage/database.ts';
import type { FlowRecord } from '../../platform/flows/store.ts';
import { DONE, runFlow } from '../../platform/flows/runner.ts';
import { generateKeySet, keySetKcvs, nextKvn, type KeySetKcvs, type SdKeySet } from '../sd-keys/key-set.ts';
import { findKeySet, replaceKeySet } from '../sd-keys/operations.ts';
import type { CardRoute, FlowDeps } from './deps.ts';
import { FlowError } from './flow-error.ts';
import { withCard } from './with-card.ts';

/** Where a service keeps an SD's key sets (its own table, sealed). */
export interface KeySlot {
  current(): Promise<SdKeySet>;
  pending(): Promise<SdKeySet | undefined>;
  /** Store the next key set as pending (inside `tx`). */
  setPending(tx: Database, set: SdKeySet): Promise<void>;
  /** The card holds pending: make it current, forget the old one (inside `tx`). */
  promote(tx: Database, kcvs: KeySetKcvs): Promise<void>;
}

export interface RotationData {
  readonly cardId: string;
  readonly aid: string;
  readonly route: CardRoute;
  readonly reason: 'expiry' | 'forced';
  readonly from?: KeySetKcvs;
  readonly to?: KeySetKcvs;
}

export type RotationFlow = FlowRecord<RotationData>;

/**
 * The `replace` step: ask the card which of `pending` and `current` it holds, PUT KEY when it still holds
 * `current`. The caller promotes `pending` in its transaction afterwards. `reconciled` is true when the card
 * already held `pending` (a previous attempt was cut after the PUT KEY reached the card).
 */
export async function replaceWithReconcile(
  deps: FlowDeps,
  slot: KeySlot,
  cardId: string,
  aidHex: string,
  route: CardRoute,
  step: string,
  verify = true,
): Promise<{ reconciled: boolean; to: KeySetKcvs }> {
  const current = await slot.current();
  const pending = await slot.pending();
  if (!pending) throw new FlowError('WRONG_STATE', 'no pending key set to put', step);
  const aid = fromHex(aidHex);
  // One conversation with the card for the probe and the PUT KEY.
  return withCard(deps.cardAccess, cardId, route, async (channel) => {
    // Unless this process knows the card still holds `current` (a fresh flow), ask the card.
    const held = verify ? await findKeySet(channel, aid, [pending, current]) : current;
    if (held === undefined) throw new FlowError('KEYS_UNKNOWN', `SD ${aidHex} holds neither key version ${current.kvn} nor ${pending.kvn}`, step);
    if (held === current) await replaceKeySet(channel, aid, current, pending);
    return { reconciled: held === pending, to: keySetKcvs(pending) };
  });
}

export async function startRotation(deps: FlowDeps, kind: string, data: RotationData): Promise<RotationFlow> {
  const subject = `card:${data.cardId}/sd:${data.aid}`;
  return deps.db.transaction(async (tx) => {
    const open = await deps.flows.open<RotationData>(kind, subject, tx);
    if (open) return open;
    const flow = await deps.flows.create<RotationData>(kind, subject, 'prepare', data, tx);
    await deps.audit(tx, { actor: deps.actor, action: 'key.rotation-started', subject, details: { reason: data.reason, flowId: flow.id } });
    return flow;
  });
}

/** Run (or resume) a rotation flow to its end (the flow runner records steps and failures). */
export async function runRotation(deps: FlowDeps, slot: KeySlot, start: RotationFlow): Promise<RotationFlow> {
  const d = start.data;
  return runFlow<RotationData>(deps, start, {
    prepare: async () => {
      const current = await slot.current();
      const existing = await slot.pending();
      const next = existing ?? generateKeySet(nextKvn(current.kvn), current.scp, deps.random);
      const from = keySetKcvs(current);
      const to = keySetKcvs(next);
      return {
        next: 'replace',
        data: { from, to },
        commit: async (tx) => {
          if (!existing) await slot.setPending(tx, next);
          await deps.audit(tx, { actor: deps.actor, action: 'key.generated', subject: start.subject, details: { purpose: 'rotation', kcvs: to } });
        },
      };
    },
    replace: async (flow) => {
      const { reconciled, to } = await replaceWithReconcile(deps, slot, d.cardId, d.aid, d.route, flow.step, !deps.flows.isFresh(flow.id));
      return {
        next: DONE,
        commit: async (tx) => {
          await slot.promote(tx, to);
          await deps.audit(tx, {
            actor: deps.actor,
            action: 'key.rotated',
            subject: flow.subject,
            details: { fromKcvs: flow.data.from ?? null, toKcvs: to, reason: d.reason, reconciled },
          });
        },
      };
    },
  });
}
