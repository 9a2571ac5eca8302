/**
 * SCP02 — GlobalPlatform Card Specification 2.2.1 Appendix E. Explicit initiation (INITIALIZE UPDATE /
 * EXTERNAL AUTHENTICATE), C-MAC on the modified APDU: "i" = '04', '05', '14', '15', '44', '45', '54', '55', …
 * (R-MAC levels need b6); implicit initiation on the first C-MAC, C-MAC on the unmodified APDU, ICV = MAC over
 * the AID: "i" = '0A', '0B', '1A', '1B' (`openImplicitChannel` / `cardImplicitOpen`). b1 = 0: one base key.
 * Host side (sans-IO handshake + `HostSecureChannel`) and card side (`cardInitializeUpdate` /
 * `cardExternalAuthenticate` → `CardSecureChannel`).
 */
export {
  INS_INITIALIZE_UPDATE,
  INS_EXTERNAL_AUTHENTICATE,
  DEFAULT_I,
  buildInitializeUpdate,
  parseInitializeUpdateResponse,
  beginHostSession,
  verifyCardCryptogram,
  computeHostCryptogram,
  buildExternalAuthenticate,
  createHostChannel,
  type Scp02HostSession,
  type Scp02ExternalAuthenticate,
  openImplicitChannel,
  type Scp02ImplicitOptions,
} from './handshake.ts';
export { cardInitializeUpdate, cardExternalAuthenticate, cardImplicitOpen, type CardImplicitOpenResult } from './card.ts';
export { DerivationConstant, deriveSessionKey, deriveSessionKeys, sequenceCounterBytes, usesOneBaseKey, type Scp02SessionKeys } from './kdf.ts';
export { cardCryptogram, hostCryptogram, verifyHostCryptogram, pseudoRandomCardChallenge } from './cryptogram.ts';
export { isSupportedI, isImplicitI, aidIcv, isScp02NormalStatus } from './wrap.ts';
