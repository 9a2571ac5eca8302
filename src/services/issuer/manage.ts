/**
 * The issuer's management of SSDs it created (docs/architecture.md §1 `issuer`): what it knows of them, lock /
 * unlock (SET STATUS) and delete (DELETE) through the ISD, and key rotation of issuer-managed SSDs. Each card
 * operation asks the card first (GET STATUS), so a repeat after a cut connection finds the work done and
 * only records it; each change is audited in the transaction that records it.
 */
import { equalBytes, fromHex } from '../../core/bytes.ts';
import { deleteObject, getStatus, setApplicationLock } from '../../gp/client.ts';
import { GetStatusScope } from '../../gp/registry.ts';
import type { Database } from '../../platform/storage/database.ts';
import type { KeySetKcvs } from '../sd-keys/key-set.ts';
import { openSd } from '../sd-keys/operations.ts';
import type { CardRoute, FlowDeps } from '../common/deps.ts';
import { withCard } from '../common/with-card.ts';
import type { SecureSession } from '../../scp/secure-session.ts';
import { FlowError } from '../common/flow-error.ts';
import { runRotation, startRotation, type RotationFlow } from '../common/rotation.ts';
import { CREATE_SSD, type CreateSsdData } from './flows/create-ssd.ts';
import { getCard, isdKeys } from './inventory.ts';
import { issuerKeySlot, ISSUER_KEY_LIFETIME_MS } from './key-slot.ts';
import type { IssuerSsdView } from './client.ts';

export const ISSUER_ROTATE = 'issuer.rotate-keys';
/** SD life cycle bit LOCKED (GPCS 2.3.1 Table 11-5). */
const LOCKED = 0x80;


interface SsdRow extends Record<string, string | number | null | Uint8Array> {
  card_id: string;
  aid: string;
  provider_id: string;
  managed_by: string;
  state: string;
  scp: number;
  kvn: number;
  held: number;
  pending_held: number;
  kcvs: string;
  keys_expire_at: string | null;
  created_at: string;
  updated_at: string;
}

const COLUMNS =
  'card_id, aid, provider_id, managed_by, state, scp, kvn, CASE WHEN keys IS NULL THEN 0 ELSE 1 END AS held, CASE WHEN pending IS NULL THEN 0 ELSE 1 END AS pending_held, kcvs, keys_expire_at, created_at, updated_at';

