/**
 * What SD certificates (issue.ts) and OCE certificates (oce.ts) share, sans HTTP:
 *  - `checkCertification(ca, request, defaultSubjectId)`: the key must be one of the CA's kind and curve (SCP11:
 *    an uncompressed point on the CA's curve; SCP10: an RSA modulus of 128–512 bytes and an odd exponent ≥ 3),
 *    options must apply to that kind (`keyUsage` SCP11 only, `scheme` SCP10 only), the subject id must fit the
 *    format (SCP11 '5F20': 1–127 bytes; SCP10: 8 bytes), validity 1..3650 days. Throws `CaError`
 *    (BAD_PUBLIC_KEY, BAD_REQUEST); writes nothing.
 *  - `certify(deps, checked, kind, write)`: draws a serial, signs with the CA key — a GP '7F21' (Amendment F
 *    §6.1, Table 6-1) for SCP11, the SCP10 '7F21' format of src/scp/scp10/certificate.ts for SCP10 — and
 *    records it in one transaction: a row in `ca_serials` (which keeps serials and certificate fingerprints
 *    unique across SD and OCE certificates), then the kind's own row and audit record (`write`). A serial
 *    already taken is drawn again (at most 3 times); certificate bytes already issued → DUPLICATE_CERTIFICATE
 *    (an SCP10 certificate has no serial inside: the same key and subject give the same bytes).
 */
import { createHash, type KeyObject } from 'node:crypto';
import { concat, toHex } from '../../core/bytes.ts';
import { systemRandom } from '../../crypto/random.ts';
import type { Database } from '../../platform/storage/database.ts';
import { StorageError } from '../../platform/storage/errors.ts';
import { bcdDate, KEY_USAGE_KEY_AGREEMENT, KEY_USAGE_SIGNATURE, signCertificate, today } from '../../scp/scp11/certificate.ts';
import { isValidPublicKey } from '../../crypto/index.ts';
import { issueCertificate, type CertificateScheme } from '../../scp/scp10/certificate.ts';
import { rsaPublicKey } from '../../crypto/index.ts';
import { caIdBytes, nowOf, type CaDeps, type CaRecord } from './authority.ts';
import { CaError } from './errors.ts';
import { curveOf, publicKeyFingerprint, rsaPrivateKeyObject, sha256Hex, withPrivateKey } from './keys.ts';

/** SCP11: the uncompressed point ('B0' of '7F49'); SCP10: RSA modulus and public exponent. */
export type SdPublicKey = { readonly point: Uint8Array } | { readonly modulus: Uint8Array; readonly exponent: Uint8Array };
/** SCP11 key usage '95': `keyAgreement` '00 80', `signature` '82'. */
export type SdKeyUsage = 'keyAgreement' | 'signature';
/** Which table a certificate lives in: SD certificates (per card and SD AID) or Off-Card Entity certificates. */
export type CertificateKind = 'sd' | 'oce';

export const DEFAULT_VALIDITY_DAYS = 365;
export const MAX_VALIDITY_DAYS = 3650;
const DAY_MS = 86_400_000;
const SERIAL_ATTEMPTS = 3;
const SCHEMES: readonly CertificateScheme[] = ['pkcs1', 'iso9796-2'];

export interface CertificationRequest {
  readonly publicKey: SdPublicKey;
  /** SCP11 only (default `keyAgreement`). */
  readonly keyUsage?: SdKeyUsage;
  /** SCP10 only (default `pkcs1`). */
  readonly scheme?: CertificateScheme;
  readonly subjectId?: Uint8Array;
  /** Default 365, at most 3650. */
  readonly validityDays?: number;
}

/** A request checked against its CA: everything `certify` needs. */
export interface CheckedCertification {
  readonly ca: CaRecord;
  readonly days: number;
  readonly subjectId: Uint8Array;
  /** SCP11: the key usage; SCP10: null (the format has none). */
  readonly keyUsage: SdKeyUsage | null;
  /** SCP10: the signature scheme; SCP11: null. */
  readonly scheme: CertificateScheme | null;
  readonly publicKey: SdPublicKey;
  readonly rsaKey: KeyObject | undefined;
}

/** A certificate signed and recorded by `certify`. */
export interface SignedCertificate {
  /** Upper-case hex of the 8 serial bytes (the '93' value of an SCP11 certificate). */
  readonly serial: string;
  readonly certificate: Uint8Array;
  readonly certificateSha256: string;
  readonly subjectId: string;
  /** Canonical key bytes stored in the row: the point, or modulus ‖ exponent. */
  readonly publicKeyBytes: Uint8Array;
  readonly publicKeyFingerprint: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
}

