/**
 * SCP11 — GlobalPlatform Card Specification v2.3 Amendment F v1.4: SCP11a, SCP11b, SCP11c with GP
 * certificates ('7F21'), ECKA on P-256 / P-384 / P-521 / brainpoolP256r1 / brainpoolP384r1, X9.63 KDF, receipts,
 * then SCP03 secure messaging. Host side (`buildPerformSecurityOperations`, `beginScp11`, `completeScp11`,
 * `scp11cScriptChannel`) and card side (`Scp11Card`).
 */
export { deriveScp11Keys, sharedInfo, lv, type Scp11DerivedKeys } from './kdf.ts';
export {
  TAG_CERTIFICATE,
  KEY_USAGE_SIGNATURE,
  KEY_USAGE_KEY_AGREEMENT,
  CertificateError,
  type CertificateErrorCode,
  type GpCertificateFields,
  type GpCertificate,
  type ChainCheckOptions,
  bcdDate,
  dateOf,
  today,
  encodeSignedData,
  signCertificate,
  parseCertificate,
  parseCertificates,
  verifyCertificateSignature,
  verifyChain,
  namesChain,
  checkDates,
} from './certificate.ts';
export { parseX509Certificate, x509SignatureToPlain, type X509Certificate } from './x509.ts';
export {
  type Scp11Variant,
  type KeyAgreementCrt,
  type ParsedAuthenticateData,
  INS_PERFORM_SECURITY_OPERATION,
  INS_MUTUAL_AUTHENTICATE,
  INS_INTERNAL_AUTHENTICATE,
  Scp11Kid,
  Scp11I,
  KeyUsageQualifier,
  AUTHENTICATED,
  ANY_AUTHENTICATED,
  SCP11_ID,
  KEY_TYPE_AES,
  sdKeyKid,
  levelOfKeyUsage,
  scpParameters,
  variantOfParameters,
  encodeCrt,
  parseAuthenticateData,
  encodeAuthenticateResponse,
  parseAuthenticateResponse,
  computeReceipt,
} from './protocol.ts';
export {
  buildPerformSecurityOperations,
  beginScp11,
  completeScp11,
  scp11cScriptChannel,
  Scp11HostSession,
  type Scp11HostOptions,
} from './handshake.ts';
export {
  Scp11Card,
  SW_SCP11,
  type Scp11CardConfig,
  type Scp11SdKey,
  type Scp11TrustAnchor,
  type Scp11AuthenticateResult,
} from './card.ts';
