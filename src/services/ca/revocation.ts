/**
 * Revocation (sans HTTP): `revoke` marks an issued certificate — SD or OCE — revoked (once; audited),
 * `isRevoked` and `revocationList` give the CRL-like list that platforms check before trusting a card
 * certificate (view `ca_revocations`, over both tables). Entries carry the serial and the SHA-256 of the
 * certificate bytes: an SCP10 certificate has no serial inside, so a relying party matches it by its fingerprint.
 */
import type { Database } from '../../platform/storage/database.ts';
import { nowOf, type CaDeps } from './authority.ts';
import {
  getCertificate,
  OCE_CERT_COLUMNS,
  oceCertificateOf,
  SD_CERT_COLUMNS,
  sdCertificateOf,
  type CaCertificate,
  type OceCertificateRow,
  type SdCertificateRow,
} from './certificates.ts';
import { CaError } from './errors.ts';

export { findCertificateByFingerprint, getCertificate, SERIAL_PATTERN, type CaCertificate } from './certificates.ts';

export const REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'caCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface RevocationEntry {
  readonly serial: string;
  readonly certificateSha256: string;
  readonly revokedAt: string;
  readonly reason: RevocationReason;
}

/** Revoke certificate `serial` (SD or OCE). Throws UNKNOWN_CERTIFICATE, ALREADY_REVOKED or BAD_REQUEST (bad reason). */
export async function revoke(deps: CaDeps, serial: string, reason: RevocationReason, by = 'unknown'): Promise<CaCertificate> {
  if (!(REVOCATION_REASONS as readonly string[]).includes(reason)) throw new CaError('BAD_REQUEST', `reason must be one of ${REVOCATION_REASONS.join(', ')}`);
  const s = typeof serial === 'string' ? serial.toUpperCase() : '';
  const revokedAt = nowOf(deps).toISOString();
  return deps.db.transaction(async (tx) => {
    const c = await markRevoked(tx, s, revokedAt, reason);
    if (c === undefined) {
      const existing = await getCertificate(tx, s);
      if (existing === undefined) throw new CaError('UNKNOWN_CERTIFICATE', `no certificate with serial ${s}`);
      throw new CaError('ALREADY_REVOKED', `certificate ${s} was revoked at ${existing.revokedAt}`);
    }
    const common = { caId: c.caId, serial: c.serial, reason, publicKeyFingerprint: c.publicKeyFingerprint, certificateFingerprint: c.certificateSha256, by };
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'ca.certificate.revoke',
      ...(c.kind === 'sd'
        ? { subject: `card:${c.cardId}/${c.sdAid}`, details: common }
        : { subject: `oce:${c.caId}/${c.subjectId}`, details: { kind: 'oce', ...common } }),
    });
    return c;
  });
}

/** The row lock and update of whichever table holds `serial`; undefined when none was unrevoked. */
async function markRevoked(tx: Database, serial: string, revokedAt: string, reason: RevocationReason): Promise<CaCertificate | undefined> {
  const [sd] = await tx.query<SdCertificateRow>(
    `UPDATE ca_certificates SET revoked_at = $1, reason = $2 WHERE serial = $3 AND revoked_at IS NULL RETURNING ${SD_CERT_COLUMNS}`,
    [revokedAt, reason, serial],
  );
  if (sd !== undefined) return sdCertificateOf(sd);
  const [oce] = await tx.query<OceCertificateRow>(
    `UPDATE ca_oce_certificates SET revoked_at = $1, reason = $2 WHERE serial = $3 AND revoked_at IS NULL RETURNING ${OCE_CERT_COLUMNS}`,
    [revokedAt, reason, serial],
  );
  return oce === undefined ? undefined : oceCertificateOf(oce);
}

export async function isRevoked(db: Database, serial: string): Promise<boolean> {
  const rows = await db.query('SELECT serial FROM ca_revocations WHERE serial = $1', [serial.toUpperCase()]);
  return rows.length > 0;
}

/** The revocation list of one CA (SD and OCE certificates), oldest revocation first. */
export async function revocationList(db: Database, caId: string): Promise<RevocationEntry[]> {
  const rows = await db.query<{ serial: string; certificate_sha256: string; revoked_at: string; reason: string }>(
    'SELECT serial, certificate_sha256, revoked_at, reason FROM ca_revocations WHERE ca_id = $1 ORDER BY revoked_at, serial',
    [caId],
  );
  return rows.map((r) => ({ serial: r.serial, certificateSha256: r.certificate_sha256, revokedAt: r.revoked_at, reason: r.reason as RevocationReason }));
}
