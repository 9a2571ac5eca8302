/**
 * The issuer's tables (card issuer management platform / SEI-TSM): card inventory with the ISD keys,
 * providers and their business permissions, supplementary security domains and their keys while the
 * issuer holds them. Key columns hold envelope-encrypted blobs (keystore), never plain keys.
 */
import type { Migration } from '../../platform/storage/database.ts';
import { both } from '../../platform/storage/dialect.ts';
import { FLOWS_MIGRATION } from '../../platform/flows/store.ts';

export const ISSUER_MIGRATIONS: readonly Migration[] = [
  FLOWS_MIGRATION,
  {
    id: '0002_issuer_inventory',
    sql: both(
      (t) => `CREATE TABLE cards (
        card_id TEXT PRIMARY KEY,
        iin TEXT NOT NULL,
        cin TEXT NOT NULL,
        eid TEXT,
        cplc TEXT,
        profile TEXT NOT NULL,
        isd_aid TEXT NOT NULL,
        isd_keys ${t.blob} NOT NULL,
        isd_kcvs TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE providers (
        provider_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        aid_prefix TEXT NOT NULL,
        privileges TEXT NOT NULL,
        max_ssds INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE ssds (
        card_id TEXT NOT NULL REFERENCES cards(card_id),
        aid TEXT NOT NULL,
        provider_id TEXT NOT NULL REFERENCES providers(provider_id),
        managed_by TEXT NOT NULL,
        state TEXT NOT NULL,
        scp INTEGER NOT NULL,
        kvn INTEGER NOT NULL,
        keys ${t.blob},
        pending ${t.blob},
        kcvs TEXT NOT NULL,
        pending_kcvs TEXT,
        keys_expire_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (card_id, aid)
      );`,
    ),
  },
  {
    id: '0003_issuer_asymmetric_sds',
    sql: both(
      () => `CREATE TABLE asymmetric_sds (
        card_id TEXT NOT NULL,
        aid TEXT NOT NULL,
        variant TEXT NOT NULL,
        sd_kvn INTEGER NOT NULL,
        sd_kid INTEGER NOT NULL,
        public_key TEXT NOT NULL,
        trust_point TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (card_id, aid),
        FOREIGN KEY (card_id, aid) REFERENCES ssds(card_id, aid)
      );`,
    ),
  },
];
