/**
 * SCP02 secure messaging, explicit initiation (GPCS 2.2.1 Appendix E.3–E.4), host and card alike.
 *
 *  - C-MAC (E.4.4, "C-MAC on modified APDU"): retail MAC (B.1.2.2) with the C-MAC session key over
 *    CLA' INS P1 P2 Lc+8 ‖ plain data, padded; CLA' = channel zero with the SM bit. The ICV is zero for
 *    EXTERNAL AUTHENTICATE (E.3.2), then the previous C-MAC, single-DES encrypted with the first half of
 *    the C-MAC session key when "i" b5 says so (E.3.4). A verified C-MAC is kept whatever the outcome.
 *  - C-DECRYPTION (E.4.6): after the C-MAC, the data field (if any) is padded ('80' 00…) and 3DES-CBC
 *    encrypted with S-ENC, zero ICV; Lc = padded length + 8. The card decrypts first, then checks the MAC.
 *  - R-MAC (E.4.5): retail MAC with the R-MAC session key, ICV = previous R-MAC (the first one: the C-MAC of
 *    EXTERNAL AUTHENTICATE, E.3.2), over the stripped command (plain CLA with channel zero, INS P1 P2,
 *    Lc — '00' for cases 1 and 2 — and plain data) ‖ Li ‖ response data ‖ SW; on an error status Li is '00'
 *    and no data. Appended to every response: data ‖ R-MAC ‖ SW.
 *  - Sensitive data (E.4.7): 3DES-ECB with the DEK session key.
 *
 * `Scp02SecureMessaging` holds the one mutable state of a session (C-MAC and R-MAC chaining values,
 * the stripped last command); it stays inside the host/card channel objects.
 */
import { concat, equalConstantTime } from '../../core/bytes.ts';
import { decodeCommand, type CommandApdu } from '../../apdu/command.ts';
import { desCbcDecrypt, desCbcEncrypt, desEcbDecrypt, desEcbEncrypt, retailMac } from '../../crypto/des.ts';
import { padIso9797M2, unpadIso9797M2 } from '../../crypto/padding.ts';
import { SecureChannelError, SW } from '../errors.ts';
import { C_DECRYPTION, C_MAC, R_MAC } from '../level.ts';
import {
  encodeProtected,
  hasSecureMessaging,
  decodeProtectedCommand,
  isExtended,
  joinResponse,
  lcBytes,
  macCla,
  splitResponse,
  strippedCla,
  withSecureMessaging,
  withoutSecureMessaging,
} from '../messaging.ts';
import type { Scp02SessionKeys } from './kdf.ts';

const ZERO8 = new Uint8Array(8);

/**
 * "i" values this implementation runs (Table E-1): explicit initiation with C-MAC on the modified APDU and a
 * zero first ICV (b3 set, b2 b4 clear: '04', '05', '14', '15', '44', '45', '54', '55', …), or implicit
 * initiation with C-MAC on the unmodified APDU and the first ICV a MAC over the AID (b3 clear, b2 b4 set:
 * '0A', '0B', '1A', '1B', …); one base key (b1 clear) or three keys (b1 set) either way.
 */
export function isSupportedI(i: number): boolean {
  return Number.isInteger(i) && i >= 0 && i <= 0x7f && ((i & 0x0e) === 0x04 || (i & 0x0e) === 0x0a);
}

/** "i" b3 clear: implicit initiation (E.1.2.2). */
export function isImplicitI(i: number): boolean {
  return (i & 0x04) === 0;
}

/** E.3.3: the first ICV of an implicit session — single DES plus final triple DES MAC, zero ICV, over the padded AID. */
export function aidIcv(key: Uint8Array, aid: Uint8Array): Uint8Array {
  return retailMac(key, aid, ZERO8); // retailMac applies the B.4 padding
}

