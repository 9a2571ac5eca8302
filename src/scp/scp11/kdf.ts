/**
 * Key derivation of SCP11 (Amendment F v1.4 §3.1.2, §7.6.2.3 Table 7-16).
 *
 * X9.63 KDF (`x963Kdf` in src/crypto/x963.ts). SCP11 uses SHA-256 (§7.6.2.3) whatever the AES key length.
 * KeyData is assigned in order: receipt key, S-ENC, S-MAC, S-RMAC, S-DEK (each L bytes).
 */
import { concat, zeroize } from '../../core/bytes.ts';
import { x963Kdf } from '../../crypto/x963.ts';

/** Keys derived from ShS (Table 7-16). */
export interface Scp11DerivedKeys {
  readonly receiptKey: Uint8Array;
  readonly sEnc: Uint8Array;
  readonly sMac: Uint8Array;
  readonly sRmac: Uint8Array;
  /** S-DEK, used when the SD has no static Key-DEK for the key version. */
  readonly sDek: Uint8Array;
}

/**
 * SharedInfo (§7.6.2.3): Key Usage Qualifier ‖ Key Type ‖ Key Length ‖ [HostID-LV ‖ SIN-LV ‖ SDIN-LV (SCP11a/b)
 * or HostID-LV ‖ Card Group ID-LV (SCP11c)] — `ids` is the already LV-encoded identifier part, empty when the
 * SCP parameters' b3 is not set.
 */
export function sharedInfo(keyUsage: number, keyType: number, keyLength: number, ids: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat(Uint8Array.of(keyUsage, keyType, keyLength), ids);
}

/** Length-value encoding of an identifier (one length byte). */
export function lv(value: Uint8Array): Uint8Array {
  if (value.length > 0xff) throw new RangeError('identifier longer than 255 bytes');
  return concat(Uint8Array.of(value.length), value);
}

/** Derive the receipt key and session keys of length `keyLength` (16, 24, 32) from ShS. */
export function deriveScp11Keys(shS: Uint8Array, info: Uint8Array, keyLength: number): Scp11DerivedKeys {
  if (keyLength !== 16 && keyLength !== 24 && keyLength !== 32) throw new RangeError(`AES key length ${keyLength}`);
  const data = x963Kdf(shS, info, 5 * keyLength);
  const part = (i: number) => data.slice(i * keyLength, (i + 1) * keyLength);
  const keys = Object.freeze({ receiptKey: part(0), sEnc: part(1), sMac: part(2), sRmac: part(3), sDek: part(4) });
  zeroize(data);
  return keys;
}
