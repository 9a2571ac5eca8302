/**
 * SCP10 secure messaging (GPCS 2.2.1 Appendix F.2.3–F.2.5, F.3.2, Figures F-10…F-15), host and card alike.
 * It is ISO/IEC 7816-4 secure messaging with BER-TLV data objects, not SCP02's scheme; only the DES
 * primitives (B.1.1 CBC, B.1.2.2 retail MAC, B.4 padding) are shared, through src/crypto.
 *
 *  - C-MAC (F.3.2.1): retail MAC with the C-MAC key over CLA* INS P1 P2 '80 00 00 00' ‖ ['81'|'87' data DO] ‖
 *    ['97' Le DO], padded; ICV = single-DES(first half of the key, ICV sequence counter); '8E 08' MAC appended.
 *    CLA*: "CLA from the unprotected APDU with the logical channel bits set to zero" — taken as channel zero
 *    without SM indication, chaining bit kept (ambiguous for '4x'/'Cx' classes).
 *  - C-ENC (F.3.2.2, F.3.2.3): data padded, 3DES-CBC zero ICV with the C-ENC key; DO '86' (C-ENC alone, Le in '96')
 *    or '87' (with C-MAC, Le in '97') = '01' ‖ ciphertext. No data, no encryption.
 *  - CLA: channels 0–3 set b4b3 to '11' (C-MAC) or '10' (C-ENC only); channels 4–19 set b6.
 *  - R-MAC / R-ENC (F.3.2.4–F.3.2.6): ['81'|'86'|'87' data DO] ‖ '99 02' SW ‖ '8E 08' R-MAC ‖ SW; error SWs
 *    (anything but 9000, 61xx, 62xx, 63xx) go back bare.
 *  - ICV sequence counters (F.2.3): one per session key, incremented after every MAC computed with that key
 *    (a key serving both C-MAC and R-MAC has one counter for both), also when the command is then refused.
 *  - Sensitive data (F.3.2.7): 3DES-ECB with the DEK (key type not given → ECB, "known implicitly").
 * A level without command protection passes commands through unchanged; protected commands carry Le '00'
 * whenever the plain one had Le or the level protects responses.
 */
import { concat, equalConstantTime } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { encodeTlv, parseTlvs, type Tlv } from '../../core/tlv.ts';
import { decodeCommand, encodeCommand, type CommandApdu } from '../../apdu/command.ts';
import { desCbcDecrypt, desCbcEncrypt, desEcbDecrypt, desEcbEncrypt, retailMac } from '../../crypto/des.ts';
import { padIso9797M2, unpadIso9797M2 } from '../../crypto/padding.ts';
import { SecureChannelError, SW } from '../errors.ts';
import { decodeProtectedCommand, joinResponse, splitResponse, strippedCla, withoutSecureMessaging } from '../messaging.ts';
import { CRT_CCT, CRT_CT, findKey, type SessionKey } from './keys.ts';

export const LEVEL_C_MAC = 0x01;
export const LEVEL_C_ENC = 0x02;
export const LEVEL_R_MAC = 0x10;
export const LEVEL_R_ENC = 0x20;

/** F.3.2.4: "status bytes indicate an error" — everything but 9000, 61xx, 62xx, 63xx. */
export function isNormalStatus(sw: number): boolean {
  const sw1 = sw >> 8;
  return sw === 0x9000 || sw1 === 0x61 || sw1 === 0x62 || sw1 === 0x63;
}

interface Slot {
  key: Uint8Array;
  counter: bigint;
}

const secErr = (code: 'BAD_MAC' | 'BAD_PADDING' | 'SECURITY_NOT_SATISFIED' | 'BAD_COMMAND', msg: string): SecureChannelError =>
  new SecureChannelError(code, msg, SW.SECURITY_NOT_SATISFIED);

function leBytes(le: number): Uint8Array {
  if (le <= 256) return Uint8Array.of(le & 0xff);
  return Uint8Array.of((le >> 8) & 0xff, le & 0xff);
}
function leFrom(v: Uint8Array): number | null {
  if (v.length === 1) return v[0] === 0 ? 256 : v[0]!;
  if (v.length === 2) return ((v[0]! << 8) | v[1]!) || 65536;
  return null;
}

