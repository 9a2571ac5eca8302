/**
 * SCP10 host (Off-Card Entity) side, sans-IO builders and checks (GPCS 2.2.1 Appendix F):
 *   1. MANAGE SECURITY ENVIRONMENT (F.4.5, Table F-27/F-29): '00 22 C1 B6' '80 02 10 i' [‘83’ pk ref] [‘84’ sk ref].
 *   2. PERFORM SECURITY OPERATION [verify certificate] (F.4.7, Table F-34): '00 2A 00 BE' cert — one per
 *      certificate of the chain from PK.TP_EX.AUT down to CERT.OCE.AUT (extended length, no chaining).
 *   3. GET DATA [certificate] (F.4.3): '80 CA 7F 21 00' → CERT.SD.AUT, verified by `verifyCertificate` against
 *      PK.TP_IN.AUT (the host's trust point) — gives PK.SD.AUT and the card id.
 *   4. i = '02' key transport: PERFORM SECURITY OPERATION [decipher] (F.4.6, Table F-32) '00 2A 80 84'
 *      RSAES-PKCS1-v1_5(PK.SD.AUT, 'D3 01' level ‖ CRTs with keys).
 *   5. GET CHALLENGE (F.4.2): '00 84 00 00 00' → 8 (i=01) or 16 (i=02) bytes.
 *   6. EXTERNAL AUTHENTICATE (F.4.1, F.1.4.4): '00 82 00 00'
 *      i=02: RSASSA-PKCS1-v1_5/SHA-1 by SK.OCE.AUT over session data ‖ card challenge (Tables F-7, F-8);
 *      i=01: ISO 9796-2 signature over RPD ‖ 'D3 01' level ‖ CRTs (no keys) ‖ OES ‖ card challenge ‖ card id,
 *            recoverable part RPD ‖ level ‖ CRTs ‖ OES (Tables F-9, F-10), min(s, n−s) encrypted with PK.SD.AUT.
 *   7. INTERNAL AUTHENTICATE (F.4.4): '00 88 00 00' OCE challenge (8 | 16) ‖ OCE id, Le '00';
 *      i=02 answer: PKCS#1 signature over session keys ‖ OCE challenge (Tables F-3, F-4), optional;
 *      i=01 answer: ISO 9796-2 over RP ‖ CS ‖ OCE challenge ‖ OCE id (Tables F-5, F-6), encrypted with
 *      PK.OCE.AUT; mandatory — session keys come from OES ⊕ CS (F.3.1.3).
 * Ambiguities and choices: the random padding RPD/RP fills the block exactly (its length follows from the
 * modulus); Table F-32 draws '0002 FF…FF 00' but F.2.1 mandates RSAES-PKCS1-v1_5, so random non-zero padding is
 * used; EXTERNAL AUTHENTICATE failures answer 6300 (Table F-17 names 6300 for a failed verification).
 */
import type { KeyObject } from 'node:crypto';
import { assertBytes, concat, equalConstantTime } from '../../core/bytes.ts';
import { encodeCommand } from '../../apdu/command.ts';
import type { RandomSource } from '../../crypto/random.ts';
import { SecureChannelError } from '../errors.ts';
import { encodeTlv } from '../../core/tlv.ts';
import { scp10HostChannel, type Scp10HostChannel } from './channel.ts';
import { verifyCertificate, type Scp10Certificate, type TrustedKey } from './certificate.ts';
import { agreedKeys, CRT_CCT, CRT_CT, defaultCrts, encodeCrt, encodeSessionData, KeyUsage, levelServed, transportedKeys, type Crt, type SessionData } from './keys.ts';
import { encryptPkcs1, modulusLength, openEncryptedSignature, sealSignature, signPkcs1, verifyPkcs1 } from '../../crypto/index.ts';
import { LEVEL_R_MAC, Scp10SecureMessaging } from './wrap.ts';

export const OPTION_KEY_AGREEMENT = 0x01;
export const OPTION_KEY_TRANSPORT = 0x02;

export interface MseOptions {
  readonly i: number;
  /** P1 'C1' (mutual, default) or '81' (external only). */
  readonly mutual?: boolean;
  /** P2 'B6' (card verifies certificates, default) or 'A4'. */
  readonly verifyCertificates?: boolean;
  readonly publicKeyRef?: Uint8Array;
  readonly privateKeyRef?: Uint8Array;
}

