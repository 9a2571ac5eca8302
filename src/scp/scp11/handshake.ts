/**
 * SCP11, the off-card entity's side (Amendment F v1.4 §4.1, §7.5–§7.7), sans-IO:
 *  - `buildPerformSecurityOperations(certificates, caKloc)` → the PSO commands submitting CERT.KA-KLOC… and
 *    CERT.OCE.ECKA (P1 = KVN of PK.CA-KLOC.ECDSA | b8 more blocks, P2 = KID | b8 more certificates; §7.5.2).
 *  - `beginScp11(options)` → MUTUAL AUTHENTICATE (11a, 11c) or INTERNAL AUTHENTICATE (11b) with a fresh
 *    ePK.OCE.ECKA in '5F49' after the 'A6' template.
 *  - `completeScp11(session, response)` → checks the SW, ePK.SD.ECKA (or PK.SD.ECKA for 11c), derives
 *    ShS → X9.63 KDF → receipt key, S-ENC, S-MAC, S-RMAC, S-DEK, verifies the receipt in constant time and
 *    returns a `HostSecureChannel` with SCP03 secure messaging chained from the receipt.
 *  - `scp11cScriptChannel(session)`: SCP11c needs no card answer (§2.2, scripting): the channel and the
 *    receipt the card will send are computable from PK.SD.ECKA alone.
 * The returned channel reports `scp: 3` (its secure messaging is SCP03's); the variant is in `session.variant`.
 */
import { concat, equalConstantTime, zeroize } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { encodeCommand } from '../../apdu/command.ts';
import { claForChannel as moveToChannel } from '../../apdu/logical-channel.ts';
import type { RandomSource } from '../../crypto/random.ts';
import type { HostSecureChannel } from '../channel.ts';
import { SecureChannelError } from '../errors.ts';
import { splitResponse } from '../messaging.ts';
import { HostChannel } from '../session.ts';
import { ecka, generateKeyPair, isValidPublicKey, publicKeyOf, type EcKeyPair, type EcPublicKey } from '../../crypto/index.ts';
import { deriveScp11Keys, lv, sharedInfo, type Scp11DerivedKeys } from './kdf.ts';
import {
  computeReceipt,
  encodeCrt,
  INS_INTERNAL_AUTHENTICATE,
  INS_MUTUAL_AUTHENTICATE,
  INS_PERFORM_SECURITY_OPERATION,
  KEY_TYPE_AES,
  KeyUsageQualifier,
  levelOfKeyUsage,
  parseAuthenticateResponse,
  Scp11I,
  scpParameters,
  sdKeyKid,
  startMessaging,
  type Scp11Variant,
} from './protocol.ts';

/** Maximum PSO data per command (short APDU). */
const PSO_BLOCK = 255;

/**
 * PERFORM SECURITY OPERATION commands for a chain (first signed by PK.CA-KLOC.ECDSA, last CERT.OCE.ECKA).
 * A certificate longer than 255 bytes is split over several commands with P1 b8 set on all but its last.
 * `caKloc.kvn` 0 lets the card infer the key from the first certificate's CA identifier (§7.5.2.1).
 */
export function buildPerformSecurityOperations(
  certificates: readonly Uint8Array[],
  caKloc: { readonly kvn: number; readonly kid: number },
  logicalChannel = 0,
): Uint8Array[] {
  if (certificates.length === 0) throw new RangeError('buildPerformSecurityOperations: no certificate');
  if (!Number.isInteger(caKloc.kvn) || caKloc.kvn < 0 || caKloc.kvn > 0x7f) throw new RangeError('caKloc.kvn must be 0..7F');
  if (!Number.isInteger(caKloc.kid) || caKloc.kid < 0 || caKloc.kid > 0x7f) throw new RangeError('caKloc.kid must be 0..7F');
  const cla = moveToChannel(0x80, logicalChannel);
  const out: Uint8Array[] = [];
  certificates.forEach((cert, ci) => {
    const lastCert = ci === certificates.length - 1;
    for (let o = 0; o < cert.length || o === 0; o += PSO_BLOCK) {
      const block = cert.subarray(o, o + PSO_BLOCK);
      const lastBlock = o + PSO_BLOCK >= cert.length;
      out.push(
        encodeCommand({
          cla,
          ins: INS_PERFORM_SECURITY_OPERATION,
          p1: caKloc.kvn | (lastBlock ? 0 : 0x80),
          p2: caKloc.kid | (lastCert ? 0 : 0x80),
          data: block,
          le: 256,
        }),
      );
    }
  });
  return out;
}

