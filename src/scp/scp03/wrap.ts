/**
 * SCP03 secure messaging (Amendment D v1.2 §6.2.3–§6.2.8), host and card alike.
 *
 *  - C-MAC (§6.2.4): CMAC(S-MAC, MAC chaining value ‖ CLA' INS P1 P2 Lc' ‖ data), CLA' = channel zero with
 *    b3 set, Lc' including the MAC; the full 16-byte CMAC becomes the new MAC chaining value; the C-MAC is
 *    its first 8 (S8) or 16 (S16) bytes. EXTERNAL AUTHENTICATE starts from 16 bytes '00' (§6.2.3).
 *  - C-DECRYPTION (§6.2.6): an encryption counter, 1 for the first command after EXTERNAL AUTHENTICATE and
 *    incremented for every command (also those without data); ICV = AES(S-ENC, counter as a 16-byte block);
 *    data padded ('80' 00…) and AES-CBC encrypted before the C-MAC is computed; no data, no encryption.
 *  - R-MAC (§6.2.5): CMAC(S-RMAC, MAC chaining value ‖ response data ‖ SW); the chaining value is not
 *    changed by responses. No R-MAC and no protection at all on an error status (anything but 9000,
 *    62xx, 63xx): only the SW is returned.
 *  - R-ENCRYPTION (§6.2.7): ICV = AES(S-ENC, counter block with its first byte set to '80'); no data, no
 *    encryption; encrypted before the R-MAC.
 *  - Sensitive data (§6.2.8): static Key-DEK, AES-CBC with a zero ICV.
 *
 * `Scp03SecureMessaging` holds the one mutable state of a session (MAC chaining value, encryption
 * counter, last response ICV); it stays inside the host/card channel objects.
 */
import { equalConstantTime } from '../../core/bytes.ts';
import { decodeCommand, type CommandApdu } from '../../apdu/command.ts';
import { aesCbcDecrypt, aesCbcEncrypt, aesEcbEncrypt } from '../../crypto/aes.ts';
import { padIso9797M2, unpadIso9797M2 } from '../../crypto/padding.ts';
import { SecureChannelError, SW } from '../errors.ts';
import { C_DECRYPTION, C_MAC, R_ENCRYPTION, R_MAC } from '../level.ts';
import {
  encodeProtected,
  hasSecureMessaging,
  decodeProtectedCommand,
  isExtended,
  joinResponse,
  lcBytes,
  macCla,
  splitResponse,
  swOnly,
  withSecureMessaging,
  withoutSecureMessaging,
} from '../messaging.ts';
import { SessionCmac } from './cmac.ts';
import type { Scp03SessionKeys } from './kdf.ts';

const ZERO16 = new Uint8Array(16);

/** §6.2.5: 9000 and warnings (62xx, 63xx) are not errors; every other status word is. */
export function isScp03ErrorStatus(sw: number): boolean {
  return !(sw === 0x9000 || sw >> 8 === 0x62 || sw >> 8 === 0x63);
}

/** The 16-byte encryption counter block (§6.2.6). */
function counterBlock(counter: number, out: Uint8Array, offset: number): void {
  let n = counter;
  for (let i = offset + 15; i >= offset && n > 0; i--) {
    out[i] = n % 256;
    n = Math.floor(n / 256);
  }
}

export interface Scp03MessagingParams {
  readonly sessionKeys: Scp03SessionKeys;
  /** Static Key-DEK (sensitive data encryption, §6.2.8). */
  readonly dek: Uint8Array;
  readonly s16: boolean;
  readonly level: number;
  /**
   * MAC chaining value of the first command; 16 bytes '00' when absent (SCP03). SCP11 (Amendment F §5.3.2)
   * starts from the receipt of MUTUAL / INTERNAL AUTHENTICATE.
   */
  readonly initialChaining?: Uint8Array;
}