/** What every issued certificate's view holds, SD or OCE. */
export interface IssuedFields {
  readonly serial: string;
  readonly caId: string;
  /** Hex of the subject id ('5F20'). */
  readonly subjectId: string;
  readonly publicKeyFingerprint: string;
  readonly certificate: Uint8Array;
  readonly certificateSha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
  readonly revokedAt: string | null;
  readonly reason: string | null;
}

/** The common fields of a certificate just signed by CA `caId` (not revoked). */
export function issuedFields(caId: string, signed: SignedCertificate): IssuedFields {
  return {
    serial: signed.serial,
    caId,
    subjectId: signed.subjectId,
    publicKeyFingerprint: signed.publicKeyFingerprint,
    certificate: signed.certificate,
    certificateSha256: signed.certificateSha256,
    notBefore: signed.notBefore,
    notAfter: signed.notAfter,
    issuedAt: signed.issuedAt,
    revokedAt: null,
    reason: null,
  };
}

/** Check `req` against `ca`. `defaultSubjectId` is called (after the key check) only when `req.subjectId` is absent. */
export function checkCertification(ca: CaRecord, req: CertificationRequest, defaultSubjectId: () => Uint8Array): CheckedCertification {
  const days = req.validityDays ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) throw new CaError('BAD_REQUEST', `validityDays must be 1..${MAX_VALIDITY_DAYS}`);
  if (req.subjectId !== undefined && !(req.subjectId instanceof Uint8Array)) throw new CaError('BAD_REQUEST', 'subjectId must be bytes');
  if (typeof req.publicKey !== 'object' || req.publicKey === null) throw new CaError('BAD_PUBLIC_KEY', 'publicKey is missing');
  if (ca.kind === 'scp11') {
    if (req.scheme !== undefined) throw new CaError('BAD_REQUEST', 'scheme applies to SCP10 CAs only');
    if (req.keyUsage !== undefined && req.keyUsage !== 'keyAgreement' && req.keyUsage !== 'signature') {
      throw new CaError('BAD_REQUEST', 'keyUsage must be keyAgreement or signature');
    }
    if (!('point' in req.publicKey)) throw new CaError('BAD_PUBLIC_KEY', 'an SCP11 CA certifies an EC point');
    const curve = curveOf(ca.algorithm);
    if (!isValidPublicKey(curve, req.publicKey.point)) throw new CaError('BAD_PUBLIC_KEY', `public key is not an uncompressed point of ${curve}`);
    const subjectId = req.subjectId ?? defaultSubjectId();
    if (subjectId.length < 1 || subjectId.length > 127) throw new CaError('BAD_REQUEST', 'subjectId of an SCP11 certificate must be 1..127 bytes');
    return { ca, days, subjectId, keyUsage: req.keyUsage ?? 'keyAgreement', scheme: null, publicKey: { point: req.publicKey.point }, rsaKey: undefined };
  }
  if (req.keyUsage !== undefined) throw new CaError('BAD_REQUEST', 'keyUsage applies to SCP11 CAs only (the SCP10 format has none)');
  if (req.scheme !== undefined && !SCHEMES.includes(req.scheme)) throw new CaError('BAD_REQUEST', `scheme must be one of ${SCHEMES.join(', ')}`);
  if (!('modulus' in req.publicKey)) throw new CaError('BAD_PUBLIC_KEY', 'an SCP10 CA certifies an RSA modulus and exponent');
  const { modulus, exponent } = req.publicKey;
  if (!(modulus instanceof Uint8Array) || !(exponent instanceof Uint8Array)) throw new CaError('BAD_PUBLIC_KEY', 'modulus and exponent must be bytes');
  if (modulus.length < 128 || modulus.length > 512 || modulus[0] === 0) throw new CaError('BAD_PUBLIC_KEY', 'modulus must be 128..512 bytes without a leading zero');
  if (exponent.length < 1 || exponent.length > 4 || exponent[0] === 0 || (exponent[exponent.length - 1]! & 1) === 0 || (exponent.length === 1 && exponent[0]! < 3)) {
    throw new CaError('BAD_PUBLIC_KEY', 'exponent must be an odd integer ≥ 3 of 1..4 bytes');
  }
  if ((modulus[modulus.length - 1]! & 1) === 0) throw new CaError('BAD_PUBLIC_KEY', 'modulus must be odd');
  let rsaKey: KeyObject;
  try {
    rsaKey = rsaPublicKey(modulus, exponent);
  } catch (e) {
    throw new CaError('BAD_PUBLIC_KEY', 'not an RSA public key', { cause: e });
  }
  const subjectId = req.subjectId ?? defaultSubjectId();
  if (subjectId.length !== 8) throw new CaError('BAD_REQUEST', 'subjectId of an SCP10 certificate must be 8 bytes');
  return { ca, days, subjectId, keyUsage: null, scheme: req.scheme ?? 'pkcs1', publicKey: { modulus, exponent }, rsaKey };
}

