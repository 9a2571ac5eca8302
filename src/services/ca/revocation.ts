/**
 * Revocation (sans HTTP): `revoke` marks an issued certificate revoked (once; audited), `isRevoked` and
 * `revocationList` give the CRL-like list that platforms check before trusting a card certificate
 * (view `ca_revocations`). Entries carry the serial and the SHA-256 of the certificate bytes: an SCP10
 * certificate has no serial inside, so a relying party matches it by its fingerprint.
 */
import type { Database, Row } from '../../platform/storage/database.ts';
import { nowOf, type CaDeps } from './authority.ts';
import { CaError } from './errors.ts';
import type { IssuedCertificate, SdKeyUsage } from './issue.ts';

export const REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'caCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export const SERIAL_PATTERN = /^[0-9A-F]{16}$/;

export interface RevocationEntry {
  readonly serial: string;
  readonly certificateSha256: string;
  readonly revokedAt: string;
  readonly reason: RevocationReason;
}

interface CertRow extends Row {
  serial: string;
  ca_id: string;
  card_id: string;
  sd_aid: string;
  subject_id: string;
  key_usage: string | null;
  key_fingerprint: string;
  certificate: Uint8Array;
  certificate_sha256: string;
  not_before: string;
  not_after: string;
  issued_at: string;
  revoked_at: string | null;
  reason: string | null;
}

function toIssued(r: CertRow): IssuedCertificate {
  return {
    serial: r.serial,
    caId: r.ca_id,
    cardId: r.card_id,
    sdAid: r.sd_aid,
    subjectId: r.subject_id,
    keyUsage: r.key_usage as SdKeyUsage | null,
    publicKeyFingerprint: r.key_fingerprint,
    certificate: r.certificate,
    certificateSha256: r.certificate_sha256,
    notBefore: r.not_before,
    notAfter: r.not_after,
    issuedAt: r.issued_at,
    revokedAt: r.revoked_at,
    reason: r.reason,
  };
}

const CERT_COLUMNS =
  'serial, ca_id, card_id, sd_aid, subject_id, key_usage, key_fingerprint, certificate, certificate_sha256, not_before, not_after, issued_at, revoked_at, reason';

export async function getCertificate(db: Database, serial: string): Promise<IssuedCertificate | undefined> {
  if (typeof serial !== 'string' || !SERIAL_PATTERN.test(serial.toUpperCase())) return undefined;
  const [r] = await db.query<CertRow>(`SELECT ${CERT_COLUMNS} FROM ca_certificates WHERE serial = $1`, [serial.toUpperCase()]);
  return r === undefined ? undefined : toIssued(r);
}

export async function findCertificateByFingerprint(db: Database, caId: string, certificateSha256: string): Promise<IssuedCertificate | undefined> {
  const [r] = await db.query<CertRow>(`SELECT ${CERT_COLUMNS} FROM ca_certificates WHERE ca_id = $1 AND certificate_sha256 = $2`, [caId, certificateSha256]);
  return r === undefined ? undefined : toIssued(r);
}

/** Revoke certificate `serial`. Throws UNKNOWN_CERTIFICATE, ALREADY_REVOKED or BAD_REQUEST (bad reason). */
export async function revoke(deps: CaDeps, serial: string, reason: RevocationReason, by = 'unknown'): Promise<IssuedCertificate> {
  if (!(REVOCATION_REASONS as readonly string[]).includes(reason)) throw new CaError('BAD_REQUEST', `reason must be one of ${REVOCATION_REASONS.join(', ')}`);
  const s = typeof serial === 'string' ? serial.toUpperCase() : '';
  const revokedAt = nowOf(deps).toISOString();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.query<CertRow>(
      `UPDATE ca_certificates SET revoked_at = $1, reason = $2 WHERE serial = $3 AND revoked_at IS NULL RETURNING ${CERT_COLUMNS}`,
      [revokedAt, reason, s],
    );
    if (row === undefined) {
      const existing = await getCertificate(tx, s);
      if (existing === undefined) throw new CaError('UNKNOWN_CERTIFICATE', `no certificate with serial ${s}`);
      throw new CaError('ALREADY_REVOKED', `certificate ${s} was revoked at ${existing.revokedAt}`);
    }
    const c = toIssued(row);
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'ca.certificate.revoke',
      subject: `card:${c.cardId}/${c.sdAid}`,
      details: { caId: c.caId, serial: c.serial, reason, publicKeyFingerprint: c.publicKeyFingerprint, certificateFingerprint: c.certificateSha256, by },
    });
    return c;
  });
}

export async function isRevoked(db: Database, serial: string): Promise<boolean> {
  const rows = await db.query('SELECT serial FROM ca_revocations WHERE serial = $1', [serial.toUpperCase()]);
  return rows.length > 0;
}

/** The revocation list of one CA, oldest revocation first. */
export async function revocationList(db: Database, caId: string): Promise<RevocationEntry[]> {
  const rows = await db.query<{ serial: string; certificate_sha256: string; revoked_at: string; reason: string }>(
    'SELECT serial, certificate_sha256, revoked_at, reason FROM ca_revocations WHERE ca_id = $1 ORDER BY revoked_at, serial',
    [caId],
  );
  return rows.map((r) => ({ serial: r.serial, certificateSha256: r.certificate_sha256, revokedAt: r.revoked_at, reason: r.reason as RevocationReason }));
}
