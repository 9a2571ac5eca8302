/**
 * The default KEK: 32 random bytes in a file of mode 0600, created at first start. `FileKeyStore.open`
 * refuses (KeyStoreError 'BAD_KEK_FILE') a file that is not a regular file, is not exactly 32 bytes,
 * is all zeros, or is readable/writable by group or others — fix the file (chmod 600), never loosen the
 * check. Creation is atomic (a temporary file linked into place), so two processes starting together
 * end up with the same KEK and a crash never leaves a short file. Symbolic links are followed (secret
 * mounts use them); the checks apply to the file they reach, read through one descriptor.
 *
 * The KEK id is `file:` + the first 8 bytes of SHA-256("opentsm-kek-id-v1" || KEK) in hex: it names the
 * key in blobs and logs without revealing it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemRandom, type RandomSource } from '../../crypto/random.ts';
import { KeyStoreError } from './errors.ts';
import { gcmOpen, gcmSeal, GCM_NONCE } from './gcm.ts';
import { EnvelopeKeyStore, type EnvelopeKeyStoreOptions, type KeyEncryptionKey } from './keystore.ts';

export const KEK_LENGTH = 32;

function bad(path: string, why: string, cause?: unknown): never {
  throw new KeyStoreError('BAD_KEK_FILE', `KEK file ${path}: ${why}`, cause === undefined ? undefined : { cause });
}

/** An AES-256 KEK held in memory (loaded from a file). */
export class FileKek implements KeyEncryptionKey {
  readonly kekId: string;
  readonly #key: Uint8Array;
  readonly #random: RandomSource;

  /** Keeps a copy of `key` (zero yours); `random` draws the wrapping nonces (tests make it deterministic). */
  constructor(key: Uint8Array, random: RandomSource = systemRandom) {
    if (!(key instanceof Uint8Array) || key.length !== KEK_LENGTH) throw new RangeError('a KEK is 32 bytes');
    this.#key = Uint8Array.from(key);
    this.#random = random;
    const h = createHash('sha256').update('opentsm-kek-id-v1').update(this.#key).digest();
    this.kekId = `file:${h.subarray(0, 8).toString('hex')}`;
  }

  async wrapKey(dataKey: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    return gcmSeal(this.#key, this.#random(GCM_NONCE), dataKey, aad);
  }

  async unwrapKey(wrapped: Uint8Array, aad: Uint8Array): Promise<Uint8Array | undefined> {
    return gcmOpen(this.#key, wrapped, aad);
  }

  /** Overwrite the KEK in memory; the object is unusable afterwards. */
  destroy(): void {
    this.#key.fill(0);
  }
}

/** Read and check an existing KEK file; `undefined` when it does not exist. */
export function readKekFile(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    bad(path, `cannot open (${(e as NodeJS.ErrnoException).code ?? 'error'})`, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) bad(path, 'not a regular file');
    if ((st.mode & 0o077) !== 0) bad(path, `permissions ${(st.mode & 0o777).toString(8)} let group/others access it; chmod 600 it`);
    if (st.size !== KEK_LENGTH) bad(path, `size ${st.size}, expected ${KEK_LENGTH} bytes`);
    const key = new Uint8Array(KEK_LENGTH);
    const n = readSync(fd, key, 0, KEK_LENGTH, 0);
    if (n !== KEK_LENGTH) {
      key.fill(0);
      bad(path, 'short read');
    }
    if (key.every((b) => b === 0)) bad(path, 'all zero bytes');
    return key;
  } finally {
    closeSync(fd);
  }
}

/** Create a new KEK file atomically; returns false when another process created it first. */
function createKekFile(path: string): boolean {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    bad(path, `cannot create folder ${dir}`, e);
  }
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const key = Uint8Array.from(randomBytes(KEK_LENGTH));
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, key, 0, KEK_LENGTH, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      const dfd = openSync(dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // best effort: some file systems refuse fsync on a folder
    }
    return true;
  } catch (e) {
    if (e instanceof KeyStoreError) throw e;
    return bad(path, `cannot create (${(e as NodeJS.ErrnoException).code ?? 'error'})`, e);
  } finally {
    key.fill(0);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

export interface FileKeyStoreOptions extends Omit<EnvelopeKeyStoreOptions, 'retired'> {
  /** Create the KEK file when it is missing (default true). */
  readonly create?: boolean;
  /** Files of former KEKs, kept so that old blobs still unwrap until `rewrap`ped. Never created. */
  readonly retiredPaths?: readonly string[];
}

/** The keystore with its KEK in a file. */
export class FileKeyStore extends EnvelopeKeyStore {
  readonly path: string;
  /** True when `open` created the KEK file. */
  readonly created: boolean;
  readonly #keks: readonly FileKek[];

  private constructor(path: string, created: boolean, current: FileKek, retired: readonly FileKek[], options: FileKeyStoreOptions) {
    super(current, { ...(options.random !== undefined ? { random: options.random } : {}), retired });
    this.path = path;
    this.created = created;
    this.#keks = [current, ...retired];
  }

  static async open(path: string, options: FileKeyStoreOptions = {}): Promise<FileKeyStore> {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('KEK path must be a non-empty string');
    let created = false;
    let key = readKekFile(path);
    if (key === undefined) {
      if (options.create === false) bad(path, 'does not exist');
      created = createKekFile(path);
      key = readKekFile(path);
      if (key === undefined) bad(path, 'vanished after creation');
    }
    const current = new FileKek(key, options.random);
    key.fill(0);
    const retired = (options.retiredPaths ?? []).map((p) => {
      const k = readKekFile(p);
      if (k === undefined) bad(p, 'does not exist');
      const kek = new FileKek(k, options.random);
      k.fill(0);
      return kek;
    });
    return new FileKeyStore(path, created, current, retired, options);
  }

  /** Zero the KEKs in memory. */
  close(): void {
    for (const k of this.#keks) k.destroy();
  }
}
