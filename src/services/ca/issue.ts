/**
 * Issuing SD certificates (sans HTTP). `issueSdCertificate(deps, caId, request)` certifies the public key an SD
 * generated on card:
 *  - SCP11 CA: a GP certificate '7F21' (Amendment F §6.1): '93' serial, '42' CA-KLOC id (the CA id), '5F20'
 *    subject id, '95' key usage ('00 80' key agreement by default — CERT.SD.ECKA — or '82'), '5F25'/'5F24'
 *    dates, '7F49' the SD's point on the CA's curve, '5F37' ECDSA signature;
 *  - SCP10 CA: the SCP10 '7F21' format of src/scp/scp10/certificate.ts (issuer id = CA id, 8-byte subject id,
 *    modulus and exponent), RSASSA-PKCS1-v1_5 by default or ISO 9796-2 with message recovery.
 * The subject is the card (ICCID) and the SD AID. Default subject id: ICCID bytes ‖ AID for SCP11, and the first
 * 8 bytes of SHA-256 of the same for SCP10 (whose ids are 8 bytes); a caller may give its own (`subjectId`).
 * Checking, signing and the serial are shared with OCE certificates (certify.ts). Everything is checked before
 * anything is written; the row and its audit record commit together.
 */
import { concat, fromHex } from '../../core/bytes.ts';
import type { CertificateScheme } from '../../scp/scp10/certificate.ts';
import { getCaRecord, type CaDeps } from './authority.ts';
import { certify, checkCertification, issuedFields, sha256Prefix8, type IssuedFields, type SdKeyUsage, type SdPublicKey } from './certify.ts';
import { CaError } from './errors.ts';

export { DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS, type SdKeyUsage, type SdPublicKey } from './certify.ts';

export const CARD_ID_PATTERN = /^[0-9]{17,19}[0-9Ff]$/;
export const AID_PATTERN = /^([0-9A-Fa-f]{2}){5,16}$/;

export interface SdCertificateRequest {
  /** ICCID. */
  readonly cardId: string;
  /** The SD's AID, hex. */
  readonly sdAid: string;
  /** SCP11: the uncompressed point ('B0' of '7F49'); SCP10: RSA modulus and public exponent. */
  readonly publicKey: SdPublicKey;
  /** SCP11 only (default `keyAgreement`, '00 80'). */
  readonly keyUsage?: SdKeyUsage;
  /** SCP10 only (default `pkcs1`). */
  readonly scheme?: CertificateScheme;
  /** Own subject id (SCP11: 1–127 bytes; SCP10: 8 bytes — the card id the SD presents). */
  readonly subjectId?: Uint8Array;
  /** Default 365, at most 3650. */
  readonly validityDays?: number;
}

/** An SD certificate (`serial`: upper-case hex, the '93' value of an SCP11 certificate). */
export interface IssuedCertificate extends IssuedFields {
  readonly kind: 'sd';
  readonly cardId: string;
  readonly sdAid: string;
  readonly keyUsage: SdKeyUsage | null;
}

export function defaultSubjectId(cardId: string, sdAid: string): Uint8Array {
  const iccid = cardId.length % 2 === 0 ? cardId : `${cardId}F`;
  return concat(fromHex(iccid), fromHex(sdAid));
}

/**
 * Certify an SD public key with CA `caId`. `by` names the caller in the audit record. Throws `CaError`
 * (UNKNOWN_CA, BAD_PUBLIC_KEY, BAD_REQUEST, DUPLICATE_CERTIFICATE) before writing anything.
 */
export async function issueSdCertificate(deps: CaDeps, caId: string, req: SdCertificateRequest, by = 'unknown'): Promise<IssuedCertificate> {
  const ca = await getCaRecord(deps.db, caId);
  if (ca === undefined) throw new CaError('UNKNOWN_CA', `unknown CA ${caId}`);
  if (typeof req.cardId !== 'string' || !CARD_ID_PATTERN.test(req.cardId)) throw new CaError('BAD_REQUEST', 'cardId must be an ICCID (18–20 digits, F padded)');
  if (typeof req.sdAid !== 'string' || !AID_PATTERN.test(req.sdAid)) throw new CaError('BAD_REQUEST', 'sdAid must be 5 to 16 bytes in hex');
  const cardId = req.cardId.toUpperCase();
  const sdAid = req.sdAid.toUpperCase();
  const checked = checkCertification(ca, req, () => (ca.kind === 'scp11' ? defaultSubjectId(cardId, sdAid) : sha256Prefix8(defaultSubjectId(cardId, sdAid))));
  return certify(deps, checked, 'sd', async (tx, signed) => {
    const issued: IssuedCertificate = {
      kind: 'sd',
      ...issuedFields(ca.caId, signed),
      cardId,
      sdAid,
      keyUsage: checked.keyUsage,
    };
    await tx.execute(
      `INSERT INTO ca_certificates (serial, ca_id, card_id, sd_aid, subject_id, public_key, key_fingerprint, key_usage, certificate,
         certificate_sha256, not_before, not_after, issued_at, issued_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [issued.serial, ca.caId, cardId, sdAid, issued.subjectId, signed.publicKeyBytes, issued.publicKeyFingerprint, issued.keyUsage, issued.certificate,
        issued.certificateSha256, issued.notBefore, issued.notAfter, issued.issuedAt, by],
    );
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'ca.certificate.issue',
      subject: `card:${cardId}/${sdAid}`,
      details: {
        caId: ca.caId,
        serial: issued.serial,
        cardId,
        sdAid,
        subjectId: issued.subjectId,
        keyUsage: issued.keyUsage,
        publicKeyFingerprint: issued.publicKeyFingerprint,
        certificateFingerprint: issued.certificateSha256,
        notAfter: issued.notAfter,
        by,
      },
    });
    return issued;
  });
}
