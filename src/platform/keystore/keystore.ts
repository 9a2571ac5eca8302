/**
 * Envelope encryption of secrets at rest (card keys): every `wrap` draws a fresh 256-bit data key,
 * encrypts the plaintext under it with AES-256-GCM (the caller's `context` is authenticated data, so a
 * blob only opens for the row/purpose it was made for), and wraps the data key under the
 * key-encryption key (KEK). The KEK lives in a file (`FileKeyStore`) or, later, in a PKCS#11 HSM
 * behind the `KeyEncryptionKey` interface; only the data key ever reaches it.
 *
 * Blob format, version 1 (all lengths in bytes, integers big-endian):
 *
 *   offset   length  field
 *   0        1       version = 0x01
 *   1        1       k = length of the KEK id (1..255)
 *   2        k       KEK id, ASCII (e.g. "file:3f2a…")
 *   2+k      2       w = length of the wrapped data key
 *   4+k      w       wrapped data key — KEK-specific; the file KEK uses AES-256-GCM:
 *                    nonce(12) || E(data key)(32) || tag(16), AAD = "opentsm-keystore-v1:dek:" || KEK id
 *   4+k+w    12      data nonce
 *   …        n       ciphertext (n = plaintext length)
 *   end-16   16      tag: AES-256-GCM under the data key, AAD = "opentsm-keystore-v1:data:" || context (UTF-8)
 *
 * The data part does not depend on the KEK, so KEK rotation (`rewrap`) re-wraps only the data key and
 * needs neither the plaintext nor the context. Any alteration — of the header, the KEK id, the wrapped
 * key, the nonce, the ciphertext or the tag — or a different context fails with
 * KeyStoreError('UNWRAP_FAILED') and returns no byte of plaintext. Data keys are zeroed after use.
 */
import { systemRandom, type RandomSource } from '../../crypto/random.ts';
import { KeyStoreError } from './errors.ts';
import { GCM_NONCE, GCM_TAG, gcmOpen, gcmSeal } from './gcm.ts';

/** What services use to store secrets. */
export interface KeyStore {
  /** Encrypt `plaintext` for `context` (e.g. `issuer/cards/<id>/isd-keys`). */
  wrap(plaintext: Uint8Array, context: string): Promise<Uint8Array>;
  /** Decrypt a blob made by `wrap` with the same context; KeyStoreError otherwise. */
  unwrap(blob: Uint8Array, context: string): Promise<Uint8Array>;
  /** The same secret under the current KEK (KEK rotation); the plaintext never leaves the store. */
  rewrap(blob: Uint8Array): Promise<Uint8Array>;
  /** Id of the KEK new blobs are wrapped under. */
  readonly kekId: string;
}

/**
 * The seam for key-encryption keys: a file today, a PKCS#11 HSM tomorrow. An HSM implementation keeps a
 * non-extractable AES-256 key (CKA_EXTRACTABLE false, CKA_SENSITIVE true, CKA_ENCRYPT/CKA_DECRYPT or
 * CKA_WRAP/CKA_UNWRAP) and maps `wrapKey` to C_EncryptInit/C_Encrypt with CKM_AES_GCM (random 12-byte IV,
 * 128-bit tag, `aad` as pAAD) and `unwrapKey` to C_DecryptInit/C_Decrypt (CKR_ENCRYPTED_DATA_INVALID or a
 * tag failure → `undefined`). `kekId` must name the HSM key stably (e.g. `pkcs11:<token>/<CKA_LABEL>`),
 * since blobs record it. See pkcs11.ts.
 */
