export { aesEcbEncrypt, aesEcbDecrypt, aesCbcEncrypt, aesCbcDecrypt, aesCmac, aesCmacSubkeys } from './aes.ts';
export {
  desEcbEncrypt,
  desEcbDecrypt,
  desCbcEncrypt,
  desCbcDecrypt,
  fullTripleDesMac,
  retailMac,
  expand3desKey,
} from './des.ts';
export { padIso9797M2, unpadIso9797M2 } from './padding.ts';
export { sp800108CounterCmac, type Sp800108Input } from './kdf.ts';
export { systemRandom, type RandomSource } from './random.ts';
export {
  type CurveName,
  type CurveInfo,
  type EcKeyPair,
  type EcPublicKey,
  curveInfo,
  curveByReference,
  pointLength,
  generateKeyPair,
  publicKeyOf,
  isValidPublicKey,
  ecka,
  ecdsaSign,
  ecdsaVerify,
} from './ecc.ts';
export { x963Kdf, type KdfHash } from './x963.ts';
export {
  sha1,
  rsaPublicNumbers,
  rsaPublicKey,
  modulusLength,
  sign9796,
  recover9796,
  encryptRaw,
  decryptRaw,
  signPkcs1,
  verifyPkcs1,
  encryptPkcs1,
  decryptPkcs1,
  openEncryptedSignature,
  sealSignature,
} from './rsa.ts';
