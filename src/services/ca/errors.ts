/** Typed errors of the CA service's logic (sans HTTP); routes map them to problem+json (routes.ts). */
import { OpentsmError } from '../../core/errors.ts';

export type CaErrorCode =
  /** No CA with this id. */
  | 'UNKNOWN_CA'
  /** No certificate with this serial (or these bytes) was issued here. */
  | 'UNKNOWN_CERTIFICATE'
  /** The caller is not the CA's owner (nor the operator where the operator may act). */
  | 'NOT_OWNER'
  /** The public key to certify is not a key of the CA's kind/curve. */
  | 'BAD_PUBLIC_KEY'
  /** A request field that does not apply to this CA's kind, or a bad value. */
  | 'BAD_REQUEST'
  /** The owner already has a CA of this kind (one CA per owner and protocol family). */
  | 'ALREADY_EXISTS'
  /** The certificate is already revoked. */
  | 'ALREADY_REVOKED'
  /** These exact certificate bytes were issued before (SCP10 certificates carry no serial: same key, same subject). */
  | 'DUPLICATE_CERTIFICATE'
  /** Trust check: malformed certificate, bad signature, wrong CA, expired. */
  | 'UNTRUSTED'
  /** Trust check: the certificate was revoked. */
  | 'REVOKED';

export class CaError extends OpentsmError {
  declare readonly code: CaErrorCode;
  constructor(code: CaErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