/** E.4.5: "successful execution or a warning" — 9000, 61xx (ISO normal processing), 62xx, 63xx. */
export function isScp02NormalStatus(sw: number): boolean {
  const sw1 = sw >> 8;
  return sw === 0x9000 || sw1 === 0x61 || sw1 === 0x62 || sw1 === 0x63;
}

/** The stripped command of E.4.5 (R-MAC input). */
function strippedCommand(cmd: CommandApdu, data: Uint8Array): Uint8Array {
  const lc = data.length === 0 ? Uint8Array.of(0) : lcBytes(data.length, isExtended(cmd, data.length));
  return concat(Uint8Array.of(strippedCla(cmd.cla), cmd.ins, cmd.p1, cmd.p2), lc, data);
}

export interface Scp02MessagingParams {
  readonly sessionKeys: Scp02SessionKeys;
  readonly i: number;
  readonly level: number;
  /** Implicit initiation: AID of the selected application, for the first C-MAC and R-MAC ICVs (E.3.3). */
  readonly aid?: Uint8Array;
}

export class Scp02SecureMessaging {
  readonly level: number;
  readonly i: number;
  readonly #keys: { enc: Uint8Array; cmac: Uint8Array; rmac: Uint8Array; dek: Uint8Array };
  /** Last C-MAC (unencrypted); `undefined` before EXTERNAL AUTHENTICATE. */
  #lastCmac: Uint8Array | undefined;
  /** ICV of the next R-MAC. */
  #rmacIcv: Uint8Array = ZERO8;
  /** ICV of the first C-MAC: zero (explicit, E.3.2) or the MAC over the AID (implicit, E.3.3). */
  readonly #firstCmacIcv: Uint8Array;
  /** Stripped form of the last command, for the R-MAC of its response. */
  #lastCommand: Uint8Array | undefined;
  /** Host: the stripped form of each wrapped command whose response is still to come, in order (batching). */
  readonly #awaiting: Uint8Array[] = [];

  constructor(p: Scp02MessagingParams) {
    if (!isSupportedI(p.i)) throw new SecureChannelError('UNSUPPORTED', `SCP02 i=${p.i.toString(16)} is not supported (Table E-1 options other than explicit/modified/zero ICV or implicit/unmodified/AID ICV)`);
    this.level = p.level;
    this.i = p.i;
    const k = p.sessionKeys;
    this.#keys = { enc: k.enc.slice(), cmac: k.cmac.slice(), rmac: k.rmac.slice(), dek: k.dek.slice() };
    if (isImplicitI(p.i)) {
      if (p.aid === undefined) throw new RangeError('SCP02 implicit initiation needs the AID of the selected application');
      this.#firstCmacIcv = aidIcv(this.#keys.cmac, p.aid);
      this.#rmacIcv = aidIcv(this.#keys.rmac, p.aid);
    } else {
      this.#firstCmacIcv = ZERO8;
    }
  }

  // ---- EXTERNAL AUTHENTICATE (E.3.2) ----

  /** Host: EXTERNAL AUTHENTICATE with P1 = level, C-MAC with a zero ICV. */
  externalAuthenticate(cla: number, hostCryptogram: Uint8Array): Uint8Array {
    const cmd: CommandApdu = { cla, ins: 0x82, p1: this.level, p2: 0x00, data: hostCryptogram };
    this.#lastCmac = undefined;
    const mac = this.#cmac(cmd, hostCryptogram, false);
    this.#afterExternalAuthenticate(mac);
    return encodeProtected(cmd, withSecureMessaging(cla), concat(hostCryptogram, mac));
  }

  /** Card: verify the C-MAC of EXTERNAL AUTHENTICATE. */
  verifyExternalAuthenticate(cmd: CommandApdu): boolean {
    const body = cmd.data.subarray(0, cmd.data.length - 8);
    const received = cmd.data.subarray(cmd.data.length - 8);
    this.#lastCmac = undefined;
    const mac = this.#cmac(cmd, body, isExtended(cmd, cmd.data.length));
    if (!equalConstantTime(mac, received)) return false;
    this.#afterExternalAuthenticate(mac);
    return true;
  }

