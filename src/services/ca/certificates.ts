/**
 * Reading issued certificates of both kinds (sans HTTP): SD certificates (`ca_certificates`) and Off-Card
 * Entity certificates (`ca_oce_certificates`). A serial names one certificate across both tables
 * (`ca_serials`, see certify.ts), so `getCertificate(serial)` needs no kind.
 */
import type { CertificateScheme } from '../../scp/scp10/certificate.ts';
import type { Database, Row } from '../../platform/storage/database.ts';
import type { IssuedCertificate, SdKeyUsage } from './issue.ts';
import type { IssuedOceCertificate } from './oce.ts';

/** An issued certificate: `kind` tells an SD certificate from an OCE certificate. */
export type CaCertificate = IssuedCertificate | IssuedOceCertificate;

export const SERIAL_PATTERN = /^[0-9A-F]{16}$/;

interface CommonRow extends Row {
  serial: string;
  ca_id: string;
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

export interface SdCertificateRow extends CommonRow {
  card_id: string;
  sd_aid: string;
}

export interface OceCertificateRow extends CommonRow {
  scheme: string | null;
}

export const SD_CERT_COLUMNS =
  'serial, ca_id, card_id, sd_aid, subject_id, key_usage, key_fingerprint, certificate, certificate_sha256, not_before, not_after, issued_at, revoked_at, reason';
export const OCE_CERT_COLUMNS =
  'serial, ca_id, subject_id, key_usage, scheme, key_fingerprint, certificate, certificate_sha256, not_before, not_after, issued_at, revoked_at, reason';

export function sdCertificateOf(r: SdCertificateRow): IssuedCertificate {
  return {
    kind: 'sd',
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

export function oceCertificateOf(r: OceCertificateRow): IssuedOceCertificate {
  return {
    kind: 'oce',
    serial: r.serial,
    caId: r.ca_id,
    subjectId: r.subject_id,
    keyUsage: r.key_usage as 'keyAgreement' | null,
    scheme: r.scheme as CertificateScheme | null,
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

/** The certificate with serial `serial` (hex, any case), SD or OCE, or undefined. */
export async function getCertificate(db: Database, serial: string): Promise<CaCertificate | undefined> {
  if (typeof serial !== 'string' || !SERIAL_PATTERN.test(serial.toUpperCase())) return undefined;
  const s = serial.toUpperCase();
  const [sd] = await db.query<SdCertificateRow>(`SELECT ${SD_CERT_COLUMNS} FROM ca_certificates WHERE serial = $1`, [s]);
  if (sd !== undefined) return sdCertificateOf(sd);
  const [oce] = await db.query<OceCertificateRow>(`SELECT ${OCE_CERT_COLUMNS} FROM ca_oce_certificates WHERE serial = $1`, [s]);
  return oce === undefined ? undefined : oceCertificateOf(oce);
}

/** The certificate of CA `caId` whose bytes hash to `certificateSha256` (upper-case hex), SD or OCE, or undefined. */
export async function findCertificateByFingerprint(db: Database, caId: string, certificateSha256: string): Promise<CaCertificate | undefined> {
  const [sd] = await db.query<SdCertificateRow>(`SELECT ${SD_CERT_COLUMNS} FROM ca_certificates WHERE ca_id = $1 AND certificate_sha256 = $2`, [caId, certificateSha256]);
  if (sd !== undefined) return sdCertificateOf(sd);
  const [oce] = await db.query<OceCertificateRow>(`SELECT ${OCE_CERT_COLUMNS} FROM ca_oce_certificates WHERE ca_id = $1 AND certificate_sha256 = $2`, [caId, certificateSha256]);
  return oce === undefined ? undefined : oceCertificateOf(oce);
}