export class Scp10SecureMessaging {
  readonly level: number;
  readonly #slots: Slot[];
  readonly #cmac: Slot | undefined;
  readonly #rmac: Slot | undefined;
  readonly #cenc: Slot | undefined;
  readonly #renc: Slot | undefined;
  readonly #dek: Slot | undefined;

  constructor(keys: readonly SessionKey[], level: number) {
    this.level = level;
    this.#slots = keys.map((k) => ({ key: k.key.slice(), counter: BigInt('0x' + Buffer.from(k.counter).toString('hex')) }));
    const pick = (tag: number, bit: number): Slot | undefined => {
      const i = findKey(keys.map((k) => ({ tag: k.tag as typeof CRT_CCT, usage: k.usage })), tag, bit);
      return i < 0 ? undefined : this.#slots[i];
    };
    this.#cmac = pick(CRT_CCT, 0x10);
    this.#rmac = pick(CRT_CCT, 0x20);
    this.#cenc = pick(CRT_CT, 0x10);
    this.#renc = pick(CRT_CT, 0x20);
    this.#dek = pick(CRT_CT, 0x80) ?? pick(CRT_CT, 0x40);
    const need = (bit: number, s: Slot | undefined): void => {
      if (level & bit && s === undefined) throw new RangeError(`security level ${level.toString(16)} needs a key the session does not have`);
    };
    need(LEVEL_C_MAC, this.#cmac);
    need(LEVEL_R_MAC, this.#rmac);
    need(LEVEL_C_ENC, this.#cenc);
    need(LEVEL_R_ENC, this.#renc);
  }

  #mac(slot: Slot, input: Uint8Array): Uint8Array {
    const counter = new Uint8Array(Buffer.from(slot.counter.toString(16).padStart(16, '0'), 'hex'));
    slot.counter = (slot.counter + 1n) & 0xffffffffffffffffn;
    const icv = desEcbEncrypt(slot.key.subarray(0, 8), counter);
    return retailMac(slot.key, input, icv);
  }

  static #smCla(cla: number, mac: boolean): number {
    if (cla & 0x40) return cla | 0x20;
    return (cla & ~0x0c & 0xff) | (mac ? 0x0c : 0x08);
  }

  static #header(cmd: CommandApdu): Uint8Array {
    return Uint8Array.of(strippedCla(cmd.cla), cmd.ins, cmd.p1, cmd.p2, 0x80, 0, 0, 0);
  }

  // ---- host ----

  wrapCommand(plainApdu: Uint8Array): Uint8Array {
    const cmd = decodeCommand(plainApdu);
    const mac = (this.level & LEVEL_C_MAC) !== 0;
    const enc = (this.level & LEVEL_C_ENC) !== 0 && cmd.data.length > 0;
    if (!mac && !enc) return plainApdu.slice();
    const dos: Uint8Array[] = [];
    if (cmd.data.length > 0) {
      dos.push(enc ? encodeTlv(mac ? 0x87 : 0x86, concat(Uint8Array.of(1), desCbcEncrypt(this.#cenc!.key, padIso9797M2(cmd.data, 8)))) : encodeTlv(0x81, cmd.data));
    }
    if (cmd.le !== undefined) dos.push(encodeTlv(mac ? 0x97 : 0x96, leBytes(cmd.le)));
    if (mac) dos.push(encodeTlv(0x8e, this.#mac(this.#cmac!, concat(Scp10SecureMessaging.#header(cmd), ...dos))));
    const data = concat(...dos);
    // A plain command that expects more than 256 bytes keeps an extended Le: its protected answer is longer still.
    const long = cmd.le !== undefined && cmd.le > 256;
    const le = long ? 65536 : cmd.le !== undefined || this.level & (LEVEL_R_MAC | LEVEL_R_ENC) ? 256 : undefined;
    return encodeCommand({
      cla: Scp10SecureMessaging.#smCla(cmd.cla, mac),
      ins: cmd.ins,
      p1: cmd.p1,
      p2: cmd.p2,
      data,
      ...(le === undefined ? {} : { le }),
      ...(data.length > 255 || long ? { extended: true } : {}),
    });
  }

  unwrapResponse(rapdu: Uint8Array): Uint8Array {
    const rmac = (this.level & LEVEL_R_MAC) !== 0;
    const renc = (this.level & LEVEL_R_ENC) !== 0;
    if (!rmac && !renc) return rapdu.slice();
    const { data, sw } = splitResponse(rapdu);
    if (!isNormalStatus(sw) || (!rmac && data.length === 0)) {
      if (data.length !== 0) throw new SecureChannelError('BAD_RESPONSE', 'error status word with response data', sw);
      return rapdu.slice();
    }
    const dos = this.#parse(data, 'BAD_RESPONSE');
    let i = 0;
    let body: Uint8Array = new Uint8Array(0);
    const dataDo = dos[0] && [0x81, 0x86, 0x87].includes(dos[0].tag) ? dos[i++] : undefined;
    if (dataDo) {
      const want = renc ? (rmac ? 0x87 : 0x86) : 0x81;
      if (dataDo.tag !== want || (!rmac && dataDo.tag === 0x81)) throw new SecureChannelError('BAD_RESPONSE', `unexpected response data object ${dataDo.tag.toString(16)}`, sw);
      body = renc ? this.#decrypt(this.#renc!, dataDo.value, 'BAD_RESPONSE') : dataDo.value;
    }
    if (rmac) {
      const swDo = dos[i++];
      const macDo = dos[i++];
      if (swDo?.tag !== 0x99 || swDo.value.length !== 2 || ((swDo.value[0]! << 8) | swDo.value[1]!) !== sw || macDo?.tag !== 0x8e || macDo.value.length !== 8) {
        throw new SecureChannelError('BAD_RMAC', "response lacks '99' SW and '8E' R-MAC data objects", sw);
      }
      const input = concat(...dos.slice(0, i - 1).map((t) => encodeTlv(t.tag, t.value)));
      if (!equalConstantTime(this.#mac(this.#rmac!, input), macDo.value)) throw new SecureChannelError('BAD_RMAC', 'R-MAC does not verify', sw);
    }
    if (i !== dos.length) throw new SecureChannelError('BAD_RESPONSE', 'unexpected data objects in the response', sw);
    return joinResponse(body, sw);
  }

  // ---- card ----

  unwrapCommand(protectedApdu: Uint8Array): Uint8Array {
    const cmd = decodeProtectedCommand(protectedApdu);
    const mac = (this.level & LEVEL_C_MAC) !== 0;
    const enc = (this.level & LEVEL_C_ENC) !== 0;
    if (!mac && !enc) return protectedApdu.slice();
    const sm = cmd.cla & 0x40 ? (cmd.cla & 0x20) !== 0 : mac ? (cmd.cla & 0x0c) === 0x0c : (cmd.cla & 0x0c) === 0x08;
    if (!sm) {
      if (!mac && cmd.data.length === 0) return protectedApdu.slice();
      throw secErr('SECURITY_NOT_SATISFIED', 'command without the secure messaging the level requires');
    }
    const dos = this.#parse(cmd.data, 'BAD_COMMAND');
    let i = 0;
    const dataDo = dos[0] && [0x81, 0x86, 0x87].includes(dos[0].tag) ? dos[i++] : undefined;
    const leDo = dos[i] && (dos[i]!.tag === 0x96 || dos[i]!.tag === 0x97) ? dos[i++] : undefined;
    const macDo = mac ? dos[i++] : undefined;
    if (i !== dos.length) throw secErr('BAD_COMMAND', 'unexpected secure messaging data objects');
    if (mac) {
      if (macDo?.tag !== 0x8e || macDo.value.length !== 8) throw secErr('BAD_MAC', "no '8E' C-MAC data object");
      const input = concat(Scp10SecureMessaging.#header(cmd), ...dos.slice(0, i - 1).map((t) => encodeTlv(t.tag, t.value)));
      if (!equalConstantTime(this.#mac(this.#cmac!, input), macDo.value)) throw secErr('BAD_MAC', 'C-MAC does not verify');
    }
    if (leDo && leDo.tag !== (mac ? 0x97 : 0x96)) throw secErr('BAD_COMMAND', 'wrong Le data object tag');
    let data: Uint8Array = new Uint8Array(0);
    if (dataDo) {
      const want = enc ? (mac ? 0x87 : 0x86) : 0x81;
      if (dataDo.tag !== want) throw secErr('SECURITY_NOT_SATISFIED', `data object ${dataDo.tag.toString(16)} does not match the security level`);
      data = enc ? this.#decrypt(this.#cenc!, dataDo.value, 'BAD_PADDING') : dataDo.value;
    }
    const le = leDo ? leFrom(leDo.value) : undefined;
    if (le === null) throw secErr('BAD_COMMAND', 'bad Le data object');
    return encodeCommand({
      cla: withoutSecureMessaging(cmd.cla),
      ins: cmd.ins,
      p1: cmd.p1,
      p2: cmd.p2,
      data,
      ...(le === undefined ? {} : { le }),
      ...(data.length > 255 || (le ?? 0) > 256 ? { extended: true } : {}),
    });
  }

  wrapResponse(plainRapdu: Uint8Array): Uint8Array {
    const rmac = (this.level & LEVEL_R_MAC) !== 0;
    const renc = (this.level & LEVEL_R_ENC) !== 0;
    if (!rmac && !renc) return plainRapdu.slice();
    const { data, sw } = splitResponse(plainRapdu);
    if (!isNormalStatus(sw)) return joinResponse(new Uint8Array(0), sw);
    if (!rmac && data.length === 0) return plainRapdu.slice();
    const dos: Uint8Array[] = [];
    if (data.length > 0) {
      dos.push(renc ? encodeTlv(rmac ? 0x87 : 0x86, concat(Uint8Array.of(1), desCbcEncrypt(this.#renc!.key, padIso9797M2(data, 8)))) : encodeTlv(0x81, data));
    }
    if (rmac) {
      dos.push(encodeTlv(0x99, Uint8Array.of(sw >> 8, sw & 0xff)));
      dos.push(encodeTlv(0x8e, this.#mac(this.#rmac!, concat(...dos))));
    }
    return joinResponse(concat(...dos), sw);
  }

  // ---- sensitive data ----

  encryptSensitive(data: Uint8Array): Uint8Array {
    if (this.#dek === undefined) throw new SecureChannelError('UNSUPPORTED', 'no data encryption key in this session');
    if (data.length === 0 || data.length % 8 !== 0) throw new RangeError(`sensitive data must be a multiple of 8 bytes, got ${data.length}`);
    return desEcbEncrypt(this.#dek.key, data);
  }

  decryptSensitive(encrypted: Uint8Array): Uint8Array {
    if (this.#dek === undefined) throw new SecureChannelError('UNSUPPORTED', 'no data encryption key in this session', SW.CONDITIONS_NOT_SATISFIED);
    if (encrypted.length === 0 || encrypted.length % 8 !== 0) throw new SecureChannelError('BAD_COMMAND', 'encrypted data must be a multiple of 8 bytes', SW.WRONG_LENGTH);
    return desEcbDecrypt(this.#dek.key, encrypted);
  }

  wipe(): void {
    for (const s of this.#slots) s.key.fill(0);
  }

  #parse(bytes: Uint8Array, code: 'BAD_RESPONSE' | 'BAD_COMMAND'): Tlv[] {
    try {
      return parseTlvs(bytes);
    } catch (e) {
      if (e instanceof CodecError) throw new SecureChannelError(code, `malformed secure messaging data objects: ${e.message}`, code === 'BAD_COMMAND' ? SW.SECURITY_NOT_SATISFIED : undefined, { cause: e });
      throw e;
    }
  }

  #decrypt(slot: Slot, value: Uint8Array, code: 'BAD_PADDING' | 'BAD_RESPONSE'): Uint8Array {
    const fail = (why: string): SecureChannelError => new SecureChannelError(code === 'BAD_PADDING' ? 'BAD_PADDING' : 'BAD_RESPONSE', why, code === 'BAD_PADDING' ? SW.SECURITY_NOT_SATISFIED : undefined);
    if (value[0] !== 0x01 || value.length < 9 || (value.length - 1) % 8 !== 0) throw fail("encrypted data object must be '01' ‖ whole 8-byte blocks");
    try {
      return unpadIso9797M2(desCbcDecrypt(slot.key, value.subarray(1))).slice();
    } catch (e) {
      if (e instanceof CodecError) throw fail('decrypted data is not padded with 80 00…');
      throw e;
    }
  }
}