export interface KeyEncryptionKey {
  /** ASCII, 1..255 characters, stable for the life of the key. */
  readonly kekId: string;
  /** Wrap a 32-byte data key; `aad` must be authenticated. Returns at most 65 535 bytes. */
  wrapKey(dataKey: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Unwrap, or `undefined` when the wrapped key or `aad` does not authenticate. */
  unwrapKey(wrapped: Uint8Array, aad: Uint8Array): Promise<Uint8Array | undefined>;
}

export const BLOB_VERSION = 1;
const DATA_KEY_LENGTH = 32;
const KEK_ID = /^[\x21-\x7e]{1,255}$/;
const encoder = new TextEncoder();

function label(kind: 'dek' | 'data', value: string): Uint8Array {
  return encoder.encode(`opentsm-keystore-v1:${kind}:${value}`);
}

interface ParsedBlob {
  readonly kekId: string;
  readonly wrappedKey: Uint8Array;
  /** nonce || ciphertext || tag */
  readonly data: Uint8Array;
}

function fail(message: string): never {
  throw new KeyStoreError('UNWRAP_FAILED', `cannot unwrap: ${message}`);
}

function parseBlob(blob: Uint8Array): ParsedBlob {
  if (!(blob instanceof Uint8Array)) throw new TypeError('blob must be a Uint8Array');
  if (blob.length < 2) fail('truncated header');
  if (blob[0] !== BLOB_VERSION) fail(`unknown blob version ${blob[0]}`);
  const k = blob[1]!;
  if (k === 0 || blob.length < 4 + k) fail('truncated header');
  const kekId = String.fromCharCode(...blob.subarray(2, 2 + k));
  if (!KEK_ID.test(kekId)) fail('malformed KEK id');
  const w = (blob[2 + k]! << 8) | blob[3 + k]!;
  const dataStart = 4 + k + w;
  if (w === 0 || blob.length < dataStart + GCM_NONCE + GCM_TAG) fail('truncated');
  return { kekId, wrappedKey: blob.subarray(4 + k, dataStart), data: blob.subarray(dataStart) };
}

function assembleBlob(kekId: string, wrappedKey: Uint8Array, data: Uint8Array): Uint8Array {
  if (wrappedKey.length === 0 || wrappedKey.length > 0xffff) throw new RangeError('wrapped data key must be 1..65535 bytes');
  const id = encoder.encode(kekId);
  const out = new Uint8Array(4 + id.length + wrappedKey.length + data.length);
  out[0] = BLOB_VERSION;
  out[1] = id.length;
  out.set(id, 2);
  out[2 + id.length] = wrappedKey.length >> 8;
  out[3 + id.length] = wrappedKey.length & 0xff;
  out.set(wrappedKey, 4 + id.length);
  out.set(data, 4 + id.length + wrappedKey.length);
  return out;
}

/** The KEK id a blob was wrapped under (e.g. to find blobs that still need `rewrap`). */
export function kekIdOf(blob: Uint8Array): string {
  return parseBlob(blob).kekId;
}

function checkContext(context: unknown): string {
  if (typeof context !== 'string' || context.length === 0) throw new TypeError('context must be a non-empty string');
  return context;
}

export interface EnvelopeKeyStoreOptions {
  /** Former KEKs: blobs under them still unwrap, and `rewrap` moves them to the current one. */
  readonly retired?: readonly KeyEncryptionKey[];
  /** Randomness for data keys and nonces (tests pass a deterministic source). */
  readonly random?: RandomSource;
}

/** A KeyStore over any KeyEncryptionKey (the file KEK, or an HSM's). */
export class EnvelopeKeyStore implements KeyStore {
  readonly #current: KeyEncryptionKey;
  readonly #keks = new Map<string, KeyEncryptionKey>();
  readonly #random: RandomSource;

  constructor(current: KeyEncryptionKey, options: EnvelopeKeyStoreOptions = {}) {
    for (const kek of [current, ...(options.retired ?? [])]) {
      if (!KEK_ID.test(kek.kekId)) throw new RangeError(`KEK id ${JSON.stringify(kek.kekId)} must be 1..255 printable ASCII characters`);
      if (this.#keks.has(kek.kekId)) throw new RangeError(`KEK id ${kek.kekId} given twice`);
      this.#keks.set(kek.kekId, kek);
    }
    this.#current = current;
    this.#random = options.random ?? systemRandom;
  }

  get kekId(): string {
    return this.#current.kekId;
  }

  async wrap(plaintext: Uint8Array, context: string): Promise<Uint8Array> {
    if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
    const ctx = checkContext(context);
    const dataKey = this.#random(DATA_KEY_LENGTH);
    try {
      const data = gcmSeal(dataKey, this.#random(GCM_NONCE), plaintext, label('data', ctx));
      const kek = this.#current;
      const wrappedKey = await kek.wrapKey(dataKey, label('dek', kek.kekId));
      return assembleBlob(kek.kekId, wrappedKey, data);
    } finally {
      dataKey.fill(0);
    }
  }

  async unwrap(blob: Uint8Array, context: string): Promise<Uint8Array> {
    const ctx = checkContext(context);
    const parsed = parseBlob(blob);
    const dataKey = await this.#unwrapDataKey(parsed);
    try {
      const plaintext = gcmOpen(dataKey, parsed.data, label('data', ctx));
      if (plaintext === undefined) fail('the blob was altered or belongs to another context');
      return plaintext;
    } finally {
      dataKey.fill(0);
    }
  }

  async rewrap(blob: Uint8Array): Promise<Uint8Array> {
    const parsed = parseBlob(blob);
    const dataKey = await this.#unwrapDataKey(parsed);
    try {
      const kek = this.#current;
      const wrappedKey = await kek.wrapKey(dataKey, label('dek', kek.kekId));
      return assembleBlob(kek.kekId, wrappedKey, parsed.data);
    } finally {
      dataKey.fill(0);
    }
  }

  async #unwrapDataKey(parsed: ParsedBlob): Promise<Uint8Array> {
    const kek = this.#keks.get(parsed.kekId);
    if (kek === undefined) throw new KeyStoreError('UNKNOWN_KEK', `blob is wrapped under KEK ${parsed.kekId}, which this store does not hold`);
    const dataKey = await kek.unwrapKey(parsed.wrappedKey, label('dek', parsed.kekId));
    if (dataKey === undefined) fail('the wrapped data key was altered');
    if (dataKey.length !== DATA_KEY_LENGTH) {
      dataKey.fill(0);
      fail('the wrapped data key has the wrong length');
    }
    return dataKey;
  }
}