export function buildManageSecurityEnvironment(o: MseOptions): Uint8Array {
  if (o.i !== OPTION_KEY_AGREEMENT && o.i !== OPTION_KEY_TRANSPORT) throw new RangeError(`SCP10 i=${o.i} is not supported (01 or 02)`);
  const data = concat(encodeTlv(0x80, Uint8Array.of(0x10, o.i)), o.publicKeyRef ? encodeTlv(0x83, o.publicKeyRef) : new Uint8Array(0), o.privateKeyRef ? encodeTlv(0x84, o.privateKeyRef) : new Uint8Array(0));
  return encodeCommand({ cla: 0x00, ins: 0x22, p1: o.mutual === false ? 0x81 : 0xc1, p2: o.verifyCertificates === false ? 0xa4 : 0xb6, data });
}

export function buildVerifyCertificate(certificate: Uint8Array): Uint8Array {
  assertBytes(certificate, { min: 4, max: 65535 }, 'certificate');
  return encodeCommand({ cla: 0x00, ins: 0x2a, p1: 0x00, p2: 0xbe, data: certificate, ...(certificate.length > 255 ? { extended: true } : {}) });
}

export function buildGetCardCertificate(): Uint8Array {
  return encodeCommand({ cla: 0x80, ins: 0xca, p1: 0x7f, p2: 0x21, data: new Uint8Array(0), le: 65536, extended: true });
}

export function buildGetChallenge(): Uint8Array {
  return encodeCommand({ cla: 0x00, ins: 0x84, p1: 0, p2: 0, data: new Uint8Array(0), le: 256 });
}

/** Verify the card's certificate (GET DATA response data) against the host's trust point PK.TP_IN.AUT. */
export function verifyCardCertificate(data: Uint8Array, trustPointIn: TrustedKey): Scp10Certificate {
  return verifyCertificate(data, trustPointIn);
}

/** What the host holds for one initiation. */
export interface Scp10HostParams {
  readonly i: number;
  readonly level: number;
  readonly oceId: Uint8Array;
  readonly ocePrivateKey: KeyObject;
  /** PK.SD.AUT and the card id: from the verified CERT.SD.AUT (a `Scp10Certificate` fits), or received out of band. */
  readonly card: { readonly subjectId: Uint8Array; readonly publicKey: KeyObject };
  readonly random: RandomSource;
  /**
   * Propose C-MAC and R-MAC under separate keys (two 'B4' CRTs, usage '10' and '20') when the level has R-MAC.
   * With one MAC key for both, its single ICV counter advances on every response, so a command cannot be
   * wrapped before the previous response was checked; with two, a script of several commands can be wrapped
   * ahead (SecureSession.transmitBatch). RSA-1024 key transport still fits (115 of 117 bytes).
   */
  readonly separateMacKeys?: boolean;
}

/** One MAC key per direction, one ENC key, one DEK (with keys and counters for key transport). */
function separateMacCrts(random: RandomSource, withKeys: boolean): Crt[] {
  const k = (c: Crt): Crt => (withKeys ? { ...c, key: random(16), ...(c.tag === CRT_CCT ? { counter: random(8) } : {}) } : c);
  return [
    k({ tag: CRT_CCT, usage: KeyUsage.COMMANDS }),
    k({ tag: CRT_CCT, usage: KeyUsage.RESPONSES }),
    k({ tag: CRT_CT, usage: KeyUsage.BOTH }),
    k({ tag: CRT_CT, usage: KeyUsage.SENSITIVE_BOTH }),
  ];
}

export interface Scp10HostInitiation {
  readonly params: Scp10HostParams;
  readonly session: SessionData;
  /** i=02: the PERFORM SECURITY OPERATION [decipher] command; undefined for i=01. */
  readonly decipherCommand: Uint8Array | undefined;
  /** i=01: the Off-Card Entity secret. */
  readonly oes: Uint8Array | undefined;
}

