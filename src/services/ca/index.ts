/** Public API of the CA service (certificate authorities of the issuer and the providers). */
export { buildCaApp, CA_VERSION, type CaAppOptions } from './app.ts';
export { createCa, getCa, listCas, CA_ID_PATTERN, OWNER_PATTERN, type CaDeps, type CaInfo } from './authority.ts';
export { caClient, httpTrustSource, type CaClient, type CaView, type CertificateView, type OceCertificateClientRequest, type SdCertificateClientRequest } from './client.ts';
export { DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS, type CertificateKind } from './certify.ts';
export { findCertificateByFingerprint, type CaCertificate } from './certificates.ts';
export { CaError, type CaErrorCode } from './errors.ts';
export { issueSdCertificate, defaultSubjectId, type IssuedCertificate, type SdCertificateRequest, type SdKeyUsage, type SdPublicKey } from './issue.ts';
export { ALGORITHMS, DEFAULT_ALGORITHM, publicKeyFingerprint, type CaAlgorithm, type CaKind } from './keys.ts';
export { issueOceCertificate, defaultOceSubjectId, type IssuedOceCertificate, type OceCertificateRequest } from './oce.ts';
export { getCertificate, isRevoked, revocationList, revoke, REVOCATION_REASONS, type RevocationEntry, type RevocationReason } from './revocation.ts';
export { caRoutes, OPERATOR } from './routes.ts';
export { CA_MIGRATIONS } from './schema.ts';
export { startCa, type CaService, type CaServiceOptions } from './service.ts';
export { localTrustSource, TrustChecker, type TrustAnchor, type TrustedCardCertificate, type TrustSource } from './trust.ts';
