/**
 * The common shape of an established secure channel, host side and card side, shared by SCP02
 * (GPCS 2.2.1 Appendix E) and SCP03 (Amendment D v1.2), and the types of the sans-IO handshakes.
 */
import type { RandomSource } from '../crypto/random.ts';
import type { StaticKeys } from './keys.ts';

/** The secure channel protocols with an open-channel object: SCP02, SCP03 (also after an SCP11 handshake), SCP10. */
export type ScpId = 2 | 3 | 10;

/** The off-card entity's side of an open secure channel session (after EXTERNAL AUTHENTICATE). */
export interface HostSecureChannel {
  readonly scp: ScpId;
  /** The protocol's "i" parameter. */
  readonly i: number;
  /** Key version number the card used. */
  readonly kvn: number;
  /** Security level of the session (EXTERNAL AUTHENTICATE P1). */
  readonly level: number;
  /**
   * Plain C-APDU bytes → protected bytes: secure messaging indication in CLA, data encrypted when the
   * level has C-DECRYPTION, C-MAC appended when it has C-MAC. At level 00 (SCP02 also 10) the bytes
   * come back unchanged (but are remembered for the R-MAC). Throws `SecureChannelError('NOT_AUTHENTICATED')`
   * once the channel was closed after a failed response check.
   */
  wrapCommand(plainApdu: Uint8Array): Uint8Array;
  /**
   * Protected R-APDU (data + SW) for the last wrapped command → plain R-APDU bytes. Checks the R-MAC
   * and decrypts when the level asks for it; throws `SecureChannelError` ('BAD_RMAC', 'BAD_PADDING',
   * 'BAD_RESPONSE') and closes the channel on a bad response.
   */
  unwrapResponse(protectedRapdu: Uint8Array): Uint8Array;
  /** Encrypt key components for PUT KEY (SCP03: Key-DEK, AES-CBC zero ICV; SCP02: session DEK, 3DES-ECB). */
  encryptKeyData(key: Uint8Array): Uint8Array;
  /** Encrypt sensitive data (STORE DATA, encrypted) with the same key and mode as `encryptKeyData`. */
  encryptSensitiveData(data: Uint8Array): Uint8Array;
  /** Forget the session keys; later calls throw `NOT_AUTHENTICATED`. */
  close(): void;
}

/** The card's side of an open secure channel session (after a successful EXTERNAL AUTHENTICATE). */
export interface CardSecureChannel {
  readonly scp: ScpId;
  readonly level: number;
  readonly kvn: number;
  /** False once the session was aborted by a security error (GPCS §10 / Amendment D §5.6 protocol rules). */
  readonly active: boolean;
  /**
   * Protected C-APDU → plain C-APDU bytes (CLA without secure messaging indication, C-MAC removed,
   * data decrypted). Throws `SecureChannelError` with `sw` 6982 on a MAC failure, a missing secure
   * messaging indication at a level that requires it, or bad padding — the session is then aborted and
   * every later command is refused with 6982 until a new INITIALIZE UPDATE. A malformed APDU throws
   * with `sw` 6700 (the session is aborted as well).
   */
  unwrapCommand(protectedApdu: Uint8Array): Uint8Array;
  /**
   * Plain R-APDU (data + SW) for the last unwrapped command → protected per R-MAC / R-ENCRYPTION.
   * Returned unchanged when the level has no R-MAC or the session was aborted.
   */
  wrapResponse(plainRapdu: Uint8Array): Uint8Array;
  /** Decrypt key components of PUT KEY (inverse of `HostSecureChannel.encryptKeyData`; no padding removed). */
  decryptKeyData(encrypted: Uint8Array): Uint8Array;
  /** Decrypt sensitive data of STORE DATA (same key and mode). */
  decryptSensitiveData(encrypted: Uint8Array): Uint8Array;
  /** Abort the session (e.g. on a security error found by the application); keys are forgotten. */
  abort(): void;
}

/** Fields of an INITIALIZE UPDATE response (GPCS 2.2.1 Table E-8; Amendment D Table 7-3). */
export interface ParsedInitializeUpdateResponse {
  readonly scp: 2 | 3;
  /** Key diversification data, 10 bytes. */
  readonly kdd: Uint8Array;
  /** Key version number of the key set the card chose. */
  readonly kvn: number;
  /** The "i" parameter: sent by SCP03 cards; `undefined` for SCP02 (not part of its response). */
  readonly i: number | undefined;
  /** SCP02: 2 bytes, always. SCP03: 3 bytes when the card uses pseudo-random challenges, else `undefined`. */
  readonly sequenceCounter: Uint8Array | undefined;
  /** SCP02: 6 bytes; SCP03: 8 (S8) or 16 (S16) bytes. */
  readonly cardChallenge: Uint8Array;
  /** SCP02: 8 bytes; SCP03: 8 (S8) or 16 (S16) bytes. */
  readonly cardCryptogram: Uint8Array;
}

/** What the card needs to answer INITIALIZE UPDATE. */
export interface CardHandshakeContext {
  /** Key set by version number; `kvn` 0 asks for the default (first available) key set. */
  lookupKeys(kvn: number): { kvn: number; keys: StaticKeys } | undefined;
  /** The stored sequence counter of that key set (SCP02: 2 bytes; SCP03: 3 bytes, pseudo-random mode). */
  readonly sequenceCounter: number;
  /** Key diversification data returned in the response, 10 bytes. */
  readonly kdd: Uint8Array;
  /** The protocol's "i" parameter this security domain is configured with. */
  readonly i: number;
  /** AID of the security domain (or application) opening the channel (pseudo-random challenges). */
  readonly aid: Uint8Array;
  /** Randomness for random card challenges. */
  readonly random: RandomSource;
}

/** Opaque state kept by the card between INITIALIZE UPDATE and EXTERNAL AUTHENTICATE. */
export interface PendingExternalAuthenticate {
  readonly scp: 2 | 3;
  readonly kvn: number;
}

export interface CardInitializeUpdateResult {
  /** Response APDU (data + SW) to send back. */
  readonly response: Uint8Array;
  /** State for `cardExternalAuthenticate`; `undefined` when the command was refused. */
  readonly pending: PendingExternalAuthenticate | undefined;
  /**
   * The value the caller must store as the key set's sequence counter now. SCP03 pseudo-random mode
   * increments it on every INITIALIZE UPDATE (Amendment D §6.2.2.1); SCP02 and SCP03 random mode leave
   * it unchanged here (SCP02 increments it on a successful EXTERNAL AUTHENTICATE, GPCS E.1.2).
   */
  readonly nextSequenceCounter: number;
  /** Key version used (after resolving kvn 0); `undefined` when refused. */
  readonly kvn: number | undefined;
}

export interface CardExternalAuthenticateResult {
  /** Response APDU (SW only) to send back. */
  readonly response: Uint8Array;
  /** The open session, present only when the response is 9000. */
  readonly channel: CardSecureChannel | undefined;
  /**
   * SCP02: on success, the incremented sequence counter to store (GPCS E.1.2: incremented when the first
   * C-MAC of the session is verified). `undefined` when the counter does not change.
   */
  readonly nextSequenceCounter: number | undefined;
}
