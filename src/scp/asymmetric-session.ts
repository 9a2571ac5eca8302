/**
 * Opening SCP11 (Amendment F v1.4 §7.5–§7.6) and SCP10 (GPCS 2.2.1 Appendix F) sessions to a Security Domain over
 * a `CardChannel`, in as few scripts as the protocols allow: over OTA every script is one HTTP round trip of the
 * RAM over HTTP admin session, and that is what costs time. The protocol cores stay sans-IO (scp11/handshake.ts,
 * scp10/handshake.ts); this module only sequences them and checks every answer. Both openers return a
 * `SecureSession` on logical channel 0.
 *
 * Scripts (transmitScript calls) per opener:
 *   SCP11a/c, pinned PK.SD.ECKA:  1  SELECT + PSO… + MUTUAL AUTHENTICATE
 *            (SCP11c with `deferAuthentication`: 0 — the same commands travel ahead of the first batch)
 *   SCP11a/c, trust anchor:       2  SELECT + GET DATA 'BF21' | PSO… + MUTUAL AUTHENTICATE
 *            (SCP11c with `deferAuthentication`: 1)
 *   SCP10, pinned PK.SD.AUT:      2  SELECT + MSE + PSO verify… [+ PSO decipher] + GET CHALLENGE | EXTERNAL + INTERNAL AUTHENTICATE
 *   SCP10 i=01, trust point:      2  SELECT + GET DATA '7F21' + MSE + PSO verify… + GET CHALLENGE | EXTERNAL + INTERNAL AUTHENTICATE
 *   SCP10 i=02, trust point:      3  SELECT + GET DATA '7F21' + MSE + PSO verify… | PSO decipher + GET CHALLENGE | EXTERNAL + INTERNAL AUTHENTICATE
 *     (the decipher command is encrypted with PK.SD.AUT, known only once CERT.SD.AUT is verified)
 *
 * Errors: a refused SELECT → `ApduError('STATUS')` with the SW; any other refusal → `SecureChannelError('BAD_STATUS')`
 * with the card's SW; a card that is not the pinned / certified one → 'BAD_CARD_CRYPTOGRAM' (SCP11: receipt or
 * PK.SD.ECKA; SCP10 i=02: PSO decipher answered 6A80, SW kept; i=01 cannot tell: EXTERNAL AUTHENTICATE 6300 stays
 * 'BAD_STATUS'; any certificate that does not verify); malformed answers → 'BAD_RESPONSE'. Messages never carry key material. A caller's mistake throws `TypeError`/`RangeError` before any I/O.
 */
import type { KeyObject } from 'node:crypto';
import { assertBytes, equalConstantTime } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import { transmitScript, type CardChannel } from '../apdu/channel.ts';
import { encodeCommand } from '../apdu/command.ts';
import { ApduError } from '../apdu/errors.ts';
import { systemRandom, type RandomSource } from '../crypto/random.ts';
import { GpError } from '../gp/errors.ts';
import { buildGetCertificates, parseCertificateStore } from '../gp/asymmetric-keys.ts';
import { buildSelect } from '../gp/select.ts';
import { SecureChannelError } from './errors.ts';
import { splitResponse } from './messaging.ts';
import { SecureSession, type PendingAuthentication, type SessionObserver } from './secure-session.ts';
import { publicKeyOf, type CurveName, type EcPublicKey } from '../crypto/index.ts';
import { CertificateError, parseCertificate, parseCertificates, verifyChain } from './scp11/certificate.ts';
import { beginScp11, buildPerformSecurityOperations, completeScp11, scp11cScriptChannel, type Scp11HostSession } from './scp11/handshake.ts';
import { KeyUsageQualifier, levelOfKeyUsage, parseAuthenticateResponse } from './scp11/protocol.ts';
import {
  beginInitiation,
  buildExternalAuthenticate,
  buildGetCardCertificate,
  buildGetChallenge,
  buildInternalAuthenticate,
  buildManageSecurityEnvironment,
  buildVerifyCertificate,
  createKeyAgreementChannel,
  createKeyTransportChannel,
  verifyCardCertificate,
  type Scp10HostInitiation,
} from './scp10/handshake.ts';
import type { TrustedKey } from './scp10/certificate.ts';

// ---------------------------------------------------------------------------------------------------------
// Script steps: a command, what it is, and how its answer is checked.

