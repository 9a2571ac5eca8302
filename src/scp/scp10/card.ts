/**
 * SCP10, the Security Domain's side (GPCS 2.2.1 Appendix F.1.3–F.1.6, F.4), sans-IO: `Scp10CardHandshake.process`
 * takes one plain command of the initiation (MSE, PSO verify certificate, PSO decipher, GET CHALLENGE,
 * EXTERNAL / INTERNAL AUTHENTICATE, GET DATA [certificate]) and returns the response and, once the session is
 * established (i=02: after EXTERNAL AUTHENTICATE; i=01: after INTERNAL AUTHENTICATE), the card channel.
 * Status words: 6700 length, 6E00 class, 6D00 INS, 6A86 P1/P2, 6A80 incorrect data (malformed certificate,
 * bad decipher padding or session data, wrong OCE id), 6300 certificate or signature verification failed,
 * 6985 sequence (e.g. EXTERNAL AUTHENTICATE not right after GET CHALLENGE), 6A88 unknown key reference,
 * 9484 option "i" not supported, 6982 EXTERNAL AUTHENTICATE without a validated PK.OCE.AUT.
 * Any failure aborts the initiation and discards validated keys (F.1.3.2, F.1.4.2, F.1.5); MSE terminates an
 * open session (F.4.5.1). Choice: MSE key references '83'/'84' are accepted only empty or naming the defaults.
 * A trust point may come without an id (a card that received PK.TP_EX.AUT by PUT KEY knows its key only): the
 * first certificate of a chain then only has to verify under that key, whatever issuer id it names — unless
 * MSE '83' names the id (8 bytes), which the first certificate's issuer id must then equal. Without a stored
 * CERT.SD.AUT, GET DATA [certificate] answers 6A88 (the host got PK.SD.AUT out of band).
 */
import type { KeyObject } from 'node:crypto';
import { concat, equalConstantTime } from '../../core/bytes.ts';
import { parseTlvs } from '../../core/tlv.ts';
import type { RandomSource } from '../../crypto/random.ts';
import { SecureChannelError, SW } from '../errors.ts';
import { decodeOrNull } from '../card-checks.ts';
import { joinResponse, swOnly } from '../messaging.ts';
import { scp10CardChannel, type Scp10CardChannel } from './channel.ts';
import { verifyCertificate, type TrustedKey } from './certificate.ts';
import { agreedKeys, parseSessionData, transportedKeys, type SessionData } from './keys.ts';
import { decryptPkcs1, modulusLength, openEncryptedSignature, recover9796, sealSignature, signPkcs1, verifyPkcs1 } from '../../crypto/index.ts';
import { Scp10SecureMessaging } from './wrap.ts';

export const SW_VERIFICATION_FAILED = 0x6300;
export const SW_INCORRECT_DATA = 0x6a80;
export const SW_ALGORITHM_NOT_SUPPORTED = 0x9484;

export interface Scp10CardConfig {
  /** Options this Security Domain supports (Table F-1): 0x01 and/or 0x02. */
  readonly options: readonly number[];
  /** PK.TP_EX.AUT with its id — or without one: see the module comment. */
  readonly trustPoint: TrustPoint;
  readonly sdPrivateKey: KeyObject;
  /** CERT.SD.AUT ('7F21' TLV); absent: GET DATA [certificate] answers 6A88. */
  readonly sdCertificate?: Uint8Array;
  /** Card id (subject id of CERT.SD.AUT), 8 bytes. */
  readonly sdId: Uint8Array;
  readonly random: RandomSource;
}

/** PK.TP_EX.AUT as the card holds it: the key, and its id when known. */
export interface TrustPoint {
  readonly id?: Uint8Array;
  readonly publicKey: KeyObject;
}

/**
 * The issuer id a certificate names (pkcs1: in clear; ISO 9796-2: in the part recovered with `signer`), or
 * undefined when it cannot be read. Only picks the id to check against; `verifyCertificate` then checks all.
 */
function namedIssuer(encoded: Uint8Array, signer: KeyObject): Uint8Array | undefined {
  let items;
  try {
    items = parseTlvs(encoded)[0]?.children;
  } catch {
    return undefined;
  }
  if (items === undefined) return undefined;
  if (items.length === 2 && items[0]!.tag === 0x5f38 && items[1]!.tag === 0x9e) {
    const m1 = recover9796(signer, items[1]!.value, items[0]!.value);
    return m1 !== null && m1.length >= 10 && m1[0] === 0x42 && m1[1] === 0x08 ? m1.slice(2, 10) : undefined;
  }
  return items.find((t) => t.tag === 0x42)?.value;
}

export interface Scp10CardResult {
  readonly response: Uint8Array;
  /** Present on the command that establishes the session. */
  readonly channel: Scp10CardChannel | undefined;
}

type Step = 'idle' | 'ready' | 'challenged' | 'authenticated';