  #afterExternalAuthenticate(mac: Uint8Array): void {
    this.#lastCmac = mac;
    this.#rmacIcv = mac;
  }

  // ---- host side ----

  wrapCommand(plainApdu: Uint8Array): Uint8Array {
    const cmd = decodeCommand(plainApdu);
    if (!(this.level & C_MAC)) {
      this.#lastCommand = strippedCommand(cmd, cmd.data);
      this.#awaiting.push(this.#lastCommand);
      return plainApdu.slice();
    }
    const plainExtended = isExtended(cmd, cmd.data.length);
    const n = cmd.data.length;
    const encrypted = this.level & C_DECRYPTION && n > 0 ? (Math.floor(n / 8) + 1) * 8 : n;
    if (!plainExtended && encrypted + 8 > 255) {
      throw new RangeError(`command data of ${n} bytes does not fit a short APDU once protected at level ${this.level.toString(16).padStart(2, '0')}`);
    }
    const mac = this.#cmac(cmd, cmd.data, plainExtended);
    this.#lastCmac = mac;
    this.#lastCommand = strippedCommand(cmd, cmd.data);
    this.#awaiting.push(this.#lastCommand);
    let data = cmd.data;
    if (this.level & C_DECRYPTION && n > 0) data = desCbcEncrypt(this.#keys.enc, padIso9797M2(data, 8));
    return encodeProtected(cmd, withSecureMessaging(cmd.cla), concat(data, mac));
  }

  unwrapResponse(rapdu: Uint8Array): Uint8Array {
    const answered = this.#awaiting.shift();
    if (answered !== undefined) this.#lastCommand = answered;
    if (!(this.level & R_MAC)) return rapdu.slice();
    const { data, sw } = splitResponse(rapdu);
    if (data.length < 8) throw new SecureChannelError('BAD_RMAC', 'response too short for its R-MAC', sw);
    const body = data.subarray(0, data.length - 8);
    const normal = isScp02NormalStatus(sw);
    if (!normal && body.length !== 0) throw new SecureChannelError('BAD_RESPONSE', 'error status word with response data', sw);
    const expected = this.#rmac(body, sw, normal);
    if (!equalConstantTime(expected, data.subarray(data.length - 8))) throw new SecureChannelError('BAD_RMAC', 'R-MAC does not verify', sw);
    this.#rmacIcv = expected;
    return joinResponse(body, sw);
  }

  // ---- card side ----

  unwrapCommand(protectedApdu: Uint8Array): Uint8Array {
    const cmd = decodeProtectedCommand(protectedApdu);
    if (!(this.level & C_MAC)) {
      this.#lastCommand = strippedCommand(cmd, cmd.data);
      return protectedApdu.slice();
    }
    if (!hasSecureMessaging(cmd.cla)) {
      throw new SecureChannelError('SECURITY_NOT_SATISFIED', 'command without secure messaging at a C-MAC level', SW.SECURITY_NOT_SATISFIED);
    }
    if (cmd.data.length < 8) throw new SecureChannelError('BAD_MAC', 'command data shorter than the C-MAC', SW.SECURITY_NOT_SATISFIED);
    const extended = isExtended(cmd, cmd.data.length);
    const body = cmd.data.subarray(0, cmd.data.length - 8);
    const received = cmd.data.subarray(cmd.data.length - 8);
    let data: Uint8Array = body;
    if (this.level & C_DECRYPTION && body.length > 0) {
      if (body.length % 8 !== 0) {
        throw new SecureChannelError('BAD_PADDING', 'encrypted command data is not a whole number of blocks', SW.SECURITY_NOT_SATISFIED);
      }
      try {
        data = unpadIso9797M2(desCbcDecrypt(this.#keys.enc, body));
      } catch (e) {
        throw new SecureChannelError('BAD_PADDING', 'decrypted command data is not padded with 80 00…', SW.SECURITY_NOT_SATISFIED, { cause: e });
      }
    }
    const mac = this.#cmac(cmd, data, extended);
    if (!equalConstantTime(mac, received)) throw new SecureChannelError('BAD_MAC', 'C-MAC does not verify', SW.SECURITY_NOT_SATISFIED);
    this.#lastCmac = mac;
    const plainCla = withoutSecureMessaging(cmd.cla);
    const plain = { ...cmd, cla: plainCla, data, extended };
    this.#lastCommand = strippedCommand(plain, data);
    return encodeProtected(plain, plainCla, data);
  }

  wrapResponse(plainRapdu: Uint8Array): Uint8Array {
    if (!(this.level & R_MAC)) return plainRapdu.slice();
    const { data, sw } = splitResponse(plainRapdu);
    const normal = isScp02NormalStatus(sw);
    const body = normal ? data : new Uint8Array(0);
    const rmac = this.#rmac(body, sw, normal);
    this.#rmacIcv = rmac;
    return joinResponse(body, sw, rmac);
  }

  // ---- sensitive data (E.4.7, explicit initiation: ECB) ----

  encryptSensitive(data: Uint8Array): Uint8Array {
    if (data.length === 0 || data.length % 8 !== 0) throw new RangeError(`sensitive data must be a multiple of 8 bytes, got ${data.length}`);
    return desEcbEncrypt(this.#keys.dek, data);
  }

  decryptSensitive(encrypted: Uint8Array): Uint8Array {
    if (encrypted.length === 0 || encrypted.length % 8 !== 0) {
      throw new SecureChannelError('BAD_COMMAND', `encrypted data must be a multiple of 8 bytes, got ${encrypted.length}`, SW.WRONG_LENGTH);
    }
    return desEcbDecrypt(this.#keys.dek, encrypted);
  }

  wipe(): void {
    for (const k of Object.values(this.#keys)) k.fill(0);
  }

  // ---- internals ----

  /** ICV of the next C-MAC: zero first, then the last C-MAC, encrypted per "i" b5 (E.3.4). */
  #cmacIcv(): Uint8Array {
    if (this.#lastCmac === undefined) return this.#firstCmacIcv;
    if (this.i & 0x10) return desEcbEncrypt(this.#keys.cmac.subarray(0, 8), this.#lastCmac);
    return this.#lastCmac;
  }

  /**
   * C-MAC (E.4.4) on the modified APDU: CLA' INS P1 P2 (Lc+8) ‖ plain data; or, with "i" b2, on the unmodified
   * APDU: CLA (channel zero, no secure messaging bit) INS P1 P2 Lc ‖ plain data (no Lc when there is no data).
   */
  #cmac(cmd: CommandApdu, plainData: Uint8Array, extended: boolean): Uint8Array {
    const unmodified = (this.i & 0x02) !== 0;
    const input = concat(
      Uint8Array.of(unmodified ? strippedCla(cmd.cla) : macCla(cmd.cla), cmd.ins, cmd.p1, cmd.p2),
      lcBytes(unmodified ? plainData.length : plainData.length + 8, extended),
      plainData,
    );
    return retailMac(this.#keys.cmac, input, this.#cmacIcv());
  }

  #rmac(body: Uint8Array, sw: number, normal: boolean): Uint8Array {
    if (this.#lastCommand === undefined) throw new RangeError('no command in this session to compute an R-MAC for');
    const li = normal ? Uint8Array.of(body.length & 0xff) : Uint8Array.of(0);
    const input = concat(this.#lastCommand, li, normal ? body : new Uint8Array(0), Uint8Array.of(sw >> 8, sw & 0xff));
    return retailMac(this.#keys.rmac, input, this.#rmacIcv);
  }
}
