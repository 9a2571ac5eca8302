/**
 * The provider's view of its SSDs and the key rotation of one provider-managed SSD (forced or on expiry),
 * a persisted flow (services/common/rotation.ts) over the provider's key slot.
 */
import type { Database } from '../../platform/storage/database.ts';
import type { KeySetKcvs } from '../sd-keys/key-set.ts';
import type { CardRoute, FlowDeps } from '../common/deps.ts';
import { FlowError } from '../common/flow-error.ts';
import { runRotation, startRotation, type RotationFlow } from '../common/rotation.ts';
import { providerKeySlot } from './key-slot.ts';

export const PROVIDER_ROTATE = 'provider.rotate-keys';

export interface ProviderSsdView {
  readonly cardId: string;
  readonly aid: string;
  readonly route: CardRoute;
  readonly state: string;
  readonly scp: number;
  readonly kvn: number | null;
  readonly kcvs: KeySetKcvs | null;
  readonly rotating: boolean;
  readonly keysExpireAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface Row extends Record<string, string | number | null> {
  card_id: string;
  aid: string;
  route: string;
  state: string;
  scp: number;
  kvn: number | null;
  kcvs: string | null;
  rotating: number;
  keys_expire_at: string | null;
  created_at: string;
  updated_at: string;
}

const COLUMNS = 'card_id, aid, route, state, scp, kvn, kcvs, CASE WHEN pending IS NULL THEN 0 ELSE 1 END AS rotating, keys_expire_at, created_at, updated_at';

function view(r: Row): ProviderSsdView {
  return {
    cardId: r.card_id,
    aid: r.aid,
    route: JSON.parse(r.route) as CardRoute,
    state: r.state,
    scp: Number(r.scp),
    kvn: r.kvn === null ? null : Number(r.kvn),
    kcvs: r.kcvs === null ? null : (JSON.parse(r.kcvs) as KeySetKcvs),
    rotating: Number(r.rotating) === 1,
    keysExpireAt: r.keys_expire_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function listProviderSsds(db: Database, cardId: string): Promise<ProviderSsdView[]> {
  return (await db.query<Row>(`SELECT ${COLUMNS} FROM ssds WHERE card_id = $1 ORDER BY aid`, [cardId])).map(view);
}

export async function getProviderSsd(db: Database, cardId: string, aid: string): Promise<ProviderSsdView | undefined> {
  const r = (await db.query<Row>(`SELECT ${COLUMNS} FROM ssds WHERE card_id = $1 AND aid = $2`, [cardId, aid]))[0];
  return r && view(r);
}

/** Rotate a provider-managed SSD's keys, resuming an open rotation of it. */
export async function rotateProviderSsd(
  deps: FlowDeps,
  req: { cardId: string; aid: string; reason: 'forced' | 'expiry' },
  onFlow?: (flow: RotationFlow) => void,
): Promise<RotationFlow> {
  const ssd = await getProviderSsd(deps.db, req.cardId, req.aid);
  if (!ssd) throw new FlowError('NOT_FOUND', `no SSD ${req.aid} on card ${req.cardId}`);
  if (ssd.state !== 'provider-managed') throw new FlowError('WRONG_STATE', `SSD ${req.aid} is ${ssd.state}`);
  const flow = await startRotation(deps, PROVIDER_ROTATE, { cardId: req.cardId, aid: req.aid, route: ssd.route, reason: req.reason });
  onFlow?.(flow);
  return runRotation(deps, providerKeySlot(deps.db, deps.sealer, req.cardId, req.aid), flow);
}
