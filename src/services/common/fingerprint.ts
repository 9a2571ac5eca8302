/**
 * The fingerprint of an SD or OCE public key, as the CA records it in its certificate views and the issuer and
 * the provider compare it (docs/architecture.md §4 flow 4): SHA-256 (upper-case hex) of the key's canonical bytes,
 * the EC point, or modulus ‖ exponent.
 */
import { createHash } from 'node:crypto';
import { concat, toHex } from '../../core/bytes.ts';

export function publicKeyFingerprint(key: { readonly point: Uint8Array } | { readonly modulus: Uint8Array; readonly exponent: Uint8Array }): string {
  const bytes = 'point' in key ? key.point : concat(key.modulus, key.exponent);
  return toHex(new Uint8Array(createHash('sha256').update(bytes).digest()));
}
