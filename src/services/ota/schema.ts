/**
 * The OTA server's table: the devices it may wake up and the TLS pre-shared key of each one's admin agent
 * (SCP81), sealed under the keystore (envelope encryption) — never a plain key in the database.
 */
import type { Migration } from '../../platform/storage/database.ts';

export const OTA_MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_ota_devices',
    sql: {
      sqlite: `CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        psk_identity TEXT NOT NULL UNIQUE,
        psk BLOB NOT NULL,
        agent_id TEXT,
        created_at TEXT NOT NULL
      );`,
      postgres: `CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        psk_identity TEXT NOT NULL UNIQUE,
        psk BYTEA NOT NULL,
        agent_id TEXT,
        created_at TEXT NOT NULL
      );`,
    },
  },
  {
    // issue 8 §4: which provider may address which application (AID) on which card; granted by the issuer.
    id: '0002_ota_card_grants',
    sql: `CREATE TABLE card_grants (
        device_id TEXT NOT NULL,
        aid TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        granted_at TEXT NOT NULL,
        PRIMARY KEY (device_id, aid)
      );
      CREATE INDEX card_grants_provider ON card_grants (device_id, provider_id);`,
  },
];
