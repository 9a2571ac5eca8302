/**
 * Secure channel protocols — public API of `src/scp`.
 *
 * HOST SIDE
 *  - `openSecureChannel(transmit, { keys, kvn?, level, scp?, hostChallenge?, random?, s16?, i?, logicalChannel? })`
 *    → `Promise<HostSecureChannel>`; `keys` may be a function `(iu: ParsedInitializeUpdateResponse) => StaticKeys`.
 *  - `HostSecureChannel { scp, i, kvn, level, wrapCommand(plain), unwrapResponse(protected), encryptKeyData(key),
 *    encryptSensitiveData(data), close() }`.
 *  - Sans-IO steps per protocol (`scp02.*`, `scp03.*`): `buildInitializeUpdate(kvn, hostChallenge, logicalChannel?)`,
 *    `parseInitializeUpdateResponse(data)`, `beginHostSession(keys, hostChallenge, iu[, i])` (verifies the card
 *    cryptogram, throws 'BAD_CARD_CRYPTOGRAM'), `verifyCardCryptogram(session)`, `computeHostCryptogram(session)`,
 *    `buildExternalAuthenticate(session, level, logicalChannel?)` → `{ command, level }`,
 *    `createHostChannel(session, ea)` → `HostSecureChannel` (after the card's 9000).
 *
 * CARD SIDE (used by the SE simulator) — the same two functions in `scp02` and `scp03`:
 *  - `cardInitializeUpdate(commandBytes, ctx: CardHandshakeContext)` → `CardInitializeUpdateResult
 *    { response, pending, nextSequenceCounter, kvn }`. `ctx = { lookupKeys(kvn) (0 = default), sequenceCounter,
 *    kdd (10 bytes), i, aid, random }`. Refusals: 6700 wrong length, 6A86 P2 ≠ 00, 6A88 unknown key version,
 *    6E00 CLA, 6D00 INS, 6985 sequence counter exhausted. Store `nextSequenceCounter` (SCP03 pseudo-random mode
 *    increments it here).
 *  - `cardExternalAuthenticate(pending, commandBytes)` → `CardExternalAuthenticateResult { response, channel?,
 *    nextSequenceCounter? }`. 6982 on a bad C-MAC or host cryptogram (no channel), 6A86 on a P1 the protocol or
 *    "i" does not allow, 6700 wrong length, 6985 when `pending` was already used. SCP02 returns
 *    `nextSequenceCounter` = counter + 1 on success (GPCS E.1.2).
 *  - `CardSecureChannel { scp, level, kvn, active, unwrapCommand(protected) (throws SecureChannelError, sw 6982),
 *    wrapResponse(plain), decryptKeyData(enc), decryptSensitiveData(enc), abort() }`. A failed unwrap aborts the
 *    session; later commands throw 'NOT_AUTHENTICATED' with sw 6982 (GPCS §10 protocol rules).
 *
 * ASYMMETRIC SESSIONS (asymmetric-session.ts) — SELECT + handshake in as few scripts as the protocol allows:
 *  - `openScp11Session(transport, { sdAid, variant '11a'|'11c', level, sdKey, caKloc, oceCertificates, ocePrivateKey,
 *    curve, card: { publicKey } | { trustAnchor }, random?, deferAuthentication? (11c), today?, observer? })`
 *  - `openScp10Session(transport, { sdAid, i 1|2, level, oceCertificates, ocePrivateKey, oceId,
 *    card: { publicKey, id } | { trustPoint }, random?, observer? })` → `SecureSession`.
 *
 * SHARED
 *  - `StaticKeys { enc, mac, dek }`, `staticKeys()`; `SecureChannelError { code, sw? }`, `SW`;
 *    security levels `C_MAC` 01, `C_DECRYPTION` 02, `R_MAC` 10, `R_ENCRYPTION` 20, `SecurityLevel.*`,
 *    `isValidSecurityLevel(scp, level)`, `isLevelSupportedByI(scp, level, i)`, `assertSecurityLevel`,
 *    `maxShortCommandData(scp, level, s16?)`.
 */
export type {
  HostSecureChannel,
  CardSecureChannel,
  ParsedInitializeUpdateResponse,
  CardHandshakeContext,
  PendingExternalAuthenticate,
  CardInitializeUpdateResult,
  CardExternalAuthenticateResult,
} from './channel.ts';
export { SecureChannelError, SW, type SecureChannelErrorCode } from './errors.ts';
export { staticKeys, assertScp02Keys, assertScp03Keys, type StaticKeys } from './keys.ts';
export {
  NO_SECURITY_LEVEL,
  C_MAC,
  C_DECRYPTION,
  R_MAC,
  R_ENCRYPTION,
  SecurityLevel,
  isValidSecurityLevel,
  isLevelSupportedByI,
  assertSecurityLevel,
  maxShortCommandData,
} from './level.ts';
export { parseInitializeUpdateResponse } from './handshake.ts';
export { openSecureChannel, type OpenSecureChannelOptions, type Transmit } from './open.ts';
export { chainBlockSize, chainPieces, transmitChained } from './chaining.ts';
export { logicalChannelOf, claForChannel, hasSecureMessaging } from './messaging.ts';
export * as scp02 from './scp02/index.ts';
export * as scp03 from './scp03/index.ts';
export { SecureSession, type SecureSessionOptions, type SessionObserver, type PendingAuthentication } from './secure-session.ts';
export { openScp11Session, openScp10Session, type Scp11SessionOptions, type Scp10SessionOptions } from './asymmetric-session.ts';