export class Scp10CardHandshake {
  readonly #cfg: Scp10CardConfig;
  #i = 0;
  #step: Step = 'idle';
  #current: TrustPoint | undefined;
  #oce: TrustedKey | undefined;
  #session: SessionData | undefined;
  #sessionBytes: Uint8Array | undefined;
  #challenge: Uint8Array | undefined;
  #oes: Uint8Array | undefined;
  #channel: Scp10CardChannel | undefined;

  constructor(cfg: Scp10CardConfig) {
    this.#cfg = cfg;
  }

  /** The session established last (aborted by MSE or a new initiation). */
  get channel(): Scp10CardChannel | undefined {
    return this.#channel;
  }

  /**
   * Forget the initiation in progress and the last session without aborting it (the caller owns the session;
   * used when the handshake object serves a new selection).
   */
  reset(): void {
    this.#reset();
    this.#channel = undefined;
  }

  #reset(): void {
    this.#step = 'idle';
    this.#current = undefined;
    this.#oce = undefined;
    this.#session = undefined;
    this.#sessionBytes = undefined;
    this.#challenge = undefined;
    this.#oes?.fill(0);
    this.#oes = undefined;
  }

  #fail(sw: number): Scp10CardResult {
    this.#reset();
    return { response: swOnly(sw), channel: undefined };
  }

  #ok(data: Uint8Array = new Uint8Array(0), channel?: Scp10CardChannel): Scp10CardResult {
    return { response: joinResponse(data, SW.OK), channel };
  }

  process(command: Uint8Array): Scp10CardResult {
    const cmd = decodeOrNull(command);
    if (cmd === null) return this.#fail(SW.WRONG_LENGTH);
    const iso = (cmd.cla & 0xfc) === 0x00 || (cmd.cla & 0xf0) === 0x40;
    if (cmd.ins === 0xca && cmd.p1 === 0x7f && cmd.p2 === 0x21) {
      // GET DATA [certificate] (F.4.3): GP class → '7F21' TLV, ISO class → value only. No state change.
      const cert = this.#cfg.sdCertificate;
      if (cert === undefined) return { response: swOnly(SW.REFERENCED_DATA_NOT_FOUND), channel: undefined };
      return this.#ok(cmd.cla & 0x80 ? cert : parseTlvs(cert)[0]!.value);
    }
    if (!iso) return { response: swOnly(SW.CLA_NOT_SUPPORTED), channel: undefined };
    const last = this.#step;
    switch (cmd.ins) {
      case 0x22: {
        this.#channel?.abort();
        this.#channel = undefined;
        this.#reset();
        if ((cmd.p1 !== 0x81 && cmd.p1 !== 0xc1) || (cmd.p2 !== 0xa4 && cmd.p2 !== 0xb6)) return this.#fail(SW.INCORRECT_P1P2);
        let list;
        try {
          list = parseTlvs(cmd.data);
        } catch {
          return this.#fail(SW_INCORRECT_DATA);
        }
        const mech = list.find((t) => t.tag === 0x80);
        if (mech === undefined || mech.value.length !== 2 || mech.value[0] !== 0x10) return this.#fail(SW_INCORRECT_DATA);
        if (!this.#cfg.options.includes(mech.value[1]!)) return this.#fail(SW_ALGORITHM_NOT_SUPPORTED);
        const tp = this.#cfg.trustPoint;
        let named: Uint8Array | undefined;
        for (const t of list) {
          if (t.tag === 0x80) continue;
          if ((t.tag === 0x83 || t.tag === 0x84) && t.value.length === 0) continue;
          if (t.tag === 0x83 && tp.id !== undefined && equalConstantTime(t.value, tp.id)) continue;
          if (t.tag === 0x83 && tp.id === undefined && t.value.length === 8) {
            named = t.value;
            continue;
          }
          return this.#fail(SW.REFERENCED_DATA_NOT_FOUND);
        }
        this.#i = mech.value[1]!;
        this.#current = named === undefined ? tp : { id: named, publicKey: tp.publicKey };
        this.#step = 'ready';
        return this.#ok();
      }
      case 0x2a: {
        if (cmd.p1 === 0x00 && (cmd.p2 === 0xbe || cmd.p2 === 0xae)) {
          if (last === 'idle' || this.#current === undefined) return this.#fail(SW.CONDITIONS_NOT_SATISFIED);
          if (cmd.p2 === 0xae) return this.#fail(SW_INCORRECT_DATA); // only self-descriptive certificates
          try {
            const current = this.#current;
            // A trust point of unknown id verifies whatever issuer id the certificate names (then checked anyway).
            const id = current.id ?? namedIssuer(cmd.data, current.publicKey) ?? new Uint8Array(8);
            const cert = verifyCertificate(cmd.data, { id, publicKey: current.publicKey });
            const oce: TrustedKey = { id: cert.subjectId, publicKey: cert.publicKey };
            this.#current = oce;
            this.#oce = oce;
            this.#step = 'ready';
            return this.#ok();
          } catch (e) {
            if (e instanceof SecureChannelError && e.sw !== undefined) return this.#fail(e.sw);
            throw e;
          }
        }
        if (cmd.p1 === 0x80 && cmd.p2 === 0x84) {
          if (last === 'idle' || this.#i !== 0x02) return this.#fail(SW.CONDITIONS_NOT_SATISFIED);
          const plain = decryptPkcs1(this.#cfg.sdPrivateKey, cmd.data);
          const session = plain === null ? null : parseSessionData(plain, true);
          if (plain === null || session === null) return this.#fail(SW_INCORRECT_DATA);
          this.#session = session;
          this.#sessionBytes = plain;
          this.#step = 'ready';
          return this.#ok();
        }
        return this.#fail(SW.INCORRECT_P1P2);
      }
      case 0x84: {
        if (cmd.p1 !== 0 || cmd.p2 !== 0) return this.#fail(SW.INCORRECT_P1P2);
        if (cmd.data.length !== 0 || cmd.le === undefined) return this.#fail(SW.WRONG_LENGTH);
        if (last === 'idle') return this.#fail(SW.CONDITIONS_NOT_SATISFIED);
        this.#challenge = this.#cfg.random(this.#i === 0x02 ? 16 : 8);
        this.#step = 'challenged';
        return this.#ok(this.#challenge);
      }
      case 0x82:
        return this.#externalAuthenticate(cmd.p1, cmd.p2, cmd.data, last);
      case 0x88:
        return this.#internalAuthenticate(cmd.p1, cmd.p2, cmd.data, last);
      default:
        return { response: swOnly(SW.INS_NOT_SUPPORTED), channel: undefined };
    }
  }

  #externalAuthenticate(p1: number, p2: number, data: Uint8Array, last: Step): Scp10CardResult {
    if (p1 !== 0 || p2 !== 0) return this.#fail(SW.INCORRECT_P1P2);
    if (last !== 'challenged' || this.#challenge === undefined) return this.#fail(SW.CONDITIONS_NOT_SATISFIED);
    if (this.#oce === undefined) return this.#fail(SW.SECURITY_NOT_SATISFIED);
    const k = modulusLength(this.#oce.publicKey);
    if (data.length !== k) return this.#fail(SW.WRONG_LENGTH);
    if (this.#i === 0x02) {
      const session = this.#session;
      if (session === undefined) return this.#fail(SW.CONDITIONS_NOT_SATISFIED);
      if (!verifyPkcs1(this.#oce.publicKey, concat(this.#sessionBytes!, this.#challenge), data)) return this.#fail(SW_VERIFICATION_FAILED);
      const channel = scp10CardChannel(session.level, new Scp10SecureMessaging(transportedKeys(session), session.level));
      this.#channel = channel;
      this.#step = 'authenticated';
      this.#challenge = undefined;
      return this.#ok(new Uint8Array(0), channel);
    }
    const m1 = openEncryptedSignature(this.#cfg.sdPrivateKey, this.#oce.publicKey, data, concat(this.#challenge, this.#cfg.sdId));
    if (m1 === null) return this.#fail(SW_VERIFICATION_FAILED);
    // m1 = RPD ‖ 'D3 01' level ‖ CRTs ‖ OES(32); RPD length is not coded: find the 'D3 01' that parses.
    const oes = m1.slice(m1.length - 32);
    const body = m1.subarray(0, m1.length - 32);
    let session: SessionData | null = null;
    for (let o = 1; o < body.length - 2 && session === null; o++) {
      if (body[o] === 0xd3 && body[o + 1] === 0x01) session = parseSessionData(body.subarray(o), false);
    }
    if (session === null) return this.#fail(SW_INCORRECT_DATA);
    this.#session = session;
    this.#oes = oes;
    this.#step = 'authenticated';
    this.#challenge = undefined;
    return this.#ok();
  }

  #internalAuthenticate(p1: number, p2: number, data: Uint8Array, last: Step): Scp10CardResult {
    if (p1 !== 0 || p2 !== 0) return this.#fail(SW.INCORRECT_P1P2);
    if (last !== 'authenticated' || this.#session === undefined || this.#oce === undefined) return this.#fail(SW.CONDITIONS_NOT_SATISFIED);
    const cl = this.#i === 0x02 ? 16 : 8;
    if (data.length !== cl + 8) return this.#fail(SW.WRONG_LENGTH);
    const challenge = data.subarray(0, cl);
    if (!equalConstantTime(data.subarray(cl), this.#oce.id)) return this.#fail(SW_INCORRECT_DATA);
    const session = this.#session;
    if (this.#i === 0x02) {
      const sig = signPkcs1(this.#cfg.sdPrivateKey, concat(...session.crts.map((c) => c.key!), challenge));
      this.#reset();
      return this.#ok(sig);
    }
    const k = modulusLength(this.#cfg.sdPrivateKey);
    const cs = this.#cfg.random(32);
    const sealed = sealSignature(this.#cfg.sdPrivateKey, this.#oce.publicKey, concat(this.#cfg.random(k - 22 - 32), cs), data);
    const keys = agreedKeys(session, cs, this.#oes!);
    cs.fill(0);
    const channel = scp10CardChannel(session.level, new Scp10SecureMessaging(keys, session.level));
    this.#channel = channel;
    this.#reset();
    return this.#ok(sealed, channel);
  }
}
