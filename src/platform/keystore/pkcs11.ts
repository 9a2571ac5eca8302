/**
 * Seam for a PKCS#11 HSM (SoftHSM2, a network HSM): configuration only — no implementation yet, and no
 * dependency on a PKCS#11 binding. An implementation provides a `KeyEncryptionKey` (keystore.ts) whose
 * AES-256 key never leaves the token:
 *
 *   open:    C_Initialize(module) → C_OpenSession(slot of `tokenLabel`) → C_Login(CKU_USER, pin)
 *            → C_FindObjects(CKA_CLASS=CKO_SECRET_KEY, CKA_KEY_TYPE=CKK_AES, CKA_LABEL=keyLabel)
 *            (first start: C_GenerateKey(CKM_AES_KEY_GEN, CKA_VALUE_LEN=32, CKA_TOKEN, CKA_SENSITIVE,
 *            ¬CKA_EXTRACTABLE, CKA_ENCRYPT, CKA_DECRYPT) when `generate` is set)
 *   wrapKey: C_EncryptInit(CKM_AES_GCM{iv: 12 random bytes, aad, tagBits: 128}) → C_Encrypt;
 *            output iv || ciphertext || tag (the same layout as the file KEK)
 *   unwrapKey: C_DecryptInit(CKM_AES_GCM{…}) → C_Decrypt; a failed tag → undefined
 *   kekId:   `pkcs11:${tokenLabel}/${keyLabel}`
 *
 * `new EnvelopeKeyStore(hsmKek, { retired: [fileKek] })` then migrates file-wrapped blobs with `rewrap`.
 */
export interface Pkcs11KekConfig {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly module: string;
  readonly tokenLabel: string;
  /** User PIN; pass it from a secret source, never from a command line. */
  readonly pin: string;
  /** CKA_LABEL of the AES-256 KEK. */
  readonly keyLabel: string;
  /** Generate the key on first start when it does not exist (default false). */
  readonly generate?: boolean;
}
