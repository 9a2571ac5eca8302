/**
 * Service instances (the provider's applet on a card) and their life cycle, persisted in `service_instances`:
 *
 *   not deployed ─install→ installed ─personalise→ personalised ─activate→ operational ⇄ suspended
 *                                                                    (suspend / resume: SET STATUS lock/unlock)
 *   installed | personalised | operational | suspended ─terminate→ terminated (DELETE);  terminated ─install→ …
 *
 * An action not allowed from the current state is refused (FlowError WRONG_STATE → 409) before anything is
 * sent. The card work goes through the provider's own SSD keys, and each transition is recorded with its
 * audit record in one transaction after the card confirmed it (a repeat reconciles by asking the card).
 */
import { fromHex } from '../../core/bytes.ts';
import { openSd } from '../sd-keys/operations.ts';
import type { FlowDeps } from '../common/deps.ts';
import { withCard } from '../common/with-card.ts';
import { FlowError } from '../common/flow-error.ts';
import type { KeyedLock } from '../common/keyed-lock.ts';
import { installEcho, personaliseInstance, removeInstance, setInstanceLock, type PersoRecord } from './applet.ts';
import { providerKeySlot } from './key-slot.ts';
import { getProviderSsd } from './rotate.ts';

export type InstanceState = 'not-deployed' | 'installed' | 'personalised' | 'operational' | 'suspended' | 'terminated';
export type InstanceAction = 'install' | 'personalise' | 'activate' | 'suspend' | 'resume' | 'terminate';

