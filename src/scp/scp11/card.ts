/**
 * SCP11, the card's side (Amendment F v1.4 §7.5–§7.7, §4.8), sans-IO: PERFORM SECURITY OPERATION (OCE
 * certificate chains verified against PK.CA-KLOC.ECDSA, optional allowlist), MUTUAL AUTHENTICATE (11a, 11c)
 * and INTERNAL AUTHENTICATE (11b) with the static SK.SD.ECKA, the receipt, and a `CardSecureChannel` with
 * SCP03 secure messaging chained from the receipt (§5.3.2).
 *
 * Status words: Table 7-13 (PSO: 6600 verification failed — bad signature, key usage, curve or date; 6640 not
 * in allowlist; 6A80 incorrect data; 6A81 'BF20' not supported; 6A86 chains not supported; 6A88 PK.CA-KLOC
 * not found), Tables 7-19 / 7-23 (6A80 incorrect data, 6A88 SK.SD.ECKA / PK.OCE / SIN / SDIN not found,
 * 6985 no PK.OCE.ECKA provided), GPCS §11.1.3 (6700 length, 6E00 CLA, 6D00 INS, 6A86 P1/P2).
 * Implementation choice (not in the spec): an ePK.OCE.ECKA seen in one of the last `replayWindow`
 * authenticate commands is refused with 6A80 — this blocks replay of an SCP11c MUTUAL AUTHENTICATE.
 */
import { concat, equalBytes, zeroize } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { createHash } from 'node:crypto';
import type { RandomSource } from '../../crypto/random.ts';
import type { CardSecureChannel } from '../channel.ts';
import { decodeOrNull } from '../card-checks.ts';
import { SW } from '../errors.ts';
import { joinResponse, swOnly } from '../messaging.ts';
import { CardChannel } from '../session.ts';
import {
  checkDates,
  KEY_USAGE_KEY_AGREEMENT,
  KEY_USAGE_SIGNATURE,
  namesChain,
  parseCertificate,
  verifyCertificateSignature,
  type GpCertificate,
} from './certificate.ts';
import { ecka, generateKeyPair, isValidPublicKey, publicKeyOf, type CurveName, type EcPublicKey } from '../../crypto/index.ts';
import { deriveScp11Keys, lv, sharedInfo } from './kdf.ts';
import {
  ANY_AUTHENTICATED,
  AUTHENTICATED,
  computeReceipt,
  encodeAuthenticateResponse,
  INS_INTERNAL_AUTHENTICATE,
  INS_MUTUAL_AUTHENTICATE,
  INS_PERFORM_SECURITY_OPERATION,
  KEY_TYPE_AES,
  levelOfKeyUsage,
  parseAuthenticateData,
  Scp11I,
  SCP11_ID,
  sdKeyKid,
  startMessaging,
  variantOfParameters,
  type Scp11Variant,
} from './protocol.ts';

export const SW_SCP11 = Object.freeze({
  CERTIFICATE_VERIFICATION_FAILED: 0x6600,
  CERTIFICATE_NOT_IN_ALLOWLIST: 0x6640,
  INCORRECT_DATA: 0x6a80,
  AUTHORIZATIONS_NOT_SUPPORTED: 0x6a81,
  CHAINS_NOT_SUPPORTED: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  CONDITIONS_NOT_SATISFIED: 0x6985,
} as const);

/** A static SK.SD.ECKA with its KID/KVN (KID '11', '13', '15'), optional Key-DEK and CERT.SD.ECKA. */
export interface Scp11SdKey {
  readonly kvn: number;
  readonly kid: number;
  readonly curve: CurveName;
  readonly privateKey: Uint8Array;
  /** Static Key-DEK of the same KVN (KID '12', '14', '16'); S-DEK is used when absent. */
  readonly dek?: Uint8Array;
  /** CERT.SD.ECKA: its subject identifier is the Card Group ID of SCP11c key derivation. */
  readonly certificate?: GpCertificate;
  /** CA-KLCC identifier mapped to this key (§7.10), for MUTUAL AUTHENTICATE with P1 = 0. */
  readonly caKlccId?: Uint8Array;
}

