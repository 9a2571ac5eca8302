/**
 * PC/SC without a native Node module: `pcsc-bridge.c` is compiled on demand against libpcsclite
 * (Debian: libpcsclite-dev) into a cache folder, then run as a long-lived child process spoken to
 * over stdin/stdout with length-prefixed frames (format documented in pcsc-bridge.c).
 */
import { spawn, execFile, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { TransportError } from './errors.ts';

/** SCARD_SHARE_* */
export const SCARD_SHARE = Object.freeze({ EXCLUSIVE: 1, SHARED: 2, DIRECT: 3 } as const);
/** SCARD_PROTOCOL_* */
export const SCARD_PROTOCOL = Object.freeze({ T0: 1, T1: 2, RAW: 4, ANY: 3 } as const);
/** SCARD_*_CARD dispositions. */
export const SCARD_DISPOSITION = Object.freeze({ LEAVE: 0, RESET: 1, UNPOWER: 2, EJECT: 3 } as const);
/** PC/SC return codes the transport reacts to. */
export const SCARD_E = Object.freeze({
  NO_SMARTCARD: 0x8010000c,
  UNKNOWN_READER: 0x80100009,
  NO_SERVICE: 0x8010001d,
  NO_READERS_AVAILABLE: 0x8010002e,
  REMOVED_CARD: 0x80100069,
  UNRESPONSIVE_CARD: 0x80100066,
  UNPOWERED_CARD: 0x80100067,
  RESET_CARD: 0x80100068,
  SHARING_VIOLATION: 0x8010000b,
} as const);

const OP = { LIST: 1, CONNECT: 2, TRANSMIT: 3, DISCONNECT: 4, RECONNECT: 5 } as const;

const SOURCE = fileURLToPath(new URL('./pcsc-bridge.c', import.meta.url));

export interface BuildOptions {
  /** Where the compiled bridge is kept; default ~/.cache/opentsm. */
  readonly cacheDir?: string;
  /** C compiler; default `cc`. */
  readonly compiler?: string;
}

function run(file: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

async function pcscFlags(): Promise<string[]> {
  try {
    const { stdout } = await run('pkg-config', ['--cflags', '--libs', 'libpcsclite']);
    const flags = stdout.trim().split(/\s+/).filter((f) => f.length > 0);
    if (flags.length > 0) return flags;
  } catch {
    // No pkg-config or no .pc file: fall back to the Debian layout.
  }
  return ['-I/usr/include/PCSC', '-pthread', '-lpcsclite'];
}

const building = new Map<string, Promise<string>>();

/**
 * Path of the compiled bridge, compiling it first when it is missing or its source changed
 * (the binary name carries a hash of the source). Throws `TransportError('PCSC_UNAVAILABLE')` when
 * there is no compiler or no libpcsclite headers, `BRIDGE_BUILD_FAILED` for other compiler errors.
 */
export function buildPcscBridge(options: BuildOptions = {}): Promise<string> {
  const key = JSON.stringify([options.cacheDir ?? '', options.compiler ?? '']);
  let p = building.get(key);
  if (p === undefined) {
    p = build(options);
    p.catch(() => building.delete(key));
    building.set(key, p);
  }
  return p;
}

async function build(options: BuildOptions): Promise<string> {
  const source = await readFile(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = options.cacheDir ?? join(homedir(), '.cache', 'opentsm');
  const binary = join(dir, `pcsc-bridge-${hash}`);
  try {
    if ((await stat(binary)).isFile()) return binary;
  } catch {
    // Not built yet.
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${binary}.${process.pid}.${Date.now()}.tmp`;
  const compiler = options.compiler ?? 'cc';
  try {
    await run(compiler, ['-O2', '-o', tmp, SOURCE, ...(await pcscFlags())]);
  } catch (e) {
    await rm(tmp, { force: true });
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw new TransportError('PCSC_UNAVAILABLE', `PC/SC bridge needs a C compiler ('${compiler}' not found); install build-essential and libpcsclite-dev`, { cause: e });
    }
    const stderr = err.stderr ?? '';
    if (/winscard\.h|wintypes\.h|-lpcsclite|cannot find -lpcsclite/.test(stderr)) {
      throw new TransportError('PCSC_UNAVAILABLE', 'PC/SC bridge needs libpcsclite headers and library (Debian: apt-get install libpcsclite-dev)', { cause: e });
    }
    throw new TransportError('BRIDGE_BUILD_FAILED', `compiling the PC/SC bridge failed: ${stderr.trim().slice(0, 2000)}`, { cause: e });
  }
  await rename(tmp, binary); // atomic: concurrent builders race harmlessly
  return binary;
}

export interface BridgeOptions extends BuildOptions {
  /** Time limit for one request (a card that never answers); default 60 s. The bridge is killed then. */
  readonly timeoutMs?: number;
}

interface Pending {
  resolve(body: Uint8Array): void;
  reject(e: Error): void;
}

/** A running bridge process; one request at a time is sent, in order. */
export class PcscBridge {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #timeoutMs: number;
  readonly #queue: Pending[] = [];
  #buffer: Uint8Array = new Uint8Array(0);
  #stderr = '';
  #dead: TransportError | undefined;
  #exited: Promise<void>;

  private constructor(binary: string, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#exited = new Promise((resolve) => this.#child.once('close', () => resolve()));
    this.#child.stdout.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2000);
    });
    this.#child.stdin.on('error', () => {});
    this.#child.on('error', (e) => this.#fail(new TransportError('CONNECTION_LOST', `PC/SC bridge failed: ${e.message}`, { cause: e })));
    this.#child.on('exit', (code, sig) => {
      this.#fail(new TransportError('CONNECTION_LOST', `PC/SC bridge exited (${sig ?? code})${this.#stderr ? `: ${this.#stderr.trim()}` : ''}`));
    });
  }

  /** Build if needed and start a bridge process. */
  static async start(options: BridgeOptions = {}): Promise<PcscBridge> {
    const binary = await buildPcscBridge(options);
    return new PcscBridge(binary, options.timeoutMs ?? 60_000);
  }

  /** Names of the readers pcscd knows; empty when there are none. */
  async listReaders(): Promise<string[]> {
    const body = await this.#request(OP.LIST, new Uint8Array(0));
    if (body.length === 0) return [];
    return Buffer.from(body).toString('utf8').split('\0');
  }

  /** SCardConnect; returns the active protocol (SCARD_PROTOCOL) and the ATR. */
  async connect(reader: string, shareMode: number = SCARD_SHARE.SHARED, protocols: number = SCARD_PROTOCOL.ANY): Promise<{ protocol: number; atr: Uint8Array }> {
    const name = Buffer.from(reader, 'utf8');
    const body = await this.#request(OP.CONNECT, Uint8Array.from([shareMode, protocols, ...name]));
    return { protocol: body[0]!, atr: body.slice(1) };
  }

  /** SCardReconnect (warm reset with `SCARD_DISPOSITION.RESET`); returns protocol and ATR. */
  async reconnect(initialization: number = SCARD_DISPOSITION.RESET, shareMode: number = SCARD_SHARE.SHARED, protocols: number = SCARD_PROTOCOL.ANY): Promise<{ protocol: number; atr: Uint8Array }> {
    const body = await this.#request(OP.RECONNECT, Uint8Array.of(shareMode, protocols, initialization));
    return { protocol: body[0]!, atr: body.slice(1) };
  }

  /** SCardTransmit: one C-APDU, one R-APDU. */
  transmit(command: Uint8Array): Promise<Uint8Array> {
    return this.#request(OP.TRANSMIT, command);
  }

  /** SCardDisconnect. */
  async disconnect(disposition: number = SCARD_DISPOSITION.LEAVE): Promise<void> {
    await this.#request(OP.DISCONNECT, Uint8Array.of(disposition));
  }

  /** End the process (it disconnects and releases its context); kills it if it does not exit. */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.stdin.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
      await this.#exited;
      clearTimeout(timer);
    }
    this.#fail(new TransportError('CLOSED', 'PC/SC bridge is closed'));
  }

  #request(op: number, payload: Uint8Array): Promise<Uint8Array> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const frame = new Uint8Array(5 + payload.length);
    new DataView(frame.buffer).setUint32(0, 1 + payload.length);
    frame[4] = op;
    frame.set(payload, 5);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new TransportError('TIMEOUT', `PC/SC bridge did not answer within ${this.#timeoutMs} ms`));
        this.#child.kill('SIGKILL');
      }, this.#timeoutMs);
      this.#queue.push({
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.stdin.write(frame);
    });
  }

  #onData(chunk: Buffer): void {
    const merged = new Uint8Array(this.#buffer.length + chunk.length);
    merged.set(this.#buffer);
    merged.set(chunk, this.#buffer.length);
    let o = 0;
    while (merged.length - o >= 4) {
      const len = new DataView(merged.buffer, o, 4).getUint32(0);
      if (merged.length - o - 4 < len) break;
      const body = merged.slice(o + 4, o + 4 + len);
      o += 4 + len;
      const pending = this.#queue.shift();
      if (pending === undefined) continue;
      if (body[0] === 0) {
        pending.resolve(body.slice(1));
      } else {
        const code = body.length >= 5 ? new DataView(body.buffer, body.byteOffset + 1, 4).getUint32(0) : 0;
        const message = Buffer.from(body.subarray(5)).toString('utf8');
        pending.reject(pcscError(code, message));
      }
    }
    this.#buffer = merged.slice(o);
  }

  #fail(e: TransportError): void {
    if (this.#dead === undefined) this.#dead = e;
    for (const p of this.#queue.splice(0)) p.reject(e);
  }
}

/** A typed error for a PC/SC return code. */
export function pcscError(code: number, message: string): TransportError {
  const kind =
    code === SCARD_E.NO_SMARTCARD || code === SCARD_E.REMOVED_CARD || code === SCARD_E.UNRESPONSIVE_CARD || code === SCARD_E.UNPOWERED_CARD
      ? 'NO_CARD'
      : code === SCARD_E.UNKNOWN_READER || code === SCARD_E.NO_READERS_AVAILABLE
        ? 'NO_READER'
        : code === SCARD_E.NO_SERVICE
          ? 'CONNECTION_FAILED'
          : 'PCSC_ERROR';
  return new TransportError(kind, message, { pcscCode: code });
}

