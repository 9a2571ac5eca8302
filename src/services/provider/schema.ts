/**
 * The provider's tables (application provider management platform / SP-TSM): its own inventory of cards and
 * SSDs with their keys (sealed; `pending` during a rotation), service instances with their life cycle, and
 * rotation campaigns.
 */
import type { Migration } from '../../platform/storage/database.ts';
import { both } from '../../platform/storage/dialect.ts';
import { FLOWS_MIGRATION } from '../../platform/flows/store.ts';

export const PROVIDER_MIGRATIONS: readonly Migration[] = [
  FLOWS_MIGRATION,
  {
    id: '0002_provider_inventory',
    sql: both(
      ({ blob }) => `CREATE TABLE ssds (
        card_id TEXT NOT NULL,
        aid TEXT NOT NULL,
        route TEXT NOT NULL,
        state TEXT NOT NULL,
        scp INTEGER NOT NULL,
        kvn INTEGER,
        keys ${blob},
        pending ${blob},
        kcvs TEXT,
        pending_kcvs TEXT,
        keys_expire_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (card_id, aid)
      );
      CREATE TABLE service_instances (
        card_id TEXT NOT NULL,
        aid TEXT NOT NULL,
        sd_aid TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (card_id, aid)
      );
      CREATE TABLE campaigns (
        campaign_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        status TEXT NOT NULL,
        total INTEGER NOT NULL,
        done INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE campaign_items (
        campaign_id TEXT NOT NULL REFERENCES campaigns(campaign_id),
        card_id TEXT NOT NULL,
        aid TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (campaign_id, card_id, aid)
      );`,
    ),
  },
  {
    id: '0003_provider_asymmetric',
    sql: both(
      ({ blob }) => `CREATE TABLE oce_identities (
        kind TEXT PRIMARY KEY,
        ca_id TEXT NOT NULL,
        private_key ${blob} NOT NULL,
        certificate ${blob} NOT NULL,
        serial TEXT NOT NULL,
        oce_id TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE asymmetric_sds (
        card_id TEXT NOT NULL,
        aid TEXT NOT NULL,
        variant TEXT NOT NULL,
        ca_id TEXT NOT NULL,
        first_key TEXT,
        sd_kvn INTEGER,
        sd_kid INTEGER NOT NULL,
        public_key TEXT,
        certificate ${blob},
        serial TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (card_id, aid)
      );`,
    ),
  },
];