/** PK.CA-KLOC.ECDSA (KID '10' or '20'–'2F') with its CA identifier and allowlist (§7.9). */
export interface Scp11TrustAnchor {
  readonly kvn: number;
  readonly kid: number;
  readonly publicKey: EcPublicKey;
  readonly caId?: Uint8Array;
  readonly allowlist?: readonly Uint8Array[];
}

export interface Scp11CardConfig {
  /** SCP11 "i" parameter, byte 1 (Table 4-1). */
  readonly i: number;
  readonly sdKeys: readonly Scp11SdKey[];
  readonly trustAnchors: readonly Scp11TrustAnchor[];
  /** Application Provider Identifier of the SD ('5F20' in INSTALL): the owner gets AUTHENTICATED. */
  readonly ownerId?: Uint8Array;
  /** SIN and SDIN for key derivation with Host and Card IDs (SCP11a/b). */
  readonly sin?: Uint8Array;
  readonly sdin?: Uint8Array;
  /** 'YYYYMMDD' for certificate date checks; dates are not checked when absent. */
  readonly today?: () => string;
  /** Randomness for eSK.SD.ECKA (replayable transcripts); OpenSSL's generator when absent. */
  readonly random?: RandomSource;
  /** How many recent ePK.OCE.ECKA are remembered and refused again (default 32; 0 = off). */
  readonly replayWindow?: number;
}

export interface Scp11AuthenticateResult {
  /** Response APDU (data + SW). */
  readonly response: Uint8Array;
  /** The open session, only on 9000. Any previous session on this channel must be terminated by the caller. */
  readonly channel: CardSecureChannel | undefined;
  readonly variant: Scp11Variant | undefined;
  /** Current Security Level (Tables 4-3, 4-4): secure messaging bits | AUTHENTICATED 80 / ANY_AUTHENTICATED 40. */
  readonly securityLevel: number;
  /** Subject identifier of CERT.OCE.ECKA (SCP11a/c). */
  readonly oceSubjectId: Uint8Array | undefined;
  /** 'BF20' of CERT.OCE.ECKA, when present (Annex B; enforcing it is the caller's business). */
  readonly oceAuthorizations: Uint8Array | undefined;
}

interface OceKey {
  readonly publicKey: EcPublicKey;
  readonly subjectId: Uint8Array;
  readonly authorizations: Uint8Array | undefined;
}

const PSO_MAX = 4096;

/** The SCP11 state of one security domain (temporary/persistent PK.OCE.ECKA, PSO chain in progress). */
export class Scp11Card {
  readonly #config: Scp11CardConfig;
  #temporaryOce: OceKey | undefined;
  #persistentOce: OceKey | undefined;
  /** PSO in progress: blocks of the current certificate, key verifying it, and the anchor of the chain. */
  #psoBuffer: Uint8Array | undefined;
  #chainIssuer: EcPublicKey | undefined;
  /** The previous certificate of the chain being presented (X.509 name chaining, §6.2.1.2). */
  #chainPrevious: GpCertificate | undefined;
  readonly #seen: string[] = [];

  constructor(config: Scp11CardConfig) {
    this.#config = config;
  }

  /** Card session ended (reset, power off, new selection): temporary PK.OCE.ECKA and PSO state are gone (§4.1). */
  reset(): void {
    this.#temporaryOce = undefined;
    this.#psoBuffer = undefined;
    this.#chainIssuer = undefined;
    this.#chainPrevious = undefined;
  }

  /** Is a persistently stored PK.OCE.ECKA present (i b3)? */
  get hasPersistentOceKey(): boolean {
    return this.#persistentOce !== undefined;
  }

