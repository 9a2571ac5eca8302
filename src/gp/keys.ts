/**
 * Key types, usages, access conditions and the key information model
 * (GP Card Specification 2.3.1 §11.1.8 Table 11-16, §11.1.9 Tables 11-17/11-18, §11.1.10 Table 11-19,
 * §11.3.3.1.1 Tables 11-28/11-29).
 */

/** Key type coding (Table 11-16). */
export const KeyType = Object.freeze({
  DES: 0x80,
  TLS_PSK: 0x85,
  AES: 0x88,
  HMAC_SHA1: 0x90,
  HMAC_SHA1_160: 0x91,
  RSA_PUBLIC_EXPONENT: 0xa0,
  RSA_MODULUS: 0xa1,
  RSA_PRIVATE_MODULUS: 0xa2,
  RSA_PRIVATE_EXPONENT: 0xa3,
  RSA_CRT_P: 0xa4,
  RSA_CRT_Q: 0xa5,
  RSA_CRT_PQ: 0xa6,
  RSA_CRT_DP1: 0xa7,
  RSA_CRT_DQ1: 0xa8,
  ECC_PUBLIC: 0xb0,
  ECC_PRIVATE: 0xb1,
  ECC_P: 0xb2,
  ECC_A: 0xb3,
  ECC_B: 0xb4,
  ECC_G: 0xb5,
  ECC_N: 0xb6,
  ECC_K: 0xb7,
  ECC_KEY_PARAMETER_REFERENCE: 0xf0,
  EXTENDED: 0xff,
} as const);

/** Key usage qualifier values used by GlobalPlatform (§11.1.9). */
export const KeyUsage = Object.freeze({
  C_MAC: 0x14,
  R_MAC: 0x24,
  C_MAC_R_MAC: 0x34,
  C_ENC: 0x18,
  R_ENC: 0x28,
  C_ENC_R_ENC: 0x38,
  C_DEK: 0x48,
  R_DEK: 0x88,
  C_DEK_R_DEK: 0xc8,
  PK_SD_AUT: 0x82,
  SK_SD_AUT: 0x42,
  TOKEN: 0x81,
  RECEIPT: 0x44,
  DAP: 0x84,
} as const);

/** Key access (Table 11-19). */
export const KeyAccess = Object.freeze({ SD_AND_APPS: 0x00, SD_ONLY: 0x01, APPS_ONLY: 0x02, NOT_AVAILABLE: 0xff } as const);

const TYPE_NAMES: Record<number, string> = {
  0x80: 'DES',
  0x85: 'TLS-PSK',
  0x88: 'AES',
  0x90: 'HMAC-SHA1',
  0x91: 'HMAC-SHA1-160',
  0xa0: 'RSA public exponent',
  0xa1: 'RSA modulus',
  0xa2: 'RSA private modulus',
  0xa3: 'RSA private exponent',
  0xa4: 'RSA CRT P',
  0xa5: 'RSA CRT Q',
  0xa6: 'RSA CRT PQ',
  0xa7: 'RSA CRT DP1',
  0xa8: 'RSA CRT DQ1',
  0xb0: 'ECC public',
  0xb1: 'ECC private',
  0xb2: 'ECC P',
  0xb3: 'ECC A',
  0xb4: 'ECC B',
  0xb5: 'ECC G',
  0xb6: 'ECC N',
  0xb7: 'ECC k',
  0xf0: 'ECC key parameter reference',
  0xff: 'extended',
};

/** Name of a key type, e.g. `AES`; unknown values as hex. */
export function keyTypeName(type: number): string {
  return TYPE_NAMES[type] ?? (type < 0x80 ? `private(${type.toString(16).padStart(2, '0')})` : `RFU(${type.toString(16)})`);
}

/**
 * True for key components that PUT KEY sends encrypted (§11.8.2.3.2, Tables 11-72..11-77):
 * symmetric keys and private asymmetric components; public components and curve parameters travel in clear.
 */
export function isSecretKeyType(type: number): boolean {
  if (type >= 0x80 && type <= 0x9f) return true;
  if (type >= 0xa2 && type <= 0xa8) return true;
  return type === 0xb1;
}

/** Cipher block size used to encrypt a key of this type under the DEK: 8 for DES, 16 for AES, else 0. */
export function symmetricBlockSize(type: number): number {
  return type === KeyType.DES ? 8 : type === KeyType.AES ? 16 : 0;
}

/** One component of a key as in the Key Information Data (Tables 11-28, 11-29). */
export interface KeyComponentInfo {
  /** Key type byte (the second byte of an extended 'FF xx' type). */
  readonly type: number;
  /** Component length in bytes; 0 means "256 or more" in the basic format. */
  readonly length: number;
}

/** Key Information Data (tag 'C0' inside template 'E0'). */
export interface KeyInfo {
  readonly keyId: number;
  readonly kvn: number;
  readonly components: readonly KeyComponentInfo[];
  /** True when coded in the extended format (Table 11-29). */
  readonly extended?: boolean;
  /** Key usage qualifier (extended format only). */
  readonly usage?: number;
  /** Key access (extended format only). */
  readonly access?: number;
}