interface Step {
  readonly command: Uint8Array;
  readonly name: string;
  /** SELECT: a refusal is an `ApduError`; 6283 (card locked) is accepted. */
  readonly select?: boolean;
  /** A status word that means "not the card whose public key was used": 'BAD_CARD_CRYPTOGRAM' (SW kept). */
  readonly notThisCard?: number;
}

function sw(r: Uint8Array): number {
  return r.length < 2 ? 0 : (r[r.length - 2]! << 8) | r[r.length - 1]!;
}

/** Check the answers of `steps` in order (a script stops at the first error: later answers are missing). */
function checkSteps(steps: readonly Step[], responses: readonly Uint8Array[]): void {
  steps.forEach((s, n) => {
    const r = responses[n];
    if (r === undefined) throw new SecureChannelError('BAD_RESPONSE', `${s.name}: the script stopped before it`);
    const w = sw(r);
    if (s.select === true) {
      if (w !== 0x9000 && w !== 0x6283) throw new ApduError('STATUS', w, 0xa4, 'SELECT of the security domain failed');
      return;
    }
    if (w === s.notThisCard) throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', `${s.name} refused: the SD does not hold the private key of the PK.SD.AUT used`, w);
    if (w !== 0x9000) throw new SecureChannelError('BAD_STATUS', `${s.name} refused`, w);
  });
}

async function runScript(transport: CardChannel, steps: readonly Step[], observer: SessionObserver): Promise<Uint8Array[]> {
  const commands = steps.map((s) => s.command);
  const responses = await transmitScript(transport, commands);
  commands.forEach((c, n) => {
    observer.wireCommand?.(c);
    if (responses[n] !== undefined) observer.wireResponse?.(responses[n]);
  });
  checkSteps(steps, responses);
  return responses;
}

function dataOf(r: Uint8Array): Uint8Array {
  return r.subarray(0, r.length - 2);
}

function selectStep(sdAid: Uint8Array): Step {
  if (!(sdAid instanceof Uint8Array) || sdAid.length < 5 || sdAid.length > 16) throw new RangeError('sdAid: 5..16 bytes');
  return { command: encodeCommand(buildSelect(sdAid)), name: 'SELECT', select: true };
}

// ---------------------------------------------------------------------------------------------------------
// SCP11a / SCP11c

export interface Scp11SessionOptions {
  readonly sdAid: Uint8Array;
  readonly variant: '11a' | '11c';
  /** Security level (SCP03 bits): 11 or 33; SCP11c also 03 and 13. */
  readonly level: number;
  /** SK.SD.ECKA: KVN and KID ('11' for SCP11a, '15' for SCP11c). */
  readonly sdKey: { readonly kvn: number; readonly kid: number };
  /** PK.CA-KLOC.ECDSA on the card that verifies the first OCE certificate. */
  readonly caKloc: { readonly kvn: number; readonly kid: number };
  /** CERT.KA-KLOC… then CERT.OCE.ECKA, each a whole '7F21' TLV or an X.509 certificate (DER). */
  readonly oceCertificates: readonly Uint8Array[];
  /** SK.OCE.ECKA (the scalar), whose public key CERT.OCE.ECKA certifies. */
  readonly ocePrivateKey: Uint8Array;
  readonly curve: CurveName;
  /** PK.SD.ECKA pinned (received out of band), or PK.CA-KLCC.ECDSA that certified CERT.SD.ECKA. */
  readonly card: { readonly publicKey: EcPublicKey } | { readonly trustAnchor: EcPublicKey };
  readonly random?: RandomSource;
  /** SCP11c only: send the opening commands with the first batch of the session (no script of its own). */
  readonly deferAuthentication?: boolean;
  /** 'YYYYMMDD': check the dates of CERT.SD.ECKA's chain (trust anchor mode). */
  readonly today?: string;
  readonly observer?: SessionObserver;
}

const SCP11_LEVELS: Readonly<Record<number, number>> = {
  0x11: KeyUsageQualifier.C_MAC_R_MAC,
  0x33: KeyUsageQualifier.C_MAC_C_DEC_R_MAC_R_ENC,
  0x03: KeyUsageQualifier.C_MAC_C_DEC,
  0x13: KeyUsageQualifier.C_MAC_C_DEC_R_MAC,
};