function view(r: SsdRow): IssuerSsdView {
  return {
    aid: r.aid,
    providerId: r.provider_id,
    managedBy: r.managed_by as 'provider' | 'issuer',
    state: r.state,
    scp: Number(r.scp),
    kvn: Number(r.kvn),
    kcvs: JSON.parse(r.kcvs) as KeySetKcvs,
    keysHeld: Number(r.held) === 1,
    keysExpireAt: r.keys_expire_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The SSDs the issuer knows on a card (of one provider when `providerId` is given), by AID. No keys. */
export async function listSsds(db: Database, cardId: string, providerId?: string): Promise<IssuerSsdView[]> {
  const rows =
    providerId === undefined
      ? await db.query<SsdRow>(`SELECT ${COLUMNS} FROM ssds WHERE card_id = $1 ORDER BY aid`, [cardId])
      : await db.query<SsdRow>(`SELECT ${COLUMNS} FROM ssds WHERE card_id = $1 AND provider_id = $2 ORDER BY aid`, [cardId, providerId]);
  return rows.map(view);
}

export async function getSsd(db: Database, cardId: string, aid: string): Promise<IssuerSsdView | undefined> {
  const rows = await db.query<SsdRow>(`SELECT ${COLUMNS} FROM ssds WHERE card_id = $1 AND aid = $2`, [cardId, aid]);
  return rows[0] && view(rows[0]);
}

async function requireSsd(db: Database, cardId: string, aid: string): Promise<IssuerSsdView & { pendingHeld: boolean }> {
  const rows = await db.query<SsdRow>(`SELECT ${COLUMNS} FROM ssds WHERE card_id = $1 AND aid = $2`, [cardId, aid]);
  if (!rows[0]) throw new FlowError('NOT_FOUND', `no SSD ${aid} on card ${cardId}`);
  return { ...view(rows[0]), pendingHeld: Number(rows[0].pending_held) === 1 };
}

/** The route the SSD was created over (the one its card is known to be reachable by); OTA by default. */
export async function ssdRoute(deps: Pick<FlowDeps, 'flows' | 'db'>, cardId: string, aid: string): Promise<CardRoute> {
  const rows = await deps.db.query<{ data: string }>('SELECT data FROM flows WHERE kind = $1 AND subject = $2 ORDER BY created_at DESC', [
    CREATE_SSD,
    `card:${cardId}/sd:${aid}`,
  ]);
  const data = rows[0] ? (JSON.parse(rows[0].data) as CreateSsdData) : undefined;
  return data?.route ?? { kind: 'ota' };
}

/** Run `work` in an ISD session, holding the card (one conversation) until it ends. */
async function withIsdSession<T>(deps: FlowDeps, cardId: string, route: CardRoute, work: (session: SecureSession) => Promise<T>): Promise<T> {
  const card = await getCard(deps.db, cardId);
  if (!card) throw new FlowError('NOT_FOUND', `unknown card ${cardId}`);
  const keys = await isdKeys(deps, cardId);
  return withCard(deps.cardAccess, cardId, route, async (channel) => work(await openSd(channel, fromHex(card.isdAid), keys)));
}

const settled = new Set(['issuer-managed', 'provider-managed']);
const now = () => new Date().toISOString();

/** Lock (or unlock) an SSD through the ISD: SET STATUS, unless the card already shows that state. */
export async function setSsdLock(
  deps: FlowDeps,
  req: { cardId: string; aid: string; locked: boolean; by: string; route?: CardRoute },
): Promise<IssuerSsdView> {
  const ssd = await requireSsd(deps.db, req.cardId, req.aid);
  if (req.locked ? !settled.has(ssd.state) : ssd.state !== 'locked') {
    throw new FlowError('WRONG_STATE', `SSD ${req.aid} is ${ssd.state}; it cannot be ${req.locked ? 'locked' : 'unlocked'}`);
  }
  const route = req.route ?? (await ssdRoute(deps, req.cardId, req.aid));
  const aid = fromHex(req.aid);
  const { entry, already } = await withIsdSession(deps, req.cardId, route, async (session) => {
    const entry = (await getStatus(session, GetStatusScope.APPLICATIONS, aid)).find((e) => equalBytes(e.aid, aid));
    if (!entry) throw new FlowError('WRONG_STATE', `SSD ${req.aid} is not on the card`);
    const already = ((entry.lifeCycle & LOCKED) !== 0) === req.locked;
    if (!already) await setApplicationLock(session, aid, req.locked);
    return { entry, already };
  });
  const state = req.locked ? 'locked' : ssd.managedBy === 'issuer' ? 'issuer-managed' : 'provider-managed';
  await deps.db.transaction(async (tx) => {
    await tx.execute('UPDATE ssds SET state = $1, updated_at = $2 WHERE card_id = $3 AND aid = $4', [state, now(), req.cardId, req.aid]);
    await deps.audit(tx, {
      actor: deps.actor,
      action: req.locked ? 'sd.locked' : 'sd.unlocked',
      subject: `card:${req.cardId}/sd:${req.aid}`,
      details: { by: req.by, lifeCycle: entry.lifeCycle, reconciled: already },
    });
  });
  return (await getSsd(deps.db, req.cardId, req.aid))!;
}

/** Delete an SSD through the ISD (DELETE; the card refuses while it has content), then forget it. */
export async function deleteSsd(deps: FlowDeps, req: { cardId: string; aid: string; by: string; route?: CardRoute }): Promise<void> {
  const ssd = await requireSsd(deps.db, req.cardId, req.aid);
  if (!settled.has(ssd.state) && ssd.state !== 'locked') throw new FlowError('WRONG_STATE', `SSD ${req.aid} is ${ssd.state}; it cannot be deleted now`);
  if (ssd.pendingHeld) throw new FlowError('WRONG_STATE', `SSD ${req.aid} is in a key rotation`);
  const route = req.route ?? (await ssdRoute(deps, req.cardId, req.aid));
  const aid = fromHex(req.aid);
  const present = await withIsdSession(deps, req.cardId, route, async (session) => {
    const present = (await getStatus(session, GetStatusScope.APPLICATIONS, aid)).some((e) => equalBytes(e.aid, aid));
    if (present) await deleteObject(session, aid);
    return present;
  });
  // The provider may no longer address this AID on the card (issue 8 §4).
  if (route.kind === 'ota') await deps.cardGrants?.revoke(req.cardId, req.aid);
  await deps.db.transaction(async (tx) => {
    await tx.execute('DELETE FROM asymmetric_sds WHERE card_id = $1 AND aid = $2', [req.cardId, req.aid]);
    await tx.execute('DELETE FROM ssds WHERE card_id = $1 AND aid = $2', [req.cardId, req.aid]);
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'sd.deleted',
      subject: `card:${req.cardId}/sd:${req.aid}`,
      details: { by: req.by, providerId: ssd.providerId, managedBy: ssd.managedBy, reconciled: !present, ...(ssd.keysHeld ? { forgotten: ssd.kcvs } : {}) },
    });
  });
}

/** Rotate the keys of an issuer-managed SSD (forced, or on expiry), resuming an open rotation. */
export async function rotateIssuerSsd(
  deps: FlowDeps,
  req: { cardId: string; aid: string; reason: 'forced' | 'expiry'; lifetimeMs?: number },
  onFlow?: (flow: RotationFlow) => void,
): Promise<RotationFlow> {
  const ssd = await requireSsd(deps.db, req.cardId, req.aid);
  if (ssd.managedBy !== 'issuer') throw new FlowError('NOT_PERMITTED', `SSD ${req.aid} is managed by its provider, who rotates its keys`);
  if (ssd.state !== 'issuer-managed') throw new FlowError('WRONG_STATE', `SSD ${req.aid} is ${ssd.state}`);
  const route = await ssdRoute(deps, req.cardId, req.aid);
  const flow = await startRotation(deps, ISSUER_ROTATE, { cardId: req.cardId, aid: req.aid, route, reason: req.reason });
  onFlow?.(flow);
  return runRotation(deps, issuerKeySlot(deps.db, deps.sealer, req.cardId, req.aid, req.lifetimeMs ?? ISSUER_KEY_LIFETIME_MS), flow);
}