export const INSTANCE_TRANSITIONS: Readonly<Record<InstanceAction, { readonly from: readonly InstanceState[]; readonly to: InstanceState }>> = Object.freeze({
  install: { from: ['not-deployed', 'terminated'], to: 'installed' },
  personalise: { from: ['installed', 'personalised'], to: 'personalised' },
  activate: { from: ['personalised'], to: 'operational' },
  suspend: { from: ['operational'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'operational' },
  terminate: { from: ['installed', 'personalised', 'operational', 'suspended'], to: 'terminated' },
});

export interface InstanceView {
  readonly cardId: string;
  readonly aid: string;
  readonly sdAid: string;
  readonly state: InstanceState;
  readonly updatedAt: string;
}

interface Row extends Record<string, string> {
  card_id: string;
  aid: string;
  sd_aid: string;
  state: string;
  updated_at: string;
}

const view = (r: Row): InstanceView => ({ cardId: r.card_id, aid: r.aid, sdAid: r.sd_aid, state: r.state as InstanceState, updatedAt: r.updated_at });

export class InstanceManager {
  readonly #deps: FlowDeps;
  readonly #locks: KeyedLock;

  constructor(deps: FlowDeps, locks: KeyedLock) {
    this.#deps = deps;
    this.#locks = locks;
  }

  async list(cardId: string): Promise<InstanceView[]> {
    return (await this.#deps.db.query<Row>('SELECT card_id, aid, sd_aid, state, updated_at FROM service_instances WHERE card_id = $1 ORDER BY aid', [cardId])).map(view);
  }

  async get(cardId: string, aid: string): Promise<InstanceView | undefined> {
    const r = (await this.#deps.db.query<Row>('SELECT card_id, aid, sd_aid, state, updated_at FROM service_instances WHERE card_id = $1 AND aid = $2', [cardId, aid]))[0];
    return r && view(r);
  }

  /** INSTALL the applet as `aid` in the provider-managed SSD `sdAid`. */
  async install(req: { cardId: string; sdAid: string; aid: string; counter?: number }): Promise<InstanceView> {
    if (req.aid === req.sdAid) throw new FlowError('CONFLICT', 'the instance AID is the SSD AID');
    const existing = await this.get(req.cardId, req.aid);
    if (existing && existing.sdAid !== req.sdAid) throw new FlowError('CONFLICT', `instance ${req.aid} belongs to SSD ${existing.sdAid}`);
    return this.#transition(req.cardId, req.sdAid, req.aid, 'install', existing?.state ?? 'not-deployed', async (session, aid) => ({
      reconciled: await installEcho(session, aid, req.counter),
      details: { loadFileAid: 'F04F50454E54534D', ...(req.counter !== undefined ? { counter: req.counter } : {}) },
    }));
  }

  async personalise(cardId: string, aid: string, records: readonly PersoRecord[]): Promise<InstanceView> {
    const inst = await this.#require(cardId, aid);
    return this.#transition(cardId, inst.sdAid, aid, 'personalise', inst.state, async (session, a) => {
      await personaliseInstance(session, a, records);
      return { reconciled: false, details: { tags: records.map((r) => r.tag.toUpperCase()), bytes: records.reduce((n, r) => n + r.value.length / 2, 0) } };
    });
  }

  async act(cardId: string, aid: string, action: 'activate' | 'suspend' | 'resume' | 'terminate'): Promise<InstanceView> {
    const inst = await this.#require(cardId, aid);
    return this.#transition(cardId, inst.sdAid, aid, action, inst.state, async (session, a) => {
      switch (action) {
        case 'activate':
          return { reconciled: false, details: {} };
        case 'suspend':
        case 'resume':
          return { reconciled: await setInstanceLock(session, a, action === 'suspend'), details: {} };
        case 'terminate':
          return { reconciled: await removeInstance(session, a), details: {} };
      }
    });
  }

  async #require(cardId: string, aid: string): Promise<InstanceView> {
    const inst = await this.get(cardId, aid);
    if (!inst) throw new FlowError('NOT_FOUND', `no service instance ${aid} on card ${cardId}`);
    return inst;
  }

  async #transition(
    cardId: string,
    sdAid: string,
    aid: string,
    action: InstanceAction,
    from: InstanceState,
    work: (session: Awaited<ReturnType<typeof openSd>>, aid: Uint8Array) => Promise<{ reconciled: boolean; details: Record<string, unknown> }>,
  ): Promise<InstanceView> {
    const deps = this.#deps;
    const t = INSTANCE_TRANSITIONS[action];
    if (!t.from.includes(from)) throw new FlowError('WRONG_STATE', `instance ${aid} is ${from}; '${action}' needs ${t.from.join(' or ')}`);
    return this.#locks.run(`${cardId}/${sdAid}`, async () => {
      const ssd = await getProviderSsd(deps.db, cardId, sdAid);
      if (!ssd) throw new FlowError('NOT_FOUND', `no SSD ${sdAid} on card ${cardId}`);
      if (ssd.state !== 'provider-managed') throw new FlowError('WRONG_STATE', `SSD ${sdAid} is ${ssd.state}`);
      const now = (await this.get(cardId, aid))?.state ?? 'not-deployed';
      if (now !== from) throw new FlowError('WRONG_STATE', `instance ${aid} changed to ${now} meanwhile`);
      const keys = await providerKeySlot(deps.db, deps.sealer, cardId, sdAid).current();
      // One conversation with the card for the session's work.
      const outcome = await withCard(deps.cardAccess, cardId, ssd.route, async (channel) => {
        const session = await openSd(channel, fromHex(sdAid), keys);
        try {
          return await work(session, fromHex(aid));
        } finally {
          await session.close().catch(() => undefined);
        }
      });
      const at = new Date().toISOString();
      await deps.db.transaction(async (tx) => {
        await tx.execute(
          'INSERT INTO service_instances (card_id, aid, sd_aid, state, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (card_id, aid) DO UPDATE SET state = $4, updated_at = $5',
          [cardId, aid, sdAid, t.to, at],
        );
        await deps.audit(tx, {
          actor: deps.actor,
          action: `instance.${action}`,
          subject: `card:${cardId}/app:${aid}`,
          details: { sdAid, from, to: t.to, reconciled: outcome.reconciled, ...outcome.details },
        });
      });
      return (await this.get(cardId, aid))!;
    });
  }
}
