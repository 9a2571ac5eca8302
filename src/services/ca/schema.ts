/**
 * The CA service's tables: certificate authorities (one key pair each, the private key sealed by the
 * keystore, never in clear), the SD certificates they issued, and the revocation list as a view.
 * 0002: Off-Card Entity certificates (CERT.OCE.ECKA for SCP11a/c, CERT.OCE.AUT for SCP10) in their own table;
 * `ca_serials` registers every certificate of both tables so that a serial — and the SHA-256 of the certificate
 * bytes, by which SCP10 certificates are revoked — names one certificate only (backfilled from the SD table);
 * the revocation view covers both tables.
 */
import type { Migration } from '../../platform/storage/database.ts';
import { both } from '../../platform/storage/dialect.ts';

export const CA_MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_ca_authorities',
    sql: both(
      (t) => `CREATE TABLE cas (
        ca_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        kind TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        public_key ${t.blob} NOT NULL,
        certificate ${t.blob} NOT NULL,
        private_key_sealed ${t.blob} NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX cas_owner ON cas (owner);
      CREATE TABLE ca_certificates (
        serial TEXT PRIMARY KEY,
        ca_id TEXT NOT NULL REFERENCES cas(ca_id),
        card_id TEXT NOT NULL,
        sd_aid TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        public_key ${t.blob} NOT NULL,
        key_fingerprint TEXT NOT NULL,
        key_usage TEXT,
        certificate ${t.blob} NOT NULL,
        certificate_sha256 TEXT NOT NULL UNIQUE,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        issued_by TEXT NOT NULL,
        revoked_at TEXT,
        reason TEXT
      );
      CREATE INDEX ca_certificates_ca ON ca_certificates (ca_id);
      CREATE VIEW ca_revocations AS
        SELECT ca_id, serial, certificate_sha256, revoked_at, reason FROM ca_certificates WHERE revoked_at IS NOT NULL;`,
    ),
  },
  {
    id: '0002_ca_oce_certificates',
    sql: both(
      (t) => `CREATE TABLE ca_oce_certificates (
        serial TEXT PRIMARY KEY,
        ca_id TEXT NOT NULL REFERENCES cas(ca_id),
        subject_id TEXT NOT NULL,
        public_key ${t.blob} NOT NULL,
        key_fingerprint TEXT NOT NULL,
        key_usage TEXT,
        scheme TEXT,
        certificate ${t.blob} NOT NULL,
        certificate_sha256 TEXT NOT NULL UNIQUE,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        issued_by TEXT NOT NULL,
        revoked_at TEXT,
        reason TEXT
      );
      CREATE INDEX ca_oce_certificates_ca ON ca_oce_certificates (ca_id);
      CREATE TABLE ca_serials (
        serial TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('sd', 'oce')),
        ca_id TEXT NOT NULL REFERENCES cas(ca_id),
        certificate_sha256 TEXT NOT NULL UNIQUE,
        issued_at TEXT NOT NULL
      );
      INSERT INTO ca_serials (serial, kind, ca_id, certificate_sha256, issued_at)
        SELECT serial, 'sd', ca_id, certificate_sha256, issued_at FROM ca_certificates;
      DROP VIEW ca_revocations;
      CREATE VIEW ca_revocations AS
        SELECT ca_id, serial, certificate_sha256, revoked_at, reason, CAST('sd' AS TEXT) AS kind FROM ca_certificates WHERE revoked_at IS NOT NULL
        UNION ALL
        SELECT ca_id, serial, certificate_sha256, revoked_at, reason, CAST('oce' AS TEXT) AS kind FROM ca_oce_certificates WHERE revoked_at IS NOT NULL;`,
    ),
  },
  {
    // issue 8 §4: one CA per owner and protocol family (kind), enforced by the database too (two concurrent creates).
    id: '0003_ca_one_per_owner_and_kind',
    sql: 'CREATE UNIQUE INDEX cas_owner_kind ON cas (owner, kind);',
  },
];
