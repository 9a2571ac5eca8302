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
