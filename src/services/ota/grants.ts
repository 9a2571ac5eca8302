/**
 * Which provider may address which applications (SSDs, by AID) on which card through the OTA admin API
 * (issue 8 §4). The issuer owns the card: it alone grants (when it creates an SSD for a provider, before the
 * card is touched) and revokes (when the SSD is deleted). Grants are rows of the OTA's database, each change
 * audited; `MemoryCardGrants` serves tests and in-process wiring.
 */
import type { Database } from '../../platform/storage/database.ts';
import type { Auditor } from '../common/deps.ts';

export interface CardGrant {
  readonly deviceId: string;
  readonly aid: string;
  readonly providerId: string;
}

export interface CardGrants {
  /** The AIDs (upper-case hex) `providerId` may address on `deviceId`. */
  aidsOf(deviceId: string, providerId: string): Promise<ReadonlySet<string>>;
  /** Grant `aid` on `deviceId` to `providerId` (idempotent; a grant to another provider is replaced). */
  grant(g: CardGrant, actor: string): Promise<void>;
  /** Withdraw the grant of `aid` on `deviceId`; false when there was none. */
  revoke(deviceId: string, aid: string, actor: string): Promise<boolean>;
}

export class MemoryCardGrants implements CardGrants {
  readonly #grants = new Map<string, string>();
  async aidsOf(deviceId: string, providerId: string): Promise<ReadonlySet<string>> {
    const out = new Set<string>();
    for (const [k, p] of this.#grants) if (p === providerId && k.startsWith(`${deviceId}/`)) out.add(k.slice(deviceId.length + 1));
    return out;
  }
  async grant(g: CardGrant): Promise<void> {
    this.#grants.set(`${g.deviceId}/${g.aid.toUpperCase()}`, g.providerId);
  }
  async revoke(deviceId: string, aid: string): Promise<boolean> {
    return this.#grants.delete(`${deviceId}/${aid.toUpperCase()}`);
  }
}

export class SqlCardGrants implements CardGrants {
  readonly #db: Database;
  readonly #audit: Auditor;
  constructor(db: Database, audit: Auditor) {
    this.#db = db;
    this.#audit = audit;
  }

  async aidsOf(deviceId: string, providerId: string): Promise<ReadonlySet<string>> {
    const rows = await this.#db.query<{ aid: string }>('SELECT aid FROM card_grants WHERE device_id = $1 AND provider_id = $2', [deviceId, providerId]);
    return new Set(rows.map((r) => r.aid));
  }

  async grant(g: CardGrant, actor: string): Promise<void> {
    const aid = g.aid.toUpperCase();
    await this.#db.transaction(async (tx) => {
      const rows = await tx.query<{ provider_id: string }>('SELECT provider_id FROM card_grants WHERE device_id = $1 AND aid = $2', [g.deviceId, aid]);
      if (rows[0]?.provider_id === g.providerId) return;
      if (rows[0]) await tx.execute('DELETE FROM card_grants WHERE device_id = $1 AND aid = $2', [g.deviceId, aid]);
      await tx.execute('INSERT INTO card_grants (device_id, aid, provider_id, granted_at) VALUES ($1, $2, $3, $4)', [g.deviceId, aid, g.providerId, new Date().toISOString()]);
      await this.#audit(tx, { actor, action: 'ota.grant', subject: `device/${g.deviceId}`, details: { aid, providerId: g.providerId, replaced: rows[0]?.provider_id ?? null } });
    });
  }

  async revoke(deviceId: string, aid: string, actor: string): Promise<boolean> {
    const a = aid.toUpperCase();
    return this.#db.transaction(async (tx) => {
      const r = await tx.execute('DELETE FROM card_grants WHERE device_id = $1 AND aid = $2', [deviceId, a]);
      if (r.rowCount === 0) return false;
      await this.#audit(tx, { actor, action: 'ota.grant-revoked', subject: `device/${deviceId}`, details: { aid: a } });
      return true;
    });
  }
}
