/**
 * What the provider's asymmetric SSD flow needs from other platforms (HTTP clients in the service, direct
 * calls in tests): the provider's certificate authorities and the issuer.
 */
import type { PrivilegeName } from '../../../gp/privileges.ts';
import type { CardRoute } from '../../common/deps.ts';
import type { AsymmetricSdInfo, AsymmetricVariant, TrustPointKey } from '../../sd-keys/asymmetric.ts';

export type CaKindOf = 'scp11' | 'scp10';

export type PublicKeyBytes = { readonly point: Uint8Array } | { readonly modulus: Uint8Array; readonly exponent: Uint8Array };

export interface IssuedCertificateRef {
  readonly serial: string;
  /** The '7F21' certificate. */
  readonly certificate: Uint8Array;
  readonly subjectId: Uint8Array;
}

export interface CaPort {
  /** The CA's public key — the trust point the provider's SSDs hold. */
  trustPoint(caId: string): Promise<TrustPointKey>;
  /** Certify a public key generated on a card (CERT.SD.ECKA / CERT.SD.AUT). */
  issueSdCertificate(caId: string, req: { cardId: string; sdAid: string; publicKey: PublicKeyBytes }, idempotencyKey: string): Promise<IssuedCertificateRef>;
  /** Certify the provider's off-card entity key (CERT.OCE.ECKA / CERT.OCE.AUT). */
  issueOceCertificate(caId: string, req: { publicKey: PublicKeyBytes }, idempotencyKey: string): Promise<IssuedCertificateRef>;
}

/** The provider's CA per protocol family (created by the operator at the CA service). */
export type ProviderCas = Partial<Record<CaKindOf, string>>;

export interface AsymmetricIssuerPort {
  requestAsymmetricSsd(req: {
    cardId: string;
    aid: string;
    privileges: readonly PrivilegeName[];
    route: CardRoute;
    variant: AsymmetricVariant;
    trustPoint: TrustPointKey;
    modulusBits?: 1024 | 2048;
  }): Promise<AsymmetricSdInfo>;
  /** The same client with idempotency keys scoped to one flow (so an abandoned flow's refusal is not replayed). */
  withScope?(scope: string): AsymmetricIssuerPort;
}

export function caKindOf(variant: AsymmetricVariant): CaKindOf {
  return variant === '10' ? 'scp10' : 'scp11';
}