/** The Key Usage Qualifier asking for `level`; RangeError when the variant cannot run at that level. */
function keyUsageFor(variant: '11a' | '11c', level: number): number {
  const kuq = SCP11_LEVELS[level];
  if (kuq === undefined || levelOfKeyUsage(variant, kuq) !== level) {
    throw new RangeError(`security level ${level.toString(16)} is not available with SCP${variant} (11, 33${variant === '11c' ? ', 03, 13' : ''})`);
  }
  return kuq;
}

function keyRef(k: { kvn: number; kid: number }, what: string): void {
  if (!Number.isInteger(k.kvn) || k.kvn < 1 || k.kvn > 0x7f) throw new RangeError(`${what}.kvn: 01..7F`);
  if (!Number.isInteger(k.kid) || k.kid < 0 || k.kid > 0x7f) throw new RangeError(`${what}.kid: 00..7F`);
}

/** CERT.SD.ECKA chain from GET DATA 'BF21', verified against the trust anchor → PK.SD.ECKA. */
function cardKeyFromStore(data: Uint8Array, anchor: EcPublicKey, curve: CurveName, today: string | undefined): EcPublicKey {
  let leaf;
  try {
    leaf = verifyChain(parseCertificates(parseCertificateStore(data)), anchor, today === undefined ? {} : { today });
  } catch (e) {
    if (e instanceof CertificateError) throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', `CERT.SD.ECKA does not verify against the trust anchor: ${e.code}`, undefined, { cause: e });
    if (e instanceof CodecError || e instanceof GpError) throw new SecureChannelError('BAD_RESPONSE', 'malformed certificate store', undefined, { cause: e });
    throw e;
  }
  if (leaf.publicKey.curve !== curve) throw new SecureChannelError('BAD_RESPONSE', `CERT.SD.ECKA is not on ${curve}`);
  return leaf.publicKey;
}

/** SCP11c: the card answers PK.SD.ECKA itself — another key means another card. */
function checkScp11cKey(answer: Uint8Array, pkSd: EcPublicKey): void {
  const { data, sw: w } = splitResponse(answer);
  if (w !== 0x9000) throw new SecureChannelError('BAD_STATUS', 'MUTUAL AUTHENTICATE refused', w);
  let sdKey: Uint8Array;
  try {
    sdKey = parseAuthenticateResponse(data).sdKey;
  } catch (e) {
    if (e instanceof CodecError) throw new SecureChannelError('BAD_RESPONSE', `malformed authenticate response: ${e.message}`, w, { cause: e });
    throw e;
  }
  if (!equalConstantTime(sdKey, pkSd.point)) throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', 'the card answered with another PK.SD.ECKA than the expected one', w);
}

/** SCP11c deferred: MUTUAL AUTHENTICATE's answer against the receipt computed in advance. */
function checkScp11cReceipt(answer: Uint8Array, pkSd: EcPublicKey, receipt: Uint8Array): void {
  checkScp11cKey(answer, pkSd);
  const { data } = splitResponse(answer);
  if (!equalConstantTime(parseAuthenticateResponse(data).receipt, receipt)) throw new SecureChannelError('BAD_CARD_CRYPTOGRAM', 'receipt does not verify', 0x9000);
}

/**
 * Open SCP11a or SCP11c to the SD `sdAid` (see the module header for the scripts). With `card.publicKey` the
 * card must hold the matching SK.SD.ECKA (else the receipt fails: 'BAD_CARD_CRYPTOGRAM'); with
 * `card.trustAnchor` the chain the SD stores for `sdKey` is read (GET DATA 'BF21') and verified first.
 */
