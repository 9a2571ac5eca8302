export { type CertificateAuthority, type CaOptions, CA_KEY_FILE, CA_CERT_FILE, createCa, ensureCa, loadCa } from './ca.ts';
export { type CertificateUsage, type CertificateRequest, type TlsIdentity, issueCertificate, ensureIdentity } from './issue.ts';
export { type ServerTlsOptions, type ClientTlsOptions, mutualTlsOptions, mutualTlsAgent } from './options.ts';
export { type PeerIdentity, peerIdentity } from './peer.ts';