export interface Scp11HostOptions {
  readonly variant: Scp11Variant;
  /** PK.SD.ECKA, taken from a CERT.SD.ECKA the caller verified (`verifyChain` against PK.CA-KLCC.ECDSA). */
  readonly pkSdEcka: EcPublicKey;
  /** KVN of SK.SD.ECKA (P1); 0 = let the card infer it from `caKlccId`. */
  readonly kvn: number;
  /** KID of SK.SD.ECKA (P2); default '11' / '13' / '15' by variant (§5.1). */
  readonly kid?: number;
  /** CA-KLCC identifier ('42' in 'A6'), required when `kvn` is 0. */
  readonly caKlccId?: Uint8Array;
  /** SK.OCE.ECKA (SCP11a, SCP11c), on the curve of PK.SD.ECKA. */
  readonly skOceEcka?: Uint8Array;
  /** Key Usage Qualifier: '34', '3C' (default), and for SCP11c also '1C', '74'. */
  readonly keyUsage?: number;
  /** AES key length in bytes: 16 (default), 24, 32. */
  readonly keyLength?: number;
  /** S16 mode (16-byte MACs), as the card's "i" b7 says. */
  readonly s16?: boolean;
  /**
   * Include Host and Card IDs in the key derivation (SCP parameters b3): HostID, and the card's identifiers
   * — SIN and SDIN for SCP11a/b, the Card Group ID (subject identifier of CERT.SD.ECKA) for SCP11c.
   */
  readonly ids?: { readonly hostId: Uint8Array; readonly sin?: Uint8Array; readonly sdin?: Uint8Array; readonly cardGroupId?: Uint8Array };
  /** Randomness for eSK.OCE.ECKA (replayable transcripts); OpenSSL's generator when absent. */
  readonly random?: RandomSource;
  readonly logicalChannel?: number;
}

/** Host state between the authenticate command and its response; single use. */
export class Scp11HostSession {
  readonly variant: Scp11Variant;
  /** The MUTUAL / INTERNAL AUTHENTICATE command to send. */
  readonly command: Uint8Array;
  /** ePK.OCE.ECKA sent in the command. */
  readonly ePkOce: Uint8Array;
  readonly kvn: number;
  /** Secure messaging level (SCP03 bits) the Key Usage Qualifier asks for. */
  readonly level: number;
  readonly s16: boolean;
  /** PK.SD.ECKA the session was built for. */
  readonly pkSdEcka: EcPublicKey;
  readonly #options: Scp11HostOptions;
  readonly #crtBytes: Uint8Array;
  readonly #info: Uint8Array;
  #ephemeral: EcKeyPair | undefined;
  constructor(options: Scp11HostOptions, command: Uint8Array, crtBytes: Uint8Array, info: Uint8Array, ephemeral: EcKeyPair, level: number) {
    this.variant = options.variant;
    this.command = command;
    this.ePkOce = ephemeral.publicKey;
    this.kvn = options.kvn;
    this.level = level;
    this.s16 = options.s16 === true;
    this.pkSdEcka = options.pkSdEcka;
    this.#options = options;
    this.#crtBytes = crtBytes;
    this.#info = info;
    this.#ephemeral = ephemeral;
  }