export async function openScp11Session(transport: CardChannel, o: Scp11SessionOptions): Promise<SecureSession> {
  const { variant, curve } = o;
  if (variant !== '11a' && variant !== '11c') throw new RangeError(`SCP11 variant ${String(variant)}: 11a or 11c`);
  const keyUsage = keyUsageFor(variant, o.level);
  keyRef(o.sdKey, 'sdKey');
  keyRef(o.caKloc, 'caKloc');
  if (o.deferAuthentication === true && variant !== '11c') throw new TypeError('only SCP11c can defer its authentication: SCP11a keys need the card answer');
  const pinned = 'publicKey' in o.card ? o.card.publicKey : undefined;
  const anchor = 'trustAnchor' in o.card ? o.card.trustAnchor : undefined;
  if ((pinned ?? anchor)?.curve !== curve) throw new RangeError(`the card key is not on ${curve}`);
  if (o.oceCertificates.length === 0) throw new RangeError('oceCertificates: at least CERT.OCE.ECKA');
  // CERT.OCE.ECKA must certify SK.OCE.ECKA's public key (caller's mistake otherwise).
  let oceLeaf;
  try {
    oceLeaf = parseCertificate(o.oceCertificates[o.oceCertificates.length - 1]!);
  } catch (e) {
    throw new TypeError("CERT.OCE.ECKA is neither a GP '7F21' nor an X.509 certificate", { cause: e });
  }
  if (oceLeaf.publicKey.curve !== curve || !equalConstantTime(oceLeaf.publicKey.point, publicKeyOf(curve, o.ocePrivateKey))) {
    throw new TypeError('CERT.OCE.ECKA does not certify the public key of ocePrivateKey');
  }
  const observer = o.observer ?? {};
  const select = selectStep(o.sdAid);
  const psos: Step[] = buildPerformSecurityOperations(o.oceCertificates, o.caKloc).map((command) => ({ command, name: 'PERFORM SECURITY OPERATION' }));

  let ahead: Step[] = [select];
  let pkSd: EcPublicKey;
  if (anchor !== undefined) {
    const get: Step = { command: encodeCommand(buildGetCertificates({ kid: o.sdKey.kid, kvn: o.sdKey.kvn })), name: "GET DATA 'BF21'" };
    const [, certs] = await runScript(transport, [select, get], observer);
    pkSd = cardKeyFromStore(dataOf(certs!), anchor, curve, o.today);
    ahead = [];
  } else {
    pkSd = pinned!;
  }
  const session: Scp11HostSession = beginScp11({
    variant,
    pkSdEcka: pkSd,
    kvn: o.sdKey.kvn,
    kid: o.sdKey.kid,
    skOceEcka: o.ocePrivateKey,
    keyUsage,
    ...(o.random === undefined ? {} : { random: o.random }),
  });
  const steps = [...ahead, ...psos];
  const commands = [...steps.map((s) => s.command), session.command];

  if (o.deferAuthentication === true) {
    const { channel, receipt } = scp11cScriptChannel(session);
    const pending: PendingAuthentication = {
      commands,
      check(responses) {
        checkSteps(steps, responses);
        const answer = responses[steps.length];
        if (answer === undefined) throw new SecureChannelError('BAD_RESPONSE', 'MUTUAL AUTHENTICATE: the script stopped before it');
        checkScp11cReceipt(answer, pkSd, receipt);
      },
    };
    return new SecureSession(transport, channel, observer, pending);
  }

  const responses = await runScript(transport, [...steps, { command: session.command, name: 'MUTUAL AUTHENTICATE' }], observer);
  const answer = responses[steps.length]!;
  if (variant === '11c') checkScp11cKey(answer, pkSd);
  return new SecureSession(transport, completeScp11(session, answer), observer);
}

// ---------------------------------------------------------------------------------------------------------
// SCP10

export interface Scp10SessionOptions {
  readonly sdAid: Uint8Array;
  /** '01' key agreement (ISO 9796-2 with recovery) or '02' key transport (PKCS#1). */
  readonly i: 1 | 2;
  /** Security level bits 01 02 10 20. */
  readonly level: number;
  /** Chain from PK.TP_EX.AUT down to CERT.OCE.AUT, each a whole '7F21' TLV. */
  readonly oceCertificates: readonly Uint8Array[];
  /** SK.OCE.AUT. */
  readonly ocePrivateKey: KeyObject;
  /** OCE id: the subject id of CERT.OCE.AUT (8 bytes). */
  readonly oceId: Uint8Array;
  /** PK.SD.AUT and the card id pinned (received out of band), or PK.TP_IN.AUT that certified CERT.SD.AUT. */
  readonly card: { readonly publicKey: KeyObject; readonly id: Uint8Array } | { readonly trustPoint: TrustedKey };
  readonly random?: RandomSource;
  readonly observer?: SessionObserver;
}

