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
 * Everything is checked before anything is written; the row and its audit record commit together.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { concat, fromHex, toHex } from '../../core/bytes.ts';
import { systemRandom } from '../../crypto/random.ts';
import { bcdDate, KEY_USAGE_KEY_AGREEMENT, KEY_USAGE_SIGNATURE, signCertificate, today } from '../../scp/scp11/certificate.ts';
import { isValidPublicKey } from '../../scp/scp11/ecka.ts';
import { issueCertificate, type CertificateScheme } from '../../scp/scp10/certificate.ts';
import { rsaPublicKey } from '../../scp/scp10/rsa.ts';
import { caIdBytes, getCaRecord, nowOf, type CaDeps, type CaRecord } from './authority.ts';
import { CaError } from './errors.ts';
import { curveOf, publicKeyFingerprint, rsaPrivateKeyObject, sha256Hex, withPrivateKey } from './keys.ts';

export type SdPublicKey = { readonly point: Uint8Array } | { readonly modulus: Uint8Array; readonly exponent: Uint8Array };
export type SdKeyUsage = 'keyAgreement' | 'signature';

export const CARD_ID_PATTERN = /^[0-9]{17,19}[0-9Ff]$/;
export const AID_PATTERN = /^([0-9A-Fa-f]{2}){5,16}$/;
export const DEFAULT_VALIDITY_DAYS = 365;
export const MAX_VALIDITY_DAYS = 3650;

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

export interface IssuedCertificate {
  /** Upper-case hex (the '93' value of an SCP11 certificate). */
  readonly serial: string;
  readonly caId: string;
  readonly cardId: string;
  readonly sdAid: string;
  readonly subjectId: string;
  readonly keyUsage: SdKeyUsage | null;
  readonly publicKeyFingerprint: string;
  readonly certificate: Uint8Array;
  readonly certificateSha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
  readonly revokedAt: string | null;
  readonly reason: string | null;
}

const DAY_MS = 86_400_000;

export function defaultSubjectId(cardId: string, sdAid: string): Uint8Array {
  const iccid = cardId.length % 2 === 0 ? cardId : `${cardId}F`;
  return concat(fromHex(iccid), fromHex(sdAid));
}

/** Check a request against the CA; returns the normalised parts (nothing is written). */
function checkRequest(ca: CaRecord, req: SdCertificateRequest) {
  if (typeof req.cardId !== 'string' || !CARD_ID_PATTERN.test(req.cardId)) throw new CaError('BAD_REQUEST', 'cardId must be an ICCID (18–20 digits, F padded)');
  if (typeof req.sdAid !== 'string' || !AID_PATTERN.test(req.sdAid)) throw new CaError('BAD_REQUEST', 'sdAid must be 5 to 16 bytes in hex');
  const cardId = req.cardId.toUpperCase();
  const sdAid = req.sdAid.toUpperCase();
  const days = req.validityDays ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) throw new CaError('BAD_REQUEST', `validityDays must be 1..${MAX_VALIDITY_DAYS}`);
  if (ca.kind === 'scp11') {
    if (req.scheme !== undefined) throw new CaError('BAD_REQUEST', 'scheme applies to SCP10 CAs only');
    if (!('point' in req.publicKey)) throw new CaError('BAD_PUBLIC_KEY', 'an SCP11 CA certifies an EC point');
    const curve = curveOf(ca.algorithm);
    if (!isValidPublicKey(curve, req.publicKey.point)) throw new CaError('BAD_PUBLIC_KEY', `public key is not an uncompressed point of ${curve}`);
    const subjectId = req.subjectId ?? defaultSubjectId(cardId, sdAid);
    if (subjectId.length < 1 || subjectId.length > 127) throw new CaError('BAD_REQUEST', 'subjectId of an SCP11 certificate must be 1..127 bytes');
    return { cardId, sdAid, days, subjectId, keyUsage: req.keyUsage ?? 'keyAgreement', rsa: undefined };
  }
  if (req.keyUsage !== undefined) throw new CaError('BAD_REQUEST', 'keyUsage applies to SCP11 CAs only (the SCP10 format has none)');
  if (!('modulus' in req.publicKey)) throw new CaError('BAD_PUBLIC_KEY', 'an SCP10 CA certifies an RSA modulus and exponent');
  const { modulus, exponent } = req.publicKey;
  if (modulus.length < 128 || modulus.length > 512 || modulus[0] === 0) throw new CaError('BAD_PUBLIC_KEY', 'modulus must be 128..512 bytes without a leading zero');
  if (exponent.length < 1 || exponent.length > 4 || exponent[0] === 0 || (exponent[exponent.length - 1]! & 1) === 0 || (exponent.length === 1 && exponent[0]! < 3)) {
    throw new CaError('BAD_PUBLIC_KEY', 'exponent must be an odd integer ≥ 3 of 1..4 bytes');
  }
  if ((modulus[modulus.length - 1]! & 1) === 0) throw new CaError('BAD_PUBLIC_KEY', 'modulus must be odd');
  let key: KeyObject;
  try {
    key = rsaPublicKey(modulus, exponent);
  } catch (e) {
    throw new CaError('BAD_PUBLIC_KEY', 'not an RSA public key', { cause: e });
  }
  const subjectId = req.subjectId ?? new Uint8Array(createHash('sha256').update(defaultSubjectId(cardId, sdAid)).digest()).subarray(0, 8);
  if (subjectId.length !== 8) throw new CaError('BAD_REQUEST', 'subjectId of an SCP10 certificate must be 8 bytes');
  return { cardId, sdAid, days, subjectId, keyUsage: null, rsa: { key, scheme: req.scheme ?? 'pkcs1' } };
}