/** The first 8 bytes of SHA-256 of `bytes` (8-byte SCP10 ids derived from longer data). */
export function sha256Prefix8(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest()).subarray(0, 8);
}

/** Canonical bytes of a public key: the point, or modulus ‖ exponent. */
export function publicKeyBytesOf(key: SdPublicKey): Uint8Array {
  return 'point' in key ? key.point : concat(key.modulus, key.exponent);
}

/** Why one attempt did not record (internal: a serial collision is retried with a new serial). */
class SerialTaken extends Error {}

/**
 * Sign `checked` with its CA and record it: `ca_serials` row, then `write(tx, signed)` (the kind's row and its
 * audit record) in the same transaction. Resolves with what `write` returns.
 */
export async function certify<T>(
  deps: CaDeps,
  checked: CheckedCertification,
  kind: CertificateKind,
  write: (tx: Database, signed: SignedCertificate) => Promise<T>,
): Promise<T> {
  const now = nowOf(deps);
  const notAfter = new Date(now.getTime() + checked.days * DAY_MS);
  const publicKeyBytes = publicKeyBytesOf(checked.publicKey);
  for (let attempt = 1; ; attempt++) {
    const serialBytes = (deps.random ?? systemRandom)(8);
    serialBytes[0]! &= 0x7f;
    if (serialBytes[0] === 0) serialBytes[0] = 0x01;
    const certificate = await sign(deps, checked, serialBytes, now, notAfter);
    const signed: SignedCertificate = {
      serial: toHex(serialBytes),
      certificate,
      certificateSha256: sha256Hex(certificate),
      subjectId: toHex(checked.subjectId),
      publicKeyBytes,
      publicKeyFingerprint: publicKeyFingerprint(checked.publicKey),
      notBefore: now.toISOString(),
      notAfter: notAfter.toISOString(),
      issuedAt: now.toISOString(),
    };
    try {
      return await deps.db.transaction(async (tx) => {
        const taken = await tx.query<{ serial: string; certificate_sha256: string }>(
          'SELECT serial, certificate_sha256 FROM ca_serials WHERE serial = $1 OR certificate_sha256 = $2',
          [signed.serial, signed.certificateSha256],
        );
        const same = taken.find((r) => r.certificate_sha256 === signed.certificateSha256);
        if (same !== undefined) throw new CaError('DUPLICATE_CERTIFICATE', `these certificate bytes were issued before (serial ${same.serial}); give another subjectId or key`);
        if (taken.length > 0) throw new SerialTaken();
        await tx.execute('INSERT INTO ca_serials (serial, kind, ca_id, certificate_sha256, issued_at) VALUES ($1, $2, $3, $4, $5)', [
          signed.serial,
          kind,
          checked.ca.caId,
          signed.certificateSha256,
          signed.issuedAt,
        ]);
        return write(tx, signed);
      });
    } catch (e) {
      // A serial drawn twice (or by a concurrent issuance: unique violation) is drawn again.
      const retry = e instanceof SerialTaken || (e instanceof StorageError && e.code === 'UNIQUE_VIOLATION');
      if (!retry) throw e;
      if (attempt >= SERIAL_ATTEMPTS) throw new Error(`no free certificate serial after ${SERIAL_ATTEMPTS} attempts`, { cause: e });
    }
  }
}

async function sign(deps: CaDeps, checked: CheckedCertification, serialBytes: Uint8Array, now: Date, notAfter: Date): Promise<Uint8Array> {
  const { ca } = checked;
  return withPrivateKey(deps.sealer, ca.caId, ca.privateKeySealed, (privateKey) => {
    if (ca.kind === 'scp11') {
      const curve = curveOf(ca.algorithm);
      const point = (checked.publicKey as { point: Uint8Array }).point;
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
        { issuerId: caIdBytes(ca.caId), subjectId: checked.subjectId, subjectKey: checked.rsaKey!, scheme: checked.scheme! },
        rsaPrivateKeyObject(privateKey),
      );
    } catch (e) {
      if (e instanceof RangeError) throw new CaError('BAD_REQUEST', `scheme ${checked.scheme}: ${e.message}`, { cause: e });
      throw e;
    }
  });
}