/** Verify CERT.SD.AUT (GET DATA '7F21' answer) → PK.SD.AUT and the card id; the host's view of the errors. */
function cardFromCertificate(data: Uint8Array, trustPoint: TrustedKey): { subjectId: Uint8Array; publicKey: KeyObject } {
  try {
    const cert = verifyCardCertificate(data, trustPoint);
    return { subjectId: cert.subjectId, publicKey: cert.publicKey };
  } catch (e) {
    if (e instanceof SecureChannelError) {
      const code = e.code === 'BAD_HOST_CRYPTOGRAM' ? 'BAD_CARD_CRYPTOGRAM' : 'BAD_RESPONSE';
      throw new SecureChannelError(code, code === 'BAD_CARD_CRYPTOGRAM' ? 'CERT.SD.AUT does not verify against the trust point' : 'malformed CERT.SD.AUT', undefined, { cause: e });
    }
    throw e;
  }
}

/**
 * Open SCP10 (i = 01 or 02) to the SD `sdAid`, authenticating the card in both options (INTERNAL AUTHENTICATE;
 * for i=02 the SD's PKCS#1 signature over the session keys is verified, 'BAD_CARD_CRYPTOGRAM' otherwise).
 */
export async function openScp10Session(transport: CardChannel, o: Scp10SessionOptions): Promise<SecureSession> {
  if (o.i !== 1 && o.i !== 2) throw new RangeError(`SCP10 i=${String(o.i)}: 1 or 2`);
  assertBytes(o.oceId, 8, 'oceId');
  if (o.oceCertificates.length === 0) throw new RangeError('oceCertificates: at least CERT.OCE.AUT');
  const random = o.random ?? systemRandom;
  const observer = o.observer ?? {};
  // Separate C-MAC / R-MAC keys: the session's batches are wrapped ahead of their responses (one script each).
  const base = { i: o.i, level: o.level, oceId: o.oceId, ocePrivateKey: o.ocePrivateKey, random, separateMacKeys: true };
  const select = selectStep(o.sdAid);
  const mse: Step = { command: buildManageSecurityEnvironment({ i: o.i }), name: 'MANAGE SECURITY ENVIRONMENT' };
  const verifies: Step[] = o.oceCertificates.map((c) => ({ command: buildVerifyCertificate(c), name: 'PERFORM SECURITY OPERATION [verify certificate]' }));
  const challenge: Step = { command: buildGetChallenge(), name: 'GET CHALLENGE' };
  const decipherOf = (init: Scp10HostInitiation): Step[] => (init.decipherCommand === undefined ? [] : [{ command: init.decipherCommand, name: 'PERFORM SECURITY OPERATION [decipher]', notThisCard: 0x6a80 }]);

  let init: Scp10HostInitiation;
  let cardChallenge: Uint8Array;
  if ('trustPoint' in o.card) {
    const trustPoint = o.card.trustPoint;
    const get: Step = { command: buildGetCardCertificate(), name: "GET DATA '7F21'" };
    const first = [select, get, mse, ...verifies, ...(o.i === 1 ? [challenge] : [])];
    const rs = await runScript(transport, first, observer);
    // CERT.SD.AUT is verified before anything is signed or encrypted for the card.
    init = beginInitiation({ ...base, card: cardFromCertificate(dataOf(rs[1]!), trustPoint) });
    if (o.i === 1) cardChallenge = dataOf(rs[first.length - 1]!);
    else {
      const second = [...decipherOf(init), challenge];
      cardChallenge = dataOf((await runScript(transport, second, observer))[second.length - 1]!);
    }
  } else {
    assertBytes(o.card.id, 8, 'card.id');
    init = beginInitiation({ ...base, card: { subjectId: o.card.id, publicKey: o.card.publicKey } });
    const first = [select, mse, ...verifies, ...decipherOf(init), challenge];
    cardChallenge = dataOf((await runScript(transport, first, observer))[first.length - 1]!);
  }
  if (cardChallenge.length !== (o.i === 2 ? 16 : 8)) throw new SecureChannelError('BAD_RESPONSE', `GET CHALLENGE answered ${cardChallenge.length} bytes`);
  const oceChallenge = random(o.i === 2 ? 16 : 8);
  const [, internal] = await runScript(
    transport,
    [
      { command: buildExternalAuthenticate(init, cardChallenge), name: 'EXTERNAL AUTHENTICATE' },
      { command: buildInternalAuthenticate(init, oceChallenge), name: 'INTERNAL AUTHENTICATE' },
    ],
    observer,
  );
  const answer = dataOf(internal!);
  const channel = o.i === 2 ? createKeyTransportChannel(init, { challenge: oceChallenge, signature: answer }) : createKeyAgreementChannel(init, oceChallenge, answer);
  return new SecureSession(transport, channel, observer);
}