export class Scp03SecureMessaging {
  readonly level: number;
  readonly macLength: 8 | 16;
  readonly #sEnc: Uint8Array;
  readonly #dek: Uint8Array;
  readonly #cmac: SessionCmac;
  readonly #rmac: SessionCmac;
  #chaining: Uint8Array = ZERO16;
  #counter = 0;
  /** ICV for the response to the current command (R-ENCRYPTION), computed with the command's counter. */
  #responseIcv: Uint8Array | undefined;
  /**
   * Host: what each wrapped command's response is checked with (its MAC chaining value and R-ENC ICV), in
   * order — so that several commands can be wrapped before their responses come back (one OTA script).
   */
  readonly #awaiting: { readonly chaining: Uint8Array; readonly responseIcv: Uint8Array | undefined }[] = [];

  constructor(p: Scp03MessagingParams) {
    this.level = p.level;
    this.macLength = p.s16 ? 16 : 8;
    this.#sEnc = p.sessionKeys.sEnc.slice();
    this.#dek = p.dek.slice();
    this.#cmac = new SessionCmac(p.sessionKeys.sMac);
    this.#rmac = new SessionCmac(p.sessionKeys.sRmac);
    if (p.initialChaining !== undefined) {
      if (p.initialChaining.length !== 16) throw new RangeError('initialChaining: expected 16 bytes');
      this.#chaining = p.initialChaining.slice();
    }
  }

  // ---- EXTERNAL AUTHENTICATE (§6.2.3) ----

  /** Host: build EXTERNAL AUTHENTICATE (CLA with SM, P1 = level), MACed from a zero chaining value. */
  externalAuthenticate(cla: number, hostCryptogram: Uint8Array): Uint8Array {
    const cmd: CommandApdu = { cla: withSecureMessaging(cla), ins: 0x82, p1: this.level, p2: 0x00, data: hostCryptogram };
    this.#chaining = ZERO16;
    return this.#macAndEncode(cmd, hostCryptogram);
  }

