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
];
