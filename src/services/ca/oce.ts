/**
 * Issuing Off-Card Entity certificates (sans HTTP): what a provider's platform presents to its SSD, whose trust
 * point is this CA's public key, to open a secure channel.
 *  - SCP11 CA → CERT.OCE.ECKA (Amendment F §6.1, Table 6-1): a GP '7F21' with key usage '00 80' (key
 *    agreement — the only usage Table 6-1 gives an OCE certificate, and what the SD's PERFORM SECURITY
 *    OPERATION requires of the last certificate of a chain, §7.5), '42' = the CA id (the CA-KLOC identifier),
 *    signed with ECDSA by SK.CA-KLOC.ECDSA; the SD verifies it with PK.CA-KLOC.ECDSA and takes PK.OCE.ECKA
 *    for SCP11a/SCP11c.
 *  - SCP10 CA → CERT.OCE.AUT in the SCP10 '7F21' format of src/scp/scp10/certificate.ts: issuer id = the CA id
 *    (the id of PK.TP_EX.AUT), 8-byte subject id = the OCE id the host sends in its authentication data.
 * Default subject id (a caller may give its own, `subjectId`):
 *  - SCP11: the CA owner's id as UTF-8 bytes (owner ids are 1–64 ASCII characters, within '5F20''s 1–127).
 *    The SD compares this subject id with its SD provider identifier ('5F20' of INSTALL) and grants
 *    AUTHENTICATED on a match, ANY_AUTHENTICATED otherwise — so the provider's id is what its SSD should carry.
 *    Deterministic, not random: every OCE certificate of one provider names the same OCE.
 *  - SCP10: the first 8 bytes of SHA-256(modulus ‖ exponent) of the OCE key — one OCE id per OCE key.
 * Only the public key is sent here; the OCE private key never reaches the CA. Checking, signing and the serial
 * are shared with SD certificates (certify.ts); OCE certificates go into `ca_oce_certificates`, are revoked
 * like SD certificates (revocation.ts) and audited as `ca.certificate.issue` with `kind: 'oce'`.
 */
import type { CertificateScheme } from '../../scp/scp10/certificate.ts';
import { getCaRecord, type CaDeps } from './authority.ts';
import { certify, checkCertification, issuedFields, publicKeyBytesOf, sha256Prefix8, type IssuedFields, type SdPublicKey } from './certify.ts';
import { CaError } from './errors.ts';

export interface OceCertificateRequest {
  /** SCP11: PK.OCE.ECKA, an uncompressed point on the CA's curve; SCP10: PK.OCE.AUT, RSA modulus and exponent. */
  readonly publicKey: SdPublicKey;
  /** SCP11: 1–127 bytes (default: the CA owner's id, UTF-8); SCP10: 8 bytes, the OCE id (default: SHA-256 of the key, first 8 bytes). */
  readonly subjectId?: Uint8Array;
  /** Default 365, at most 3650. */
  readonly validityDays?: number;
  /** SCP10 only (default `pkcs1`). */
  readonly scheme?: CertificateScheme;
}

/** An OCE certificate; `subjectId` is the OCE identifier, `serial` the '93' value (SCP10 certificates carry none). */
export interface IssuedOceCertificate extends IssuedFields {
  readonly kind: 'oce';
  /** SCP11: `keyAgreement` ('00 80'); SCP10: null (the format has no key usage). */
  readonly keyUsage: 'keyAgreement' | null;
  /** SCP10: the signature scheme; SCP11: null. */
  readonly scheme: CertificateScheme | null;
}

/** The default subject id of an OCE certificate (see the module header). */
export function defaultOceSubjectId(kind: 'scp11' | 'scp10', owner: string, publicKey: SdPublicKey): Uint8Array {
  return kind === 'scp11' ? new TextEncoder().encode(owner) : sha256Prefix8(publicKeyBytesOf(publicKey));
}

/**
 * Certify an Off-Card Entity public key with CA `caId`. `by` names the caller in the audit record. Throws
 * `CaError` (UNKNOWN_CA, BAD_PUBLIC_KEY, BAD_REQUEST, DUPLICATE_CERTIFICATE) before writing anything.
 */
export async function issueOceCertificate(deps: CaDeps, caId: string, req: OceCertificateRequest, by = 'unknown'): Promise<IssuedOceCertificate> {
  const ca = await getCaRecord(deps.db, caId);
  if (ca === undefined) throw new CaError('UNKNOWN_CA', `unknown CA ${caId}`);
  if (typeof req !== 'object' || req === null) throw new CaError('BAD_REQUEST', 'request is missing');
  if ((req as { keyUsage?: unknown }).keyUsage !== undefined) throw new CaError('BAD_REQUEST', "an OCE certificate's key usage is fixed ('00 80' key agreement for SCP11, none for SCP10)");
  const checked = checkCertification(
    ca,
    {
      publicKey: req.publicKey,
      ...(req.subjectId === undefined ? {} : { subjectId: req.subjectId }),
      ...(req.validityDays === undefined ? {} : { validityDays: req.validityDays }),
      ...(req.scheme === undefined ? {} : { scheme: req.scheme }),
    },
    () => defaultOceSubjectId(ca.kind, ca.owner, req.publicKey),
  );
  return certify(deps, checked, 'oce', async (tx, signed) => {
    const issued: IssuedOceCertificate = {
      kind: 'oce',
      ...issuedFields(ca.caId, signed),
      keyUsage: ca.kind === 'scp11' ? 'keyAgreement' : null,
      scheme: checked.scheme,
    };
    await tx.execute(
      `INSERT INTO ca_oce_certificates (serial, ca_id, subject_id, public_key, key_fingerprint, key_usage, scheme, certificate,
         certificate_sha256, not_before, not_after, issued_at, issued_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [issued.serial, ca.caId, issued.subjectId, signed.publicKeyBytes, issued.publicKeyFingerprint, issued.keyUsage, issued.scheme, issued.certificate,
        issued.certificateSha256, issued.notBefore, issued.notAfter, issued.issuedAt, by],
    );
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'ca.certificate.issue',
      subject: `oce:${ca.caId}/${issued.subjectId}`,
      details: {
        kind: 'oce',
        caId: ca.caId,
        serial: issued.serial,
        subjectId: issued.subjectId,
        keyUsage: issued.keyUsage,
        scheme: issued.scheme,
        publicKeyFingerprint: issued.publicKeyFingerprint,
        certificateFingerprint: issued.certificateSha256,
        notAfter: issued.notAfter,
        by,
      },
    });
    return issued;
  });
}
