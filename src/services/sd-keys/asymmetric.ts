/**
 * Asymmetric SSDs (docs/architecture.md §4 flow 4): what the issuer and the provider agree on about an SSD whose
 * keys are generated on the card — the protocol variant, the key references, and the SD information the
 * issuer hands over (public data only). Key references (KVN / KID) used by opentsm:
 *
 *   trust point      PK.CA-KLOC.ECDSA (SCP11) or PK.TP_EX.AUT (SCP10) of the provider's CA   KVN '10' KID '10'
 *   first SD key     SK.SD.ECKA / SK.SD.AUT generated at the issuer's request                   KVN '11' KID '11' ('15' for SCP11c)
 *   provider SD key  generated at the provider's request, certified by the provider's CA        KVN '12' same KID
 *   issuer's set     the SSD's temporary SCP03 key set the issuer uses to set the SD up          KVN '01' (deleted by the provider)
 *
 * The SD's symmetric protocol (for the issuer's set-up session) is SCP03 with i = '70'.
 */
import { fromHex, toHex } from '../../core/bytes.ts';

export type AsymmetricVariant = '11a' | '11c' | '10';
export const ASYMMETRIC_VARIANTS: readonly AsymmetricVariant[] = ['11a', '11c', '10'];

export interface KeyRef {
  readonly kvn: number;
  readonly kid: number;
}

export const TRUST_POINT: KeyRef = Object.freeze({ kvn: 0x10, kid: 0x10 });
export const FIRST_SD_KVN = 0x11;
export const PROVIDER_SD_KVN = 0x12;
/** The temporary SCP03 key set of the issuer's set-up session. */
export const ISSUER_SETUP_KVN = 0x01;
export const SETUP_SCP03_I = 0x70;

/** SCP '81' parameters of the INSTALL: SCP11 i = 11a | 11c ('11'); SCP10 i = '02' (key transport). */
export function installScp(variant: AsymmetricVariant): { id: number; i: number } {
  return variant === '10' ? { id: 0x10, i: 0x02 } : { id: 0x11, i: 0x11 };
}

/** KID of the SD's own key pair. */
export function sdKid(variant: AsymmetricVariant): number {
  return variant === '11c' ? 0x15 : 0x11;
}

/** The trust point key the provider asks the issuer to put into its SSD (public, hex). */
export type TrustPointKey = { readonly curve: 'P-256' | 'P-384'; readonly point: string } | { readonly modulus: string; readonly exponent: string };

/** A public key generated on the card (hex). */
export type SdPublicKeyHex = { readonly point: string } | { readonly modulus: string; readonly exponent: string };

/** SD information the issuer hands over (nothing secret). */
export interface AsymmetricSdInfo {
  readonly cardId: string;
  readonly aid: string;
  readonly variant: AsymmetricVariant;
  readonly sdKey: KeyRef;
  readonly publicKey: SdPublicKeyHex;
  readonly trustPoint: KeyRef;
}

/** Key parameter reference ('F0') of a curve (GPCS 2.3.1 Table 11-16; Amendment F). */
export function curveReference(curve: 'P-256' | 'P-384'): number {
  return curve === 'P-256' ? 0x00 : 0x01;
}

export function isEcTrustPoint(t: TrustPointKey): t is Extract<TrustPointKey, { point: string }> {
  return 'point' in t;
}

export function publicKeyHex(k: { point: Uint8Array } | { modulus: Uint8Array; exponent: Uint8Array }): SdPublicKeyHex {
  return 'point' in k ? { point: toHex(k.point).toUpperCase() } : { modulus: toHex(k.modulus).toUpperCase(), exponent: toHex(k.exponent).toUpperCase() };
}

export function publicKeyBytes(k: SdPublicKeyHex): { point: Uint8Array } | { modulus: Uint8Array; exponent: Uint8Array } {
  return 'point' in k ? { point: fromHex(k.point) } : { modulus: fromHex(k.modulus), exponent: fromHex(k.exponent) };
}

/** Does the variant match the trust point's key type (EC for SCP11, RSA for SCP10)? */
export function variantFits(variant: AsymmetricVariant, t: TrustPointKey): boolean {
  return (variant === '10') !== isEcTrustPoint(t);
}
