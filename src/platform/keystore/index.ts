/** Keystore: envelope encryption of secrets at rest under a key-encryption key (file; PKCS#11 seam). */
export { KeyStoreError, type KeyStoreErrorCode } from './errors.ts';
export { EnvelopeKeyStore, kekIdOf, BLOB_VERSION, type KeyStore, type KeyEncryptionKey, type EnvelopeKeyStoreOptions } from './keystore.ts';
export { FileKeyStore, FileKek, readKekFile, KEK_LENGTH, type FileKeyStoreOptions } from './file-kek.ts';
export type { Pkcs11KekConfig } from './pkcs11.ts';