/** Choose the session keys (i=02) or CRTs (i=01) for `level`; RangeError when the level has other bits than 01 02 10 20. */
export function beginInitiation(params: Scp10HostParams): Scp10HostInitiation {
  assertBytes(params.oceId, 8, 'oceId');
  const transport = params.i === OPTION_KEY_TRANSPORT;
  if (!transport && params.i !== OPTION_KEY_AGREEMENT) throw new RangeError(`SCP10 i=${params.i} is not supported`);
  assertBytes(params.card.subjectId, 8, 'card.subjectId');
  const separate = params.separateMacKeys === true && (params.level & LEVEL_R_MAC) !== 0;
  const session: SessionData = { level: params.level, crts: separate ? separateMacCrts(params.random, transport) : defaultCrts(params.random, transport) };
  if (!levelServed(session)) throw new RangeError(`security level ${params.level.toString(16)} is not an SCP10 level (bits 01 02 10 20)`);
  const decipherCommand = transport
    ? encodeCommand({ cla: 0x00, ins: 0x2a, p1: 0x80, p2: 0x84, data: encryptPkcs1(params.card.publicKey, encodeSessionData(session)), ...(modulusLength(params.card.publicKey) > 255 ? { extended: true } : {}) })
    : undefined;
  return Object.freeze({ params, session, decipherCommand, oes: transport ? undefined : params.random(32) });
}

export function buildExternalAuthenticate(init: Scp10HostInitiation, cardChallenge: Uint8Array): Uint8Array {
  const { params, session } = init;
  let data: Uint8Array;
  if (params.i === OPTION_KEY_TRANSPORT) {
    assertBytes(cardChallenge, 16, 'cardChallenge');
    data = signPkcs1(params.ocePrivateKey, concat(encodeSessionData(session), cardChallenge));
  } else {
    assertBytes(cardChallenge, 8, 'cardChallenge');
    const k = modulusLength(params.ocePrivateKey);
    const fixed = concat(encodeSessionData({ level: session.level, crts: [] }), ...session.crts.map(encodeCrt), init.oes!);
    const rpd = params.random(k - 22 - fixed.length);
    data = sealSignature(params.ocePrivateKey, params.card.publicKey, concat(rpd, fixed), concat(cardChallenge, params.card.subjectId));
  }
  return encodeCommand({ cla: 0x00, ins: 0x82, p1: 0, p2: 0, data, ...(data.length > 255 ? { extended: true } : {}) });
}

export function buildInternalAuthenticate(init: Scp10HostInitiation, oceChallenge: Uint8Array): Uint8Array {
  assertBytes(oceChallenge, init.params.i === OPTION_KEY_TRANSPORT ? 16 : 8, 'oceChallenge');
  return encodeCommand({ cla: 0x00, ins: 0x88, p1: 0, p2: 0, data: concat(oceChallenge, init.params.oceId), le: 65536, extended: true });
}

/**
 * i=02: the channel once EXTERNAL AUTHENTICATE answered 9000. Pass the INTERNAL AUTHENTICATE response data (and
 * the challenge) to authenticate the card as well — a bad card signature throws 'BAD_CARD_CRYPTOGRAM'.
 */
export function createKeyTransportChannel(init: Scp10HostInitiation, internal?: { challenge: Uint8Array; signature: Uint8Array }): Scp10HostChannel {
  if (init.params.i !== OPTION_KEY_TRANSPORT) throw new TypeError('not a key transport initiation');
  if (internal !== undefined) {
    const keys = concat(...init.session.crts.map((c) => c.key!));
    if (!verifyPkcs1(init.params.card.publicKey, concat(keys, internal.challenge), internal.signature)) {
      throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', 'Security Domain signature (INTERNAL AUTHENTICATE) does not verify');
    }
  }
  return scp10HostChannel(init.params.i, init.session.level, new Scp10SecureMessaging(transportedKeys(init.session), init.session.level));
}

/** i=01: open the encrypted card signature of INTERNAL AUTHENTICATE, recover CS and derive the session keys. */
export function createKeyAgreementChannel(init: Scp10HostInitiation, oceChallenge: Uint8Array, responseData: Uint8Array): Scp10HostChannel {
  if (init.params.i !== OPTION_KEY_AGREEMENT) throw new TypeError('not a key agreement initiation');
  const m1 = openEncryptedSignature(init.params.ocePrivateKey, init.params.card.publicKey, responseData, concat(oceChallenge, init.params.oceId));
  if (m1 === null || m1.length < 33) throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', 'Security Domain signature (INTERNAL AUTHENTICATE) does not verify');
  const cs = m1.slice(m1.length - 32);
  const keys = agreedKeys(init.session, cs, init.oes!);
  cs.fill(0);
  return scp10HostChannel(init.params.i, init.session.level, new Scp10SecureMessaging(keys, init.session.level));
}

/** Constant-time id comparison helper for callers. */
export const sameId = equalConstantTime;
