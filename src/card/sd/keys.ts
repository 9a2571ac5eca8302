/**
 * Key information of a Security Domain (GPCS 2.3.1 §11.3.3.1.1 Key Information Template 'E0', Tables 11-28
 * and 11-29; §7.5 Security Domain keys): basic format, or extended when a key usage or access was loaded.
 */
import { encodeKeyInformationTemplate, type KeyInfo } from '../../gp/index.ts';
import type { SdRecord } from '../state.ts';

/** Key Information Template of the SD, keys ordered by KVN then KID. */
export function keyInformationTemplate(sd: SdRecord): Uint8Array {
  const keys: KeyInfo[] = [...sd.keys]
    .sort((a, b) => a.kvn - b.kvn || a.kid - b.kid)
    .map((k) => ({
      keyId: k.kid,
      kvn: k.kvn,
      // ECC keys: the key type and size and the curve reference — lengths only, never a value (Table 11-28).
      components:
        k.param !== undefined ? [{ type: k.type, length: k.value.length / 2 }, { type: 0xf0, length: 1 }] : [{ type: k.type, length: k.value.length / 2 }],
      ...(k.usage !== undefined || k.access !== undefined ? { extended: true } : {}),
      ...(k.usage !== undefined ? { usage: k.usage } : {}),
      ...(k.access !== undefined ? { access: k.access } : {}),
    }));
  return encodeKeyInformationTemplate(keys);
}
