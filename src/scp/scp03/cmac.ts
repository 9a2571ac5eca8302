/**
 * AES-CMAC (NIST SP 800-38B) keyed once per session: the subkeys K1/K2 are computed when the session
 * starts instead of on every C-MAC / R-MAC, and the message is given in parts so that
 * "MAC chaining value ‖ header ‖ data" is MACed without building it first. One CBC call per MAC.
 */
import { aesCbcEncrypt, aesCmacSubkeys } from '../../crypto/aes.ts';

export class SessionCmac {
  readonly #key: Uint8Array;
  readonly #k1: Uint8Array;
  readonly #k2: Uint8Array;

  constructor(key: Uint8Array) {
    this.#key = key.slice();
    const { k1, k2 } = aesCmacSubkeys(this.#key);
    this.#k1 = k1;
    this.#k2 = k2;
  }

  /** Full 16-byte CMAC over the concatenation of `parts`. */
  mac(...parts: readonly Uint8Array[]): Uint8Array {
    let total = 0;
    for (const p of parts) total += p.length;
    const blocks = total === 0 ? 1 : Math.ceil(total / 16);
    const buf = new Uint8Array(blocks * 16);
    let o = 0;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    const complete = total !== 0 && total % 16 === 0;
    if (!complete) buf[total] = 0x80;
    const k = complete ? this.#k1 : this.#k2;
    const last = (blocks - 1) * 16;
    for (let i = 0; i < 16; i++) buf[last + i]! ^= k[i]!;
    const out = aesCbcEncrypt(this.#key, buf);
    buf.fill(0);
    return out.slice(out.length - 16);
  }

  /** Overwrite the key and subkeys. */
  wipe(): void {
    this.#key.fill(0);
    this.#k1.fill(0);
    this.#k2.fill(0);
  }
}