  /** @internal Derive keys from the SD key of the response; consumes the ephemeral key (single use). */
  deriveWith(sdKey: Uint8Array): { keys: Scp11DerivedKeys; expectedReceipt: Uint8Array } {
    const e = this.#ephemeral;
    if (e === undefined) throw new SecureChannelError('NOT_AUTHENTICATED', 'this SCP11 session was already completed');
    this.#ephemeral = undefined;
    const o = this.#options;
    const pkSd = o.pkSdEcka.point;
    let shS: Uint8Array;
    if (o.variant === '11a') shS = concat(ecka(o.pkSdEcka.curve, e.privateKey, sdKey), ecka(o.pkSdEcka.curve, o.skOceEcka!, pkSd));
    else if (o.variant === '11b') shS = concat(ecka(o.pkSdEcka.curve, e.privateKey, sdKey), ecka(o.pkSdEcka.curve, e.privateKey, pkSd));
    else shS = concat(ecka(o.pkSdEcka.curve, e.privateKey, pkSd), ecka(o.pkSdEcka.curve, o.skOceEcka!, pkSd));
    zeroize(e.privateKey);
    const keys = deriveScp11Keys(shS, this.#info, o.keyLength ?? 16);
    zeroize(shS);
    const expectedReceipt = computeReceipt(keys.receiptKey, this.#crtBytes, this.ePkOce, sdKey);
    zeroize(keys.receiptKey);
    return { keys, expectedReceipt };
  }

  /** @internal */
  channel(keys: Scp11DerivedKeys, receipt: Uint8Array): HostSecureChannel {
    const i = (this.variant === '11a' ? Scp11I.SCP11A : this.variant === '11b' ? Scp11I.SCP11B : Scp11I.SCP11C) | (this.s16 ? Scp11I.S16 : 0);
    const channel = new HostChannel(3, this.kvn, i, this.level, startMessaging(keys, undefined, this.level, this.s16, receipt));
    zeroize(keys.sEnc, keys.sMac, keys.sRmac, keys.sDek);
    return channel;
  }
}

/** Build MUTUAL AUTHENTICATE (11a/11c) or INTERNAL AUTHENTICATE (11b). Caller's mistakes throw TypeError/RangeError. */
export function beginScp11(options: Scp11HostOptions): Scp11HostSession {
  const { variant, pkSdEcka } = options;
  if (variant !== '11a' && variant !== '11b' && variant !== '11c') throw new RangeError(`unknown SCP11 variant ${String(variant)}`);
  if (!isValidPublicKey(pkSdEcka.curve, pkSdEcka.point)) throw new RangeError('pkSdEcka is not a point of its curve');
  if (variant !== '11b') {
    if (options.skOceEcka === undefined) throw new TypeError(`SCP${variant} needs skOceEcka`);
    publicKeyOf(pkSdEcka.curve, options.skOceEcka);
  }
  const kuq = options.keyUsage ?? KeyUsageQualifier.C_MAC_C_DEC_R_MAC_R_ENC;
  const level = levelOfKeyUsage(variant, kuq);
  if (level === undefined) throw new RangeError(`key usage qualifier ${kuq.toString(16)} is not allowed for SCP${variant}`);
  const keyLength = options.keyLength ?? 16;
  if (keyLength !== 16 && keyLength !== 24 && keyLength !== 32) throw new RangeError(`keyLength ${keyLength}`);
  if (!Number.isInteger(options.kvn) || options.kvn < 0 || options.kvn > 0x7f) throw new RangeError('kvn must be 0..7F');
  const kid = options.kid ?? sdKeyKid(variant);
  if (options.kvn === 0 && options.caKlccId === undefined) throw new TypeError('kvn 0 needs caKlccId (§7.6.2.3)');
  if (variant === '11b' && options.caKlccId !== undefined) throw new TypeError('INTERNAL AUTHENTICATE has no CA-KLCC identifier');

  let ids: Uint8Array = new Uint8Array(0);
  if (options.ids !== undefined) {
    const { hostId, sin, sdin, cardGroupId } = options.ids;
    if (variant === '11c') {
      if (cardGroupId === undefined) throw new TypeError('SCP11c with ids needs cardGroupId');
      ids = concat(lv(hostId), lv(cardGroupId));
    } else {
      if (sin === undefined || sdin === undefined) throw new TypeError(`SCP${variant} with ids needs sin and sdin`);
      ids = concat(lv(hostId), lv(sin), lv(sdin));
    }
  }
  const crtBytes = encodeCrt({
    parameters: scpParameters(variant, options.ids !== undefined),
    keyUsage: kuq,
    keyType: KEY_TYPE_AES,
    keyLength,
    ...(options.ids === undefined ? {} : { hostId: options.ids.hostId }),
    ...(options.kvn === 0 && options.caKlccId !== undefined ? { caKlccId: options.caKlccId } : {}),
  });
  const ephemeral = generateKeyPair(pkSdEcka.curve, options.random);
  const data = concat(crtBytes, Uint8Array.of(0x5f, 0x49, ephemeral.publicKey.length), ephemeral.publicKey);
  const command = encodeCommand({
    cla: moveToChannel(0x80, options.logicalChannel ?? 0),
    ins: variant === '11b' ? INS_INTERNAL_AUTHENTICATE : INS_MUTUAL_AUTHENTICATE,
    p1: options.kvn,
    p2: options.kvn === 0 ? 0 : kid,
    data,
    le: 256,
  });
  return new Scp11HostSession(options, command, crtBytes, sharedInfo(kuq, KEY_TYPE_AES, keyLength, ids), ephemeral, level);
}

/**
 * Check the card's response (data + SW) and open the channel. Throws `SecureChannelError`:
 * 'BAD_STATUS' (SW ≠ 9000, `sw` set), 'BAD_RESPONSE' (malformed data, a point not on the curve, SCP11c
 * answering another key than PK.SD.ECKA), 'BAD_CARD_CRYPTOGRAM' (receipt does not verify).
 */
export function completeScp11(session: Scp11HostSession, responseApdu: Uint8Array): HostSecureChannel {
  const { data, sw } = splitResponse(responseApdu);
  if (sw !== 0x9000) throw new SecureChannelError('BAD_STATUS', `${session.variant === '11b' ? 'INTERNAL' : 'MUTUAL'} AUTHENTICATE refused`, sw);
  let parsed: { sdKey: Uint8Array; receipt: Uint8Array };
  try {
    parsed = parseAuthenticateResponse(data);
  } catch (e) {
    if (e instanceof CodecError) throw new SecureChannelError('BAD_RESPONSE', `malformed authenticate response: ${e.message}`, sw, { cause: e });
    throw e;
  }
  if (!isValidPublicKey(session.pkSdEcka.curve, parsed.sdKey)) throw new SecureChannelError('BAD_RESPONSE', 'the SD key in the response is not a point of the curve', sw);
  if (session.variant === '11c' && !equalConstantTime(parsed.sdKey, session.pkSdEcka.point)) {
    throw new SecureChannelError('BAD_RESPONSE', 'SCP11c response does not carry PK.SD.ECKA', sw);
  }
  const { keys, expectedReceipt } = session.deriveWith(parsed.sdKey);
  if (!equalConstantTime(expectedReceipt, parsed.receipt)) {
    zeroize(keys.sEnc, keys.sMac, keys.sRmac, keys.sDek);
    throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', 'receipt does not verify', sw);
  }
  return session.channel(keys, expectedReceipt);
}

/**
 * SCP11c scripting (§2.2, Figure 4-4): the channel (to wrap a script's commands) and the receipt the card
 * will return, computed without the card. Consumes the session like `completeScp11`.
 */
export function scp11cScriptChannel(session: Scp11HostSession): { readonly channel: HostSecureChannel; readonly receipt: Uint8Array } {
  if (session.variant !== '11c') throw new TypeError('scp11cScriptChannel: only SCP11c sessions can be scripted');
  const { keys, expectedReceipt } = session.deriveWith(session.pkSdEcka.point);
  return { channel: session.channel(keys, expectedReceipt), receipt: expectedReceipt };
}
