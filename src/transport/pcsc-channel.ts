/**
 * PC/SC `CardChannel` over the on-demand bridge process (`pcsc-bridge.ts`): talks to pcscd, so it
 * reaches real readers and the simulator behind vpcd alike, with no native Node module.
 */
import type { CardChannel } from '../apdu/channel.ts';
import { PcscBridge, SCARD_DISPOSITION, SCARD_SHARE, SCARD_PROTOCOL, type BridgeOptions } from './pcsc-bridge.ts';
import { TransportError } from './errors.ts';

export interface PcscChannelOptions extends BridgeOptions {
  /**
   * Which reader: its exact name, a RegExp on names, or an index into the reader list.
   * Default: the first reader that holds a card.
   */
  readonly reader?: string | RegExp | number;
  /** Share mode; default shared. */
  readonly exclusive?: boolean;
  /** Keep trying (readers appearing, card inserted) for this long; default 0 (one attempt). */
  readonly waitMs?: number;
  /** Delay between attempts while waiting; default 200 ms. */
  readonly pollMs?: number;
  /** What to do with the card on close; default leave it powered. */
  readonly disposition?: 'leave' | 'reset' | 'unpower';
}

const DISPOSITIONS = { leave: SCARD_DISPOSITION.LEAVE, reset: SCARD_DISPOSITION.RESET, unpower: SCARD_DISPOSITION.UNPOWER } as const;

/** A card connection through pcscd. */
export class PcscChannel implements CardChannel {
  readonly #bridge: PcscBridge;
  readonly #disposition: number;
  readonly reader: string;
  #atr: Uint8Array;
  #protocol: number;
  #closed = false;

  private constructor(bridge: PcscBridge, reader: string, protocol: number, atr: Uint8Array, disposition: number) {
    this.#bridge = bridge;
    this.reader = reader;
    this.#protocol = protocol;
    this.#atr = atr;
    this.#disposition = disposition;
  }

  /** ATR returned at connect (or the last reset). */
  get atr(): Uint8Array {
    return this.#atr.slice();
  }

  /** Active protocol: 1 = T=0, 2 = T=1, 4 = raw. */
  get protocol(): number {
    return this.#protocol;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw new TransportError('CLOSED', 'PC/SC channel is closed');
    return this.#bridge.transmit(command);
  }

  /** Warm reset (SCardReconnect with SCARD_RESET_CARD); returns the ATR. */
  async reset(): Promise<Uint8Array> {
    if (this.#closed) throw new TransportError('CLOSED', 'PC/SC channel is closed');
    const { protocol, atr } = await this.#bridge.reconnect(SCARD_DISPOSITION.RESET);
    this.#protocol = protocol;
    this.#atr = atr;
    return atr.slice();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#bridge.disconnect(this.#disposition);
    } catch {
      // The card or pcscd is gone already; closing the bridge is all that is left.
    }
    await this.#bridge.close();
  }

  /** Start a bridge, pick the reader and connect to its card. */
  static async open(options: PcscChannelOptions = {}): Promise<PcscChannel> {
    const bridge = await PcscBridge.start(options);
    const deadline = Date.now() + (options.waitMs ?? 0);
    const share = options.exclusive === true ? SCARD_SHARE.EXCLUSIVE : SCARD_SHARE.SHARED;
    const disposition = DISPOSITIONS[options.disposition ?? 'leave'];
    for (;;) {
      try {
        const { reader, protocol, atr } = await connectOnce(bridge, options.reader, share);
        return new PcscChannel(bridge, reader, protocol, atr, disposition);
      } catch (e) {
        const retriable = e instanceof TransportError && (e.code === 'NO_CARD' || e.code === 'NO_READER' || e.code === 'CONNECTION_FAILED' || e.code === 'PCSC_ERROR');
        if (!retriable || Date.now() >= deadline) {
          await bridge.close();
          throw e;
        }
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
    }
  }

  /** Reader names known to pcscd (starts and stops a bridge). */
  static async listReaders(options: BridgeOptions = {}): Promise<string[]> {
    const bridge = await PcscBridge.start(options);
    try {
      return await bridge.listReaders();
    } finally {
      await bridge.close();
    }
  }
}

async function connectOnce(bridge: PcscBridge, wanted: PcscChannelOptions['reader'], share: number): Promise<{ reader: string; protocol: number; atr: Uint8Array }> {
  const readers = await bridge.listReaders();
  if (readers.length === 0) throw new TransportError('NO_READER', 'pcscd reports no reader');
  let candidates: string[];
  if (typeof wanted === 'number') candidates = readers[wanted] === undefined ? [] : [readers[wanted]!];
  else if (typeof wanted === 'string') candidates = readers.filter((r) => r === wanted);
  else if (wanted instanceof RegExp) candidates = readers.filter((r) => wanted.test(r));
  else candidates = readers;
  if (candidates.length === 0) throw new TransportError('NO_READER', `no reader matches ${String(wanted)} among ${JSON.stringify(readers)}`);
  let last: unknown;
  for (const reader of candidates) {
    try {
      const { protocol, atr } = await bridge.connect(reader, share, SCARD_PROTOCOL.ANY);
      return { reader, protocol, atr };
    } catch (e) {
      if (!(e instanceof TransportError) || e.code !== 'NO_CARD') throw e;
      last = e;
    }
  }
  throw last instanceof TransportError ? last : new TransportError('NO_CARD', 'no card in any reader');
}