/**
 * Certify an SD public key with CA `caId`. `by` names the caller in the audit record. Throws `CaError`
 * (UNKNOWN_CA, BAD_PUBLIC_KEY, BAD_REQUEST) before writing anything.
 */
export async function issueSdCertificate(deps: CaDeps, caId: string, req: SdCertificateRequest, by = 'unknown'): Promise<IssuedCertificate> {
  const ca = await getCaRecord(deps.db, caId);
  if (ca === undefined) throw new CaError('UNKNOWN_CA', `unknown CA ${caId}`);
  const checked = checkRequest(ca, req);
  const now = nowOf(deps);
  const notAfter = new Date(now.getTime() + checked.days * DAY_MS);
  const serialBytes = (deps.random ?? systemRandom)(8);
  serialBytes[0]! &= 0x7f;
  if (serialBytes[0] === 0) serialBytes[0] = 0x01;
  const serial = toHex(serialBytes);
  const certificate = await withPrivateKey(deps.sealer, ca.caId, ca.privateKeySealed, (privateKey) => {
    if (ca.kind === 'scp11') {
      const curve = curveOf(ca.algorithm);
      const point = (req.publicKey as { point: Uint8Array }).point;
      return signCertificate(
        {
          serialNumber: serialBytes,
          caId: caIdBytes(ca.caId),
          subjectId: checked.subjectId,
          keyUsage: checked.keyUsage === 'signature' ? KEY_USAGE_SIGNATURE : KEY_USAGE_KEY_AGREEMENT,
          effectiveDate: bcdDate(today(now)),
          expirationDate: bcdDate(today(notAfter)),
          publicKey: { curve, point },
        },
        { curve, privateKey },
      ).encoded;
    }
    try {
      return issueCertificate(
        { issuerId: caIdBytes(ca.caId), subjectId: checked.subjectId, subjectKey: checked.rsa!.key, scheme: checked.rsa!.scheme },
        rsaPrivateKeyObject(privateKey),
      );
    } catch (e) {
      if (e instanceof RangeError) throw new CaError('BAD_REQUEST', `scheme ${checked.rsa!.scheme}: ${e.message}`, { cause: e });
      throw e;
    }
  });
  const publicKeyBytes = 'point' in req.publicKey ? req.publicKey.point : concat(req.publicKey.modulus, req.publicKey.exponent);
  const issued: IssuedCertificate = {
    serial,
    caId: ca.caId,
    cardId: checked.cardId,
    sdAid: checked.sdAid,
    subjectId: toHex(checked.subjectId),
    keyUsage: checked.keyUsage,
    publicKeyFingerprint: publicKeyFingerprint(req.publicKey),
    certificate,
    certificateSha256: sha256Hex(certificate),
    notBefore: now.toISOString(),
    notAfter: notAfter.toISOString(),
    issuedAt: now.toISOString(),
    revokedAt: null,
    reason: null,
  };
  await deps.db.transaction(async (tx) => {
    await tx.execute(
      `INSERT INTO ca_certificates (serial, ca_id, card_id, sd_aid, subject_id, public_key, key_fingerprint, key_usage, certificate,
         certificate_sha256, not_before, not_after, issued_at, issued_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [serial, ca.caId, issued.cardId, issued.sdAid, issued.subjectId, publicKeyBytes, issued.publicKeyFingerprint, issued.keyUsage, certificate,
        issued.certificateSha256, issued.notBefore, issued.notAfter, issued.issuedAt, by],
    );
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'ca.certificate.issue',
      subject: `card:${issued.cardId}/${issued.sdAid}`,
      details: {
        caId: ca.caId,
        serial,
        cardId: issued.cardId,
        sdAid: issued.sdAid,
        subjectId: issued.subjectId,
        keyUsage: issued.keyUsage,
        publicKeyFingerprint: issued.publicKeyFingerprint,
        certificateFingerprint: issued.certificateSha256,
        notAfter: issued.notAfter,
        by,
      },
    });
  });
  return issued;
}
