/**
 * Key information of a Security Domain (GPCS 2.3.1 §11.3.3.1.1 Key Information Template 'E0', Tables 11-28
 * and 11-29; §7.5 Security Domain keys): basic format, or extended when a key usage or access was loaded.
 */
import { encodeKeyInformationTemplate, type KeyInfo } from '../../gp/index.ts';
import type { KeyRecord, SdRecord } from '../state.ts';
import { modulusBytesOf, RSA_EXPONENT, RSA_PRIVATE, RSA_PRIVATE_EXPONENT, RSA_PUBLIC } from './rsa-keys.ts';

/** Components listed for a key: type and length only, never a value (Table 11-28). */
function components(k: KeyRecord): KeyInfo['components'] {
  // RSA: PK.TP_EX.AUT as 'A1' modulus + 'A0' exponent; SK.SD.AUT as 'A2' modulus + 'A3' private exponent.
  if (k.type === RSA_PUBLIC) return [{ type: RSA_PUBLIC, length: k.value.length / 2 }, { type: RSA_EXPONENT, length: (k.exponent ?? '').length / 2 }];
  if (k.type === RSA_PRIVATE) {
    const n = modulusBytesOf(k);
    return [{ type: RSA_PRIVATE, length: n }, { type: RSA_PRIVATE_EXPONENT, length: n }];
  }
  // ECC keys: the key type and size and the curve reference.
  if (k.param !== undefined) return [{ type: k.type, length: k.value.length / 2 }, { type: 0xf0, length: 1 }];
  return [{ type: k.type, length: k.value.length / 2 }];
}

/** Key Information Template of the SD, keys ordered by KVN then KID. */
export function keyInformationTemplate(sd: SdRecord): Uint8Array {
  const keys: KeyInfo[] = [...sd.keys]
    .sort((a, b) => a.kvn - b.kvn || a.kid - b.kid)
    .map((k) => ({
      keyId: k.kid,
      kvn: k.kvn,
      components: components(k),
      ...(k.usage !== undefined || k.access !== undefined ? { extended: true } : {}),
      ...(k.usage !== undefined ? { usage: k.usage } : {}),
      ...(k.access !== undefined ? { access: k.access } : {}),
    }));
  return encodeKeyInformationTemplate(keys);
}
