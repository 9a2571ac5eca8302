/**
 * SCP03 — GlobalPlatform Card Specification v2.3 Amendment D v1.2: AES-128/192/256, S8 and S16 modes,
 * C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION. Host side (sans-IO handshake + `HostSecureChannel`) and card
 * side (`cardInitializeUpdate` / `cardExternalAuthenticate` → `CardSecureChannel`).
 */
export {
  INS_INITIALIZE_UPDATE,
  INS_EXTERNAL_AUTHENTICATE,
  buildInitializeUpdate,
  parseInitializeUpdateResponse,
  beginHostSession,
  verifyCardCryptogram,
  computeHostCryptogram,
  buildExternalAuthenticate,
  createHostChannel,
  type Scp03HostSession,
  type Scp03ExternalAuthenticate,
} from './handshake.ts';
export { cardInitializeUpdate, cardExternalAuthenticate } from './card.ts';
export {
  DerivationConstant,
  deriveData,
  deriveSessionKeys,
  pseudoRandomCardChallenge,
  sequenceCounterBytes,
  type Scp03SessionKeys,
} from './kdf.ts';
export { cardCryptogram, hostCryptogram, handshakeContext, verifyHostCryptogram } from './cryptogram.ts';
export { isScp03ErrorStatus } from './wrap.ts';