  /** PERFORM SECURITY OPERATION (§7.5). Returns the response APDU. */
  performSecurityOperation(commandBytes: Uint8Array): Uint8Array {
    const cmd = decodeOrNull(commandBytes);
    if (cmd === null) return this.#psoFail(SW.WRONG_LENGTH);
    const cla = cmd.cla;
    if (!((cla >= 0x80 && cla <= 0x87) || (cla >= 0xc0 && cla <= 0xcf) || (cla >= 0xe0 && cla <= 0xef))) return this.#psoFail(SW.CLA_NOT_SUPPORTED);
    if (cmd.ins !== INS_PERFORM_SECURITY_OPERATION) return this.#psoFail(SW.INS_NOT_SUPPORTED);
    const moreBlocks = (cmd.p1 & 0x80) !== 0;
    const moreCerts = (cmd.p2 & 0x80) !== 0;
    if (moreCerts && !(this.#config.i & Scp11I.CERTIFICATE_CHAIN)) return this.#psoFail(SW_SCP11.CHAINS_NOT_SUPPORTED);
    if (cmd.data.length === 0) return this.#psoFail(SW.WRONG_LENGTH);
    const buffered = this.#psoBuffer === undefined ? cmd.data.slice() : concat(this.#psoBuffer, cmd.data);
    if (buffered.length > PSO_MAX) return this.#psoFail(SW_SCP11.INCORRECT_DATA);
    if (moreBlocks) {
      this.#psoBuffer = buffered;
      return swOnly(SW.OK);
    }
    this.#psoBuffer = undefined;
    let cert: GpCertificate;
    try {
      cert = parseCertificate(buffered);
    } catch (e) {
      if (e instanceof CodecError) return this.#psoFail(SW_SCP11.INCORRECT_DATA);
      throw e;
    }
    let issuer = this.#chainIssuer;
    if (issuer === undefined) {
      const kvn = cmd.p1 & 0x7f;
      const kid = cmd.p2 & 0x7f;
      const anchor =
        kvn === 0
          ? this.#config.trustAnchors.find((a) => a.caId !== undefined && equalBytes(a.caId, cert.caId))
          : this.#config.trustAnchors.find((a) => a.kvn === kvn && a.kid === kid);
      if (anchor === undefined) return this.#psoFail(SW_SCP11.REFERENCED_DATA_NOT_FOUND);
      if (!verifyCertificateSignature(cert, anchor.publicKey)) return this.#psoFail(SW_SCP11.CERTIFICATE_VERIFICATION_FAILED);
      const allow = anchor.allowlist;
      if (allow !== undefined && allow.length > 0 && !allow.some((s) => equalBytes(s, cert.serialNumber))) {
        return this.#psoFail(SW_SCP11.CERTIFICATE_NOT_IN_ALLOWLIST);
      }
      issuer = anchor.publicKey;
    } else if (!verifyCertificateSignature(cert, issuer) || (this.#chainPrevious !== undefined && !namesChain(this.#chainPrevious, cert))) {
      return this.#psoFail(SW_SCP11.CERTIFICATE_VERIFICATION_FAILED);
    }
    if (!equalBytes(cert.keyUsage, moreCerts ? KEY_USAGE_SIGNATURE : KEY_USAGE_KEY_AGREEMENT)) {
      return this.#psoFail(SW_SCP11.CERTIFICATE_VERIFICATION_FAILED);
    }
    if (cert.publicKey.curve !== issuer.curve) return this.#psoFail(SW_SCP11.CERTIFICATE_VERIFICATION_FAILED);
    try {
      checkDates(cert, this.#config.today?.());
    } catch {
      return this.#psoFail(SW_SCP11.CERTIFICATE_VERIFICATION_FAILED);
    }
    if (cert.authorizations !== undefined) {
      // 'BF20' is absent from signature certificates (§7.5.4) and needs the authorization mechanism.
      if (moreCerts) return this.#psoFail(SW_SCP11.INCORRECT_DATA);
      if (!(this.#config.i & Scp11I.SCP11C_AUTHORIZATIONS)) return this.#psoFail(SW_SCP11.AUTHORIZATIONS_NOT_SUPPORTED);
    }
    if (moreCerts) {
      this.#chainIssuer = cert.publicKey;
      this.#chainPrevious = cert;
      return swOnly(SW.OK);
    }
    this.#chainIssuer = undefined;
    this.#chainPrevious = undefined;
    const oce: OceKey = { publicKey: cert.publicKey, subjectId: cert.subjectId, authorizations: cert.authorizations };
    if (this.#config.i & Scp11I.PERSISTENT_PK_OCE && cert.authorizations === undefined) {
      this.#persistentOce = oce;
      this.#temporaryOce = undefined;
    } else {
      this.#temporaryOce = oce;
    }
    return swOnly(SW.OK);
  }

  #psoFail(sw: number): Uint8Array {
    this.#psoBuffer = undefined;
    this.#chainIssuer = undefined;
    this.#chainPrevious = undefined;
    this.#temporaryOce = undefined;
    return swOnly(sw);
  }

  /** MUTUAL AUTHENTICATE (§7.6) or INTERNAL AUTHENTICATE (§7.7), chosen by INS. */
  authenticate(commandBytes: Uint8Array): Scp11AuthenticateResult {
    const temporary = this.#temporaryOce;
    // §4.1: without persistent storage, MUTUAL AUTHENTICATE must immediately follow a PSO; the key is used once.
    this.#temporaryOce = undefined;
    this.#psoBuffer = undefined;
    this.#chainIssuer = undefined;
    this.#chainPrevious = undefined;
    const cmd = decodeOrNull(commandBytes);
    if (cmd === null) return fail(SW.WRONG_LENGTH);
    if (!((cmd.cla >= 0x80 && cmd.cla <= 0x83) || (cmd.cla >= 0xc0 && cmd.cla <= 0xcf))) return fail(SW.CLA_NOT_SUPPORTED);
    if (cmd.ins !== INS_MUTUAL_AUTHENTICATE && cmd.ins !== INS_INTERNAL_AUTHENTICATE) return fail(SW.INS_NOT_SUPPORTED);
    if (cmd.p1 & 0x80 || cmd.p2 & 0x80) return fail(SW.INCORRECT_P1P2);
    let parsed;
    try {
      parsed = parseAuthenticateData(cmd.data);
    } catch (e) {
      if (e instanceof CodecError) return fail(SW_SCP11.INCORRECT_DATA);
      throw e;
    }
    const { crt, crtBytes, ePkOce } = parsed;
    const variant = variantOfParameters(crt.parameters);
    if (parsed.scpId !== SCP11_ID || variant === undefined) return fail(SW_SCP11.INCORRECT_DATA);
    if ((cmd.ins === INS_INTERNAL_AUTHENTICATE) !== (variant === '11b')) return fail(SW_SCP11.INCORRECT_DATA);
    const supported = variant === '11a' ? Scp11I.SCP11A : variant === '11b' ? Scp11I.SCP11B : Scp11I.SCP11C;
    if (!(this.#config.i & supported)) return fail(SW_SCP11.INCORRECT_DATA);
    const level = levelOfKeyUsage(variant, crt.keyUsage);
    if (level === undefined || crt.keyType !== KEY_TYPE_AES) return fail(SW_SCP11.INCORRECT_DATA);
    if (crt.keyLength !== 16 && crt.keyLength !== 24 && crt.keyLength !== 32) return fail(SW_SCP11.INCORRECT_DATA);
    const withIds = (crt.parameters & 0x04) !== 0;
    if (withIds !== (crt.hostId !== undefined)) return fail(SW_SCP11.INCORRECT_DATA);
    const kvn = cmd.p1 & 0x7f;
    if ((kvn === 0) !== (crt.caKlccId !== undefined) || (variant === '11b' && crt.caKlccId !== undefined)) return fail(SW_SCP11.INCORRECT_DATA);
    const wantKid = sdKeyKid(variant);
    const sdKey =
      kvn === 0
        ? this.#config.sdKeys.find((k) => k.kid === wantKid && k.caKlccId !== undefined && equalBytes(k.caKlccId, crt.caKlccId!))
        : this.#config.sdKeys.find((k) => k.kvn === kvn && k.kid === (cmd.p2 & 0x7f) && k.kid === wantKid);
    if (sdKey === undefined) return fail(SW_SCP11.REFERENCED_DATA_NOT_FOUND);
    if (!isValidPublicKey(sdKey.curve, ePkOce)) return fail(SW_SCP11.INCORRECT_DATA);

    let ids: Uint8Array = new Uint8Array(0);
    if (withIds) {
      if (variant === '11c') {
        if (sdKey.certificate === undefined) return fail(SW_SCP11.REFERENCED_DATA_NOT_FOUND);
        ids = concat(lv(crt.hostId!), lv(sdKey.certificate.subjectId));
      } else {
        if (this.#config.sin === undefined || this.#config.sdin === undefined) return fail(SW_SCP11.REFERENCED_DATA_NOT_FOUND);
        ids = concat(lv(crt.hostId!), lv(this.#config.sin), lv(this.#config.sdin));
      }
    }
    let oce: OceKey | undefined;
    if (variant !== '11b') {
      oce = temporary ?? this.#persistentOce;
      if (oce === undefined) return fail(SW_SCP11.CONDITIONS_NOT_SATISFIED);
      if (oce.publicKey.curve !== sdKey.curve) return fail(SW_SCP11.REFERENCED_DATA_NOT_FOUND);
    }
    if (this.#replayed(ePkOce)) return fail(SW_SCP11.INCORRECT_DATA);

    const curve = sdKey.curve;
    let shS: Uint8Array;
    let responseKey: Uint8Array;
    if (variant === '11c') {
      responseKey = publicKeyOf(curve, sdKey.privateKey);
      shS = concat(ecka(curve, sdKey.privateKey, ePkOce), ecka(curve, sdKey.privateKey, oce!.publicKey.point));
    } else {
      const eSd = generateKeyPair(curve, this.#config.random);
      responseKey = eSd.publicKey;
      const second = variant === '11a' ? ecka(curve, sdKey.privateKey, oce!.publicKey.point) : ecka(curve, sdKey.privateKey, ePkOce);
      shS = concat(ecka(curve, eSd.privateKey, ePkOce), second);
      zeroize(eSd.privateKey);
    }
    const keys = deriveScp11Keys(shS, sharedInfo(crt.keyUsage, crt.keyType, crt.keyLength, ids), crt.keyLength);
    zeroize(shS);
    const receipt = computeReceipt(keys.receiptKey, crtBytes, ePkOce, responseKey);
    zeroize(keys.receiptKey);
    const s16 = (this.#config.i & Scp11I.S16) !== 0;
    const messaging = startMessaging(keys, sdKey.dek, level, s16, receipt);
    zeroize(keys.sEnc, keys.sMac, keys.sRmac, keys.sDek);
    const auth =
      variant === '11b' ? 0 : this.#config.ownerId !== undefined && equalBytes(this.#config.ownerId, oce!.subjectId) ? AUTHENTICATED : ANY_AUTHENTICATED;
    return {
      response: joinResponse(encodeAuthenticateResponse(responseKey, receipt), SW.OK),
      channel: new CardChannel(3, sdKey.kvn, level, messaging),
      variant,
      securityLevel: level | auth,
      oceSubjectId: oce?.subjectId,
      oceAuthorizations: oce?.authorizations,
    };
  }

  #replayed(ePkOce: Uint8Array): boolean {
    const window = this.#config.replayWindow ?? 32;
    if (window === 0) return false;
    const h = createHash('sha256').update(ePkOce).digest('hex');
    if (this.#seen.includes(h)) return true;
    this.#seen.push(h);
    if (this.#seen.length > window) this.#seen.shift();
    return false;
  }
}

function fail(sw: number): Scp11AuthenticateResult {
  return { response: swOnly(sw), channel: undefined, variant: undefined, securityLevel: 0, oceSubjectId: undefined, oceAuthorizations: undefined };
}
