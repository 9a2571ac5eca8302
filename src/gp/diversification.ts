/**
 * Static key diversification from the Key Diversification Data (the first 10 bytes of the INITIALIZE UPDATE
 * response, GP Card Specification 2.3.1 §E.5.1.6 / Amendment D §7.1.1.6):
 *
 * - `emv`: EMV CPS v1.1 §… ("EMV-CPS"): for key n (ENC=1, MAC=2, DEK=3)
 *   K_n = 3DES-ECB(master, KDD[4..9] ‖ 'F0' ‖ n ‖ KDD[4..9] ‖ '0F' ‖ n)
 * - `visa2`: the VISA2 method: K_n = 3DES-ECB(master, KDD[0..1] ‖ KDD[4..7] ‖ 'F0' ‖ n ‖ KDD[0..1] ‖ KDD[4..7] ‖ '0F' ‖ n)
 * - `kdf3`: NIST SP 800-108 counter mode with AES-CMAC keyed with the AES master key (as GlobalPlatformPro's
 *   "KDF3"): block i = CMAC(master, i ‖ '00 00 00' ‖ n ‖ '00' ‖ KDD), n = 1/2/3 for ENC/MAC/DEK, output as
 *   long as the master key. Unlike the SCP03 session-key KDF it has no 11-byte label and no L field.
 *
 * Each is checked against published KCVs of master 40..4F and KDD 00..09.
 */
import { assertBytes, concat } from '../core/bytes.ts';
import { desEcbEncrypt, sp800108CounterCmac } from '../crypto/index.ts';

export type DiversificationMethod = 'emv' | 'visa2' | 'kdf3';

/** The three static keys of a key set. */
export interface DiversifiedKeys {
  readonly enc: Uint8Array;
  readonly mac: Uint8Array;
  readonly dek: Uint8Array;
}

const ENC = 1;
const MAC = 2;
const DEK = 3;

function desDiversify(master: Uint8Array, part: Uint8Array): DiversifiedKeys {
  const one = (n: number) => desEcbEncrypt(master, concat(part, Uint8Array.of(0xf0, n), part, Uint8Array.of(0x0f, n)));
  return Object.freeze({ enc: one(ENC), mac: one(MAC), dek: one(DEK) });
}

/** EMV CPS v1.1 diversification of a 16-byte 3DES master key (SCP02 cards). */
export function diversifyEmv(master: Uint8Array, kdd: Uint8Array): DiversifiedKeys {
  assertBytes(master, 16, 'master');
  assertBytes(kdd, 10, 'kdd');
  return desDiversify(master, kdd.subarray(4, 10));
}

/** VISA2 diversification of a 16-byte 3DES master key. */
export function diversifyVisa2(master: Uint8Array, kdd: Uint8Array): DiversifiedKeys {
  assertBytes(master, 16, 'master');
  assertBytes(kdd, 10, 'kdd');
  return desDiversify(master, concat(kdd.subarray(0, 2), kdd.subarray(4, 8)));
}

/** SCP03 KDF diversification ("KDF3") of an AES master key with the KDD as context. */
export function diversifyKdf3(master: Uint8Array, kdd: Uint8Array): DiversifiedKeys {
  assertBytes(master, [16, 24, 32], 'master');
  assertBytes(kdd, { min: 1, max: 255 }, 'kdd');
  const one = (n: number) =>
    sp800108CounterCmac(master, {
      // counter first, then '00 00 00' n '00' and the KDD as context; no label, no L field.
      before: new Uint8Array(0),
      after: concat(Uint8Array.of(0x00, 0x00, 0x00, n, 0x00), kdd),
      length: master.length,
    });
  return Object.freeze({ enc: one(ENC), mac: one(MAC), dek: one(DEK) });
}

/** Diversify with the named method. */
export function diversify(method: DiversificationMethod, master: Uint8Array, kdd: Uint8Array): DiversifiedKeys {
  switch (method) {
    case 'emv':
      return diversifyEmv(master, kdd);
    case 'visa2':
      return diversifyVisa2(master, kdd);
    case 'kdf3':
      return diversifyKdf3(master, kdd);
    default:
      throw new RangeError(`unknown diversification method ${String(method)}`);
  }
}