  /** Card: verify the C-MAC of EXTERNAL AUTHENTICATE; on success it becomes the MAC chaining value. */
  verifyExternalAuthenticate(cmd: CommandApdu): boolean {
    const m = this.macLength;
    const body = cmd.data.subarray(0, cmd.data.length - m);
    const full = this.#cmac.mac(
      ZERO16,
      Uint8Array.of(macCla(cmd.cla), cmd.ins, cmd.p1, cmd.p2),
      lcBytes(cmd.data.length, isExtended(cmd, cmd.data.length)),
      body,
    );
    if (!equalConstantTime(full.subarray(0, m), cmd.data.subarray(cmd.data.length - m))) return false;
    this.#chaining = full;
    return true;
  }

  // ---- host side ----

  /** Host: protect a plain command (C-DECRYPTION then C-MAC, per level). */
  wrapCommand(plainApdu: Uint8Array): Uint8Array {
    const cmd = decodeCommand(plainApdu);
    if (this.level & C_MAC) checkFits(cmd, this.level, this.macLength);
    this.#counter++;
    if (!(this.level & C_MAC)) {
      this.#awaiting.push({ chaining: this.#chaining, responseIcv: undefined });
      return plainApdu.slice();
    }
    let data = cmd.data;
    if (this.level & C_DECRYPTION) {
      const icv = this.#icvs();
      if (data.length > 0) data = aesCbcEncrypt(this.#sEnc, padIso9797M2(data, 16), icv);
    } else {
      this.#responseIcv = undefined;
    }
    const out = this.#macAndEncode({ ...cmd, cla: withSecureMessaging(cmd.cla) }, data);
    this.#awaiting.push({ chaining: this.#chaining, responseIcv: this.#responseIcv });
    return out;
  }

  /** Host: check and strip the response protection of the oldest wrapped command not yet answered. */
  unwrapResponse(rapdu: Uint8Array): Uint8Array {
    const ctx = this.#awaiting.shift() ?? { chaining: this.#chaining, responseIcv: this.#responseIcv };
    if (!(this.level & R_MAC)) return rapdu.slice();
    const { data, sw } = splitResponse(rapdu);
    if (isScp03ErrorStatus(sw)) {
      if (data.length !== 0) throw new SecureChannelError('BAD_RESPONSE', 'error status word with a data field in an R-MAC session', sw);
      return swOnly(sw);
    }
    const m = this.macLength;
    if (data.length < m) throw new SecureChannelError('BAD_RMAC', 'response too short for its R-MAC', sw);
    const body = data.subarray(0, data.length - m);
    const full = this.#rmac.mac(ctx.chaining, body, swOnly(sw));
    if (!equalConstantTime(full.subarray(0, m), data.subarray(data.length - m))) {
      throw new SecureChannelError('BAD_RMAC', 'R-MAC does not verify', sw);
    }
    if (!(this.level & R_ENCRYPTION) || body.length === 0) return joinResponse(body, sw);
    if (body.length % 16 !== 0 || ctx.responseIcv === undefined) {
      throw new SecureChannelError('BAD_PADDING', 'encrypted response data is not a whole number of blocks', sw);
    }
    return joinResponse(this.#decryptPadded(body, ctx.responseIcv, sw), sw);
  }

  // ---- card side ----

  /** Card: verify and strip the protection of a command. Throws SecureChannelError with SW 6982 / 6700. */
  unwrapCommand(protectedApdu: Uint8Array): Uint8Array {
    const cmd = decodeProtectedCommand(protectedApdu);
    if (!(this.level & C_MAC)) {
      this.#counter++;
      return protectedApdu.slice();
    }
    if (!hasSecureMessaging(cmd.cla)) {
      throw new SecureChannelError('SECURITY_NOT_SATISFIED', 'command without secure messaging at a C-MAC level', SW.SECURITY_NOT_SATISFIED);
    }
    const m = this.macLength;
    if (cmd.data.length < m) throw new SecureChannelError('BAD_MAC', 'command data shorter than the C-MAC', SW.SECURITY_NOT_SATISFIED);
    const body = cmd.data.subarray(0, cmd.data.length - m);
    const full = this.#cmac.mac(
      this.#chaining,
      Uint8Array.of(macCla(cmd.cla), cmd.ins, cmd.p1, cmd.p2),
      lcBytes(cmd.data.length, isExtended(cmd, cmd.data.length)),
      body,
    );
    if (!equalConstantTime(full.subarray(0, m), cmd.data.subarray(cmd.data.length - m))) {
      throw new SecureChannelError('BAD_MAC', 'C-MAC does not verify', SW.SECURITY_NOT_SATISFIED);
    }
    this.#chaining = full;
    this.#counter++;
    let data: Uint8Array = body;
    if (this.level & C_DECRYPTION) {
      const icv = this.#icvs();
      if (body.length > 0) {
        if (body.length % 16 !== 0) {
          throw new SecureChannelError('BAD_PADDING', 'encrypted command data is not a whole number of blocks', SW.SECURITY_NOT_SATISFIED);
        }
        data = this.#decryptPadded(body, icv, SW.SECURITY_NOT_SATISFIED);
      }
    } else {
      this.#responseIcv = undefined;
    }
    return encodeProtected(
      { ...cmd, extended: isExtended(cmd, cmd.data.length) },
      withoutSecureMessaging(cmd.cla),
      data,
    );
  }

  /** Card: protect the response to the last unwrapped command. */
  wrapResponse(plainRapdu: Uint8Array): Uint8Array {
    if (!(this.level & R_MAC)) return plainRapdu.slice();
    const { data, sw } = splitResponse(plainRapdu);
    if (isScp03ErrorStatus(sw)) return swOnly(sw);
    let body: Uint8Array = data;
    if (this.level & R_ENCRYPTION && data.length > 0) {
      if (this.#responseIcv === undefined) throw new RangeError('wrapResponse: no command was unwrapped in this session');
      body = aesCbcEncrypt(this.#sEnc, padIso9797M2(data, 16), this.#responseIcv);
    }
    const status = swOnly(sw);
    const full = this.#rmac.mac(this.#chaining, body, status);
    return joinResponse(body, sw, full.subarray(0, this.macLength));
  }

  // ---- sensitive data (§6.2.8) ----

  /** AES-CBC, zero ICV, Key-DEK. 24-byte AES keys get 8 '00' bytes appended (§6.2.8: 8 arbitrary bytes). */
  encryptSensitive(data: Uint8Array): Uint8Array {
    const input = data.length === 24 ? padTo32(data) : data;
    if (input.length === 0 || input.length % 16 !== 0) {
      throw new RangeError(`sensitive data must be a multiple of 16 bytes (or a 24-byte key), got ${data.length}`);
    }
    return aesCbcEncrypt(this.#dek, input);
  }

  decryptSensitive(encrypted: Uint8Array): Uint8Array {
    if (encrypted.length === 0 || encrypted.length % 16 !== 0) {
      throw new SecureChannelError('BAD_COMMAND', `encrypted data must be a multiple of 16 bytes, got ${encrypted.length}`, SW.WRONG_LENGTH);
    }
    return aesCbcDecrypt(this.#dek, encrypted);
  }

  wipe(): void {
    this.#sEnc.fill(0);
    this.#dek.fill(0);
    this.#cmac.wipe();
    this.#rmac.wipe();
  }

  // ---- internals ----

  /** Command ICV for the current counter; also prepares the response ICV when R-ENCRYPTION is on (one AES call). */
  #icvs(): Uint8Array {
    const withResponse = (this.level & R_ENCRYPTION) !== 0;
    const blocks = new Uint8Array(withResponse ? 32 : 16);
    counterBlock(this.#counter, blocks, 0);
    if (withResponse) {
      counterBlock(this.#counter, blocks, 16);
      blocks[16] = 0x80;
    }
    const out = aesEcbEncrypt(this.#sEnc, blocks);
    this.#responseIcv = withResponse ? out.subarray(16, 32) : undefined;
    return out.subarray(0, 16);
  }

  #decryptPadded(body: Uint8Array, icv: Uint8Array, sw: number): Uint8Array {
    const plain = aesCbcDecrypt(this.#sEnc, body, icv);
    try {
      return unpadIso9797M2(plain);
    } catch (e) {
      throw new SecureChannelError('BAD_PADDING', 'decrypted data is not padded with 80 00…', sw, { cause: e });
    }
  }

  /** C-MAC `data` under the header of `cmd` (whose CLA already carries SM), append the MAC, encode. */
  #macAndEncode(cmd: CommandApdu, data: Uint8Array): Uint8Array {
    const m = this.macLength;
    const nc = data.length + m;
    const extended = isExtended(cmd, cmd.data.length);
    const full = this.#cmac.mac(this.#chaining, Uint8Array.of(macCla(cmd.cla), cmd.ins, cmd.p1, cmd.p2), lcBytes(nc, extended), data);
    this.#chaining = full;
    const out = new Uint8Array(nc);
    out.set(data);
    out.set(full.subarray(0, m), data.length);
    return encodeProtected(cmd, cmd.cla, out);
  }
}

/** A short plain command must stay short once protected (caller's mistake otherwise: RangeError, no state change). */
function checkFits(cmd: CommandApdu, level: number, macLength: number): void {
  if (isExtended(cmd, cmd.data.length)) return;
  const n = cmd.data.length;
  const encrypted = level & C_DECRYPTION && n > 0 ? (Math.floor(n / 16) + 1) * 16 : n;
  if (encrypted + macLength > 255) {
    throw new RangeError(
      `command data of ${n} bytes does not fit a short APDU once protected at level ${level.toString(16).padStart(2, '0')}; use extended length`,
    );
  }
}

function padTo32(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(data);
  return out;
}
