/**
 * SCP02 — GlobalPlatform Card Specification 2.2.1 Appendix E, explicit initiation: "i" = '15', '55' (and the
 * other explicit / 3-key / modified-APDU values '05', '25', '35', '45', '65', '75'; R-MAC levels need b6).
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
} from './handshake.ts';
export { cardInitializeUpdate, cardExternalAuthenticate } from './card.ts';
export { DerivationConstant, deriveSessionKey, deriveSessionKeys, sequenceCounterBytes, type Scp02SessionKeys } from './kdf.ts';
export { cardCryptogram, hostCryptogram, verifyHostCryptogram, pseudoRandomCardChallenge } from './cryptogram.ts';
export { isSupportedI, isScp02NormalStatus } from './wrap.ts';
