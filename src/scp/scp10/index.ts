/**
 * SCP10 — GlobalPlatform Card Specification 2.2.1 Appendix F, options "i" = '01' (ISO 9796-2 signature with
 * message recovery + key agreement) and '02' (PKCS#1 signature without recovery + key transport), RSA-1024 or
 * RSA-2048. Host: sans-IO builders in handshake.ts. Card: `Scp10CardHandshake`. Secure messaging: wrap.ts.
 */
export {
  OPTION_KEY_AGREEMENT,
  OPTION_KEY_TRANSPORT,
  buildManageSecurityEnvironment,
  buildVerifyCertificate,
  buildGetCardCertificate,
  buildGetChallenge,
  verifyCardCertificate,
  beginInitiation,
  buildExternalAuthenticate,
  buildInternalAuthenticate,
  createKeyTransportChannel,
  createKeyAgreementChannel,
  type MseOptions,
  type Scp10HostParams,
  type Scp10HostInitiation,
} from './handshake.ts';
export { Scp10CardHandshake, SW_VERIFICATION_FAILED, SW_INCORRECT_DATA, SW_ALGORITHM_NOT_SUPPORTED, type Scp10CardConfig, type Scp10CardResult } from './card.ts';
export { issueCertificate, verifyCertificate, type CertificateScheme, type TrustedKey, type Scp10Certificate, type CertificateRequest } from './certificate.ts';
export { type Scp10HostChannel, type Scp10CardChannel } from './channel.ts';
export { Scp10SecureMessaging, isNormalStatus, LEVEL_C_MAC, LEVEL_C_ENC, LEVEL_R_MAC, LEVEL_R_ENC } from './wrap.ts';
export { encodeSessionData, parseSessionData, agreedKeys, KeyUsage, CRT_CCT, CRT_CT, type Crt, type SessionData, type SessionKey } from './keys.ts';
