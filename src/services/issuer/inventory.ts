/**
 * The issuer's inventory: cards (with their ISD keys, sealed) and providers with their business
 * permissions (which SSD AIDs, which privileges, how many SSDs per card).
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import type { Database } from '../../platform/storage/database.ts';
import { encodePrivileges, decodePrivileges, type PrivilegeName } from '../../gp/privileges.ts';
import { decodeKeySet, encodeKeySet, keySetKcvs, type SdKeySet } from '../sd-keys/key-set.ts';
import type { FlowDeps } from '../common/deps.ts';
import { FlowError } from '../common/flow-error.ts';

export type CardProfileName = 'scp03' | 'scp02';

export interface CardRecord {
  readonly cardId: string;
  readonly iin: string;
  readonly cin: string;
  readonly eid: string | null;
  readonly profile: CardProfileName;
  readonly isdAid: string;
}

export interface ProviderRecord {
  readonly providerId: string;
  readonly name: string;
  /** SSD AIDs this provider may have start with this prefix (hex). */
  readonly aidPrefix: string;
  /** Privileges an SSD of this provider may receive. */
  readonly privileges: readonly PrivilegeName[];
  readonly maxSsds: number;
}

export function scpOf(profile: CardProfileName): { scp: 2 | 3; i: number } {
  return profile === 'scp03' ? { scp: 3, i: 0x70 } : { scp: 2, i: 0x55 };
}

const now = () => new Date().toISOString();

export async function registerCard(
  deps: Pick<FlowDeps, 'db' | 'sealer' | 'audit' | 'actor'>,
  card: CardRecord & { readonly isdKeys: SdKeySet; readonly cplc?: string },
): Promise<void> {
  const sealed = await deps.sealer.wrap(encodeKeySet(card.isdKeys), `issuer/isd/${card.cardId}`);
  const kcvs = keySetKcvs(card.isdKeys);
  await deps.db.transaction(async (tx) => {
    await tx.execute(
      'INSERT INTO cards (card_id, iin, cin, eid, cplc, profile, isd_aid, isd_keys, isd_kcvs, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      [card.cardId, card.iin, card.cin, card.eid, card.cplc ?? null, card.profile, card.isdAid, sealed, JSON.stringify(kcvs), now()],
    );
    await deps.audit(tx, { actor: deps.actor, action: 'card.registered', subject: `card:${card.cardId}`, details: { isdAid: card.isdAid, isdKcvs: kcvs } });
  });
}

export async function getCard(db: Database, cardId: string): Promise<CardRecord | undefined> {
  const rows = await db.query<{ card_id: string; iin: string; cin: string; eid: string | null; profile: string; isd_aid: string }>(
    'SELECT card_id, iin, cin, eid, profile, isd_aid FROM cards WHERE card_id = $1',
    [cardId],
  );
  const r = rows[0];
  return r && { cardId: r.card_id, iin: r.iin, cin: r.cin, eid: r.eid, profile: r.profile as CardProfileName, isdAid: r.isd_aid };
}

export async function isdKeys(deps: Pick<FlowDeps, 'db' | 'sealer'>, cardId: string): Promise<SdKeySet> {
  const rows = await deps.db.query<{ isd_keys: Uint8Array }>('SELECT isd_keys FROM cards WHERE card_id = $1', [cardId]);
  if (!rows[0]) throw new FlowError('NOT_FOUND', `unknown card ${cardId}`);
  return decodeKeySet(await deps.sealer.unwrap(rows[0].isd_keys, `issuer/isd/${cardId}`));
}

export async function registerProvider(deps: Pick<FlowDeps, 'db' | 'audit' | 'actor'>, p: ProviderRecord): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await tx.execute('INSERT INTO providers (provider_id, name, aid_prefix, privileges, max_ssds, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      p.providerId,
      p.name,
      p.aidPrefix.toUpperCase(),
      toHex(encodePrivileges(p.privileges, 3)),
      p.maxSsds,
      now(),
    ]);
    await deps.audit(tx, { actor: deps.actor, action: 'provider.registered', subject: `provider:${p.providerId}`, details: { aidPrefix: p.aidPrefix, privileges: p.privileges, maxSsds: p.maxSsds } });
  });
}

export async function getProvider(db: Database, providerId: string): Promise<ProviderRecord | undefined> {
  const rows = await db.query<{ provider_id: string; name: string; aid_prefix: string; privileges: string; max_ssds: number }>(
    'SELECT provider_id, name, aid_prefix, privileges, max_ssds FROM providers WHERE provider_id = $1',
    [providerId],
  );
  const r = rows[0];
  return (
    r && {
      providerId: r.provider_id,
      name: r.name,
      aidPrefix: r.aid_prefix,
      privileges: [...decodePrivileges(fromHex(r.privileges))],
      maxSsds: Number(r.max_ssds),
    }
  );
}
