/**
 * PC/SC `CardChannel` through an OPTIONAL native module, loaded with dynamic `import()`:
 * `pcsclite` or `@pokusew/pcsclite` (same API: a factory returning an EventEmitter that emits
 * 'reader'; readers emit 'status' {state, atr}, and offer connect/transmit/disconnect with callbacks).
 * Neither is a dependency of opentsm; without one, `TransportError('PCSC_UNAVAILABLE')`.
 * `PcscChannel` (pcsc-channel.ts) reaches pcscd without any native module.
 */
import type { CardChannel } from '../apdu/channel.ts';
import { TransportError } from './errors.ts';

/** The parts of the pcsclite API used here. */
export interface PcscliteReader {
  readonly name: string;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  on(event: 'status', listener: (status: { state: number; atr?: Uint8Array }) => void): unknown;
  on(event: 'error' | 'end', listener: (arg?: unknown) => void): unknown;
  connect(options: { share_mode?: number; protocol?: number }, cb: (err: Error | null | undefined, protocol: number) => void): void;
  transmit(data: Uint8Array, resLen: number, protocol: number, cb: (err: Error | null | undefined, data: Uint8Array) => void): void;
  disconnect(disposition: number, cb: (err: Error | null | undefined) => void): void;
  close(): void;
}

export interface PcscliteContext {
  on(event: 'reader', listener: (reader: PcscliteReader) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): void;
}

export type PcscliteFactory = () => PcscliteContext;

export interface NativePcscOptions {
  /** Exact reader name or a RegExp; default the first reader that shows a card. */
  readonly reader?: string | RegExp;
  /** How long to wait for a matching reader with a card; default 10 s. */
  readonly timeoutMs?: number;
  readonly exclusive?: boolean;
  /** Package names tried in order; default ['pcsclite', '@pokusew/pcsclite']. */
  readonly packages?: readonly string[];
  /** Replaces the dynamic import (tests, bundlers). */
  readonly load?: () => Promise<PcscliteFactory>;
}

const DEFAULT_PACKAGES = ['pcsclite', '@pokusew/pcsclite'] as const;
const MAX_RESPONSE = 65538;

/** Load the optional package; `TransportError('PCSC_UNAVAILABLE')` when none can be imported. */
export async function loadPcsclite(packages: readonly string[] = DEFAULT_PACKAGES): Promise<PcscliteFactory> {
  const failures: unknown[] = [];
  for (const name of packages) {
    try {
      const mod = (await import(name)) as { default?: unknown };
      const factory = typeof mod.default === 'function' ? mod.default : mod;
      if (typeof factory === 'function') return factory as PcscliteFactory;
      failures.push(new Error(`${name} does not export a factory function`));
    } catch (e) {
      failures.push(e);
    }
  }
  throw new TransportError(
    'PCSC_UNAVAILABLE',
    `PC/SC support needs the optional package ${packages.map((p) => `'${p}'`).join(' or ')} (npm install pcsclite; it builds against libpcsclite-dev), or use PcscChannel, which needs only a C compiler and libpcsclite-dev`,
    { cause: new AggregateError(failures, 'import failed') },
  );
}

/** A card connection through the native pcsclite module. */
export class NativePcscChannel implements CardChannel {
  readonly #context: PcscliteContext;
  readonly #reader: PcscliteReader;
  readonly #protocol: number;
  readonly atr: Uint8Array;
  #closed = false;

  private constructor(context: PcscliteContext, reader: PcscliteReader, protocol: number, atr: Uint8Array) {
    this.#context = context;
    this.#reader = reader;
    this.#protocol = protocol;
    this.atr = atr;
  }

  get reader(): string {
    return this.#reader.name;
  }

  transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new TransportError('CLOSED', 'PC/SC channel is closed'));
    return new Promise((resolve, reject) => {
      this.#reader.transmit(Buffer.from(command), MAX_RESPONSE, this.#protocol, (err, data) => {
        if (err) reject(new TransportError('PCSC_ERROR', `transmit failed: ${err.message}`, { cause: err }));
        else resolve(Uint8Array.from(data));
      });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.#reader.disconnect(this.#reader.SCARD_LEAVE_CARD, () => resolve()));
    this.#context.close();
  }

  /** Wait for a matching reader with a card and connect to it. */
  static async open(options: NativePcscOptions = {}): Promise<NativePcscChannel> {
    const factory = options.load !== undefined ? await options.load() : await loadPcsclite(options.packages);
    const context = factory();
    const timeoutMs = options.timeoutMs ?? 10_000;
    const matches = (name: string): boolean =>
      options.reader === undefined ? true : typeof options.reader === 'string' ? name === options.reader : options.reader.test(name);
    try {
      const { reader, atr } = await new Promise<{ reader: PcscliteReader; atr: Uint8Array }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new TransportError('NO_CARD', `no matching reader with a card within ${timeoutMs} ms`)), timeoutMs);
        context.on('error', (e) => {
          clearTimeout(timer);
          reject(new TransportError('PCSC_ERROR', `PC/SC: ${e.message}`, { cause: e }));
        });
        context.on('reader', (r) => {
          if (!matches(r.name)) return;
          r.on('error', () => {});
          r.on('status', (status) => {
            if ((status.state & r.SCARD_STATE_PRESENT) === 0) return;
            clearTimeout(timer);
            resolve({ reader: r, atr: Uint8Array.from(status.atr ?? []) });
          });
        });
      });
      const share = options.exclusive === true ? reader.SCARD_SHARE_EXCLUSIVE : reader.SCARD_SHARE_SHARED;
      const protocol = await new Promise<number>((resolve, reject) => {
        reader.connect({ share_mode: share, protocol: reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1 }, (err, p) => {
          if (err) reject(new TransportError('PCSC_ERROR', `connect to ${reader.name} failed: ${err.message}`, { cause: err }));
          else resolve(p);
        });
      });
      return new NativePcscChannel(context, reader, protocol, atr);
    } catch (e) {
      context.close();
      throw e;
    }
  }
}
