/**
 * The issuer's key slot of an issuer-managed SSD: `current` (`keys`) and `pending` sealed in its `ssds` row,
 * for key rotation (services/common/rotation.ts). Provider-managed SSDs have no issuer keys at all.
 */
import type { Database } from '../../platform/storage/database.ts';
import { decodeKeySet, encodeKeySet, keySetKcvs, type KeySetKcvs, type SdKeySet } from '../sd-keys/key-set.ts';
import type { KeySlot } from '../common/rotation.ts';
import type { Sealer } from '../common/deps.ts';
import { FlowError } from '../common/flow-error.ts';
import { issuerSsdKeyContext } from './flows/create-ssd.ts';

/** Default life of an issuer-managed SSD's key set before the schedule rotates it. */
export const ISSUER_KEY_LIFETIME_MS = 365 * 24 * 3600 * 1000;

export function issuerKeySlot(db: Database, sealer: Sealer, cardId: string, aid: string, lifetimeMs = ISSUER_KEY_LIFETIME_MS): KeySlot {
  const ctx = issuerSsdKeyContext(cardId, aid);
  const read = async (column: 'keys' | 'pending'): Promise<SdKeySet | undefined> => {
    const rows = await db.query<{ v: Uint8Array | null; managed_by: string }>(`SELECT ${column} AS v, managed_by FROM ssds WHERE card_id = $1 AND aid = $2`, [cardId, aid]);
    const r = rows[0];
    if (!r) throw new FlowError('NOT_FOUND', `no SSD ${aid} on card ${cardId}`);
    if (r.managed_by !== 'issuer') throw new FlowError('NOT_PERMITTED', `SSD ${aid} is managed by its provider; the issuer holds no keys for it`);
    return r.v ? decodeKeySet(await sealer.unwrap(r.v, ctx)) : undefined;
  };
  return {
    async current() {
      const k = await read('keys');
      if (!k) throw new FlowError('WRONG_STATE', `the issuer holds no keys for SSD ${aid}`);
      return k;
    },
    pending: () => read('pending'),
    async setPending(tx: Database, set: SdKeySet) {
      const sealed = await sealer.wrap(encodeKeySet(set), ctx);
      await tx.execute('UPDATE ssds SET pending = $1, pending_kcvs = $2, updated_at = $3 WHERE card_id = $4 AND aid = $5', [
        sealed,
        JSON.stringify(keySetKcvs(set)),
        new Date().toISOString(),
        cardId,
        aid,
      ]);
    },
    async promote(tx: Database, kcvs: KeySetKcvs) {
      const now = Date.now();
      const r = await tx.execute(
        'UPDATE ssds SET keys = pending, pending = NULL, kvn = $1, kcvs = $2, pending_kcvs = NULL, keys_expire_at = $3, updated_at = $4 WHERE card_id = $5 AND aid = $6 AND pending IS NOT NULL',
        [kcvs.kvn, JSON.stringify(kcvs), new Date(now + lifetimeMs).toISOString(), new Date(now).toISOString(), cardId, aid],
      );
      if (r.rowCount !== 1) throw new FlowError('WRONG_STATE', `no pending key set for SSD ${aid}`);
    },
  };
}
