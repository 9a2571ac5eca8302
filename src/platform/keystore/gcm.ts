/**
 * AES-256-GCM seal/open on node:crypto for the keystore: 12-byte random nonce, 16-byte tag,
 * output `nonce || ciphertext || tag`. `open` returns nothing on failure and wipes what it decrypted.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export const GCM_NONCE = 12;
export const GCM_TAG = 16;

export function gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError('AES-256-GCM key must be 32 bytes');
  if (nonce.length !== GCM_NONCE) throw new RangeError('GCM nonce must be 12 bytes');
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG });
  c.setAAD(aad);
  const body = c.update(plaintext);
  const last = c.final();
  const out = new Uint8Array(GCM_NONCE + body.length + last.length + GCM_TAG);
  out.set(nonce, 0);
  out.set(body, GCM_NONCE);
  out.set(last, GCM_NONCE + body.length);
  out.set(c.getAuthTag(), GCM_NONCE + body.length + last.length);
  return out;
}

/** The plaintext, or undefined when the tag does not verify (then no byte of plaintext survives). */
export function gcmOpen(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  if (key.length !== 32) throw new RangeError('AES-256-GCM key must be 32 bytes');
  if (sealed.length < GCM_NONCE + GCM_TAG) return undefined;
  const nonce = sealed.subarray(0, GCM_NONCE);
  const body = sealed.subarray(GCM_NONCE, sealed.length - GCM_TAG);
  const tag = sealed.subarray(sealed.length - GCM_TAG);
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG });
  d.setAAD(aad);
  d.setAuthTag(tag);
  const part = d.update(body);
  try {
    const last = d.final();
    const out = new Uint8Array(part.length + last.length);
    out.set(part, 0);
    out.set(last, part.length);
    part.fill(0);
    last.fill(0);
    return out;
  } catch {
    part.fill(0);
    return undefined;
  }
}
