/** The provider's key slot of an SSD: `current` and `pending` sealed in its `ssds` row. */
import type { Database } from '../../platform/storage/database.ts';
import { decodeKeySet, encodeKeySet, type KeySetKcvs, type SdKeySet } from '../sd-keys/key-set.ts';
import type { KeySlot } from '../common/rotation.ts';
import type { Sealer } from '../common/deps.ts';
import { FlowError } from '../common/flow-error.ts';

export const providerKeyContext = (cardId: string, aid: string) => `provider/ssd/${cardId}/${aid}`;

/** How long a key set lives before its rotation is due. */
export const KEY_LIFETIME_MS = 365 * 24 * 3600 * 1000;

export function providerKeySlot(db: Database, sealer: Sealer, cardId: string, aid: string): KeySlot {
  const ctx = providerKeyContext(cardId, aid);
  const read = async (column: 'keys' | 'pending'): Promise<SdKeySet | undefined> => {
    const rows = await db.query<{ v: Uint8Array | null }>(`SELECT ${column} AS v FROM ssds WHERE card_id = $1 AND aid = $2`, [cardId, aid]);
    if (!rows[0]) throw new FlowError('NOT_FOUND', `the provider has no SSD ${aid} on card ${cardId}`);
    return rows[0].v ? decodeKeySet(await sealer.unwrap(rows[0].v, ctx)) : undefined;
  };
  return {
    async current() {
      const k = await read('keys');
      if (!k) throw new FlowError('WRONG_STATE', `no keys for SSD ${aid} yet`);
      return k;
    },
    pending: () => read('pending'),
    async setPending(tx: Database, set: SdKeySet) {
      const sealed = await sealer.wrap(encodeKeySet(set), ctx);
      await tx.execute('UPDATE ssds SET pending = $1, updated_at = $2 WHERE card_id = $3 AND aid = $4', [sealed, new Date().toISOString(), cardId, aid]);
    },
    async promote(tx: Database, kcvs: KeySetKcvs) {
      const now = Date.now();
      const r = await tx.execute(
        'UPDATE ssds SET keys = pending, pending = NULL, kvn = $1, kcvs = $2, pending_kcvs = NULL, keys_expire_at = $3, updated_at = $4 WHERE card_id = $5 AND aid = $6 AND pending IS NOT NULL',
        [kcvs.kvn, JSON.stringify(kcvs), new Date(now + KEY_LIFETIME_MS).toISOString(), new Date(now).toISOString(), cardId, aid],
      );
      if (r.rowCount !== 1) throw new FlowError('WRONG_STATE', `no pending key set for SSD ${aid}`);
    },
  };
}
