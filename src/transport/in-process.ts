/**
 * In-process transport: a `CardChannel` straight onto a `CardPort` (the simulator in the same
 * process), powered on at the first command. Optional trace hook for APDU logs. Each response is returned
 * only after the card's durability barrier (`CardPort.sync`).
 */
import type { CardChannel } from '../apdu/channel.ts';
import type { CardPort } from './card-port.ts';
import { TransportError } from './errors.ts';

export interface InProcessOptions {
  /** Called after each exchange with copies of the command and response bytes. */
  readonly onExchange?: (command: Uint8Array, response: Uint8Array) => void;
}

export class InProcessChannel implements CardChannel {
  readonly #port: CardPort;
  readonly #onExchange: InProcessOptions['onExchange'];
  #atr: Uint8Array | undefined;
  #closed = false;

  constructor(port: CardPort, options: InProcessOptions = {}) {
    this.#port = port;
    this.#onExchange = options.onExchange;
  }

  /** ATR of the last power-on or reset; undefined while the card is unpowered. */
  get atr(): Uint8Array | undefined {
    return this.#atr?.slice();
  }

  /** Power the card on now (cold reset) and return its ATR. */
  powerOn(): Uint8Array {
    this.#checkOpen();
    this.#atr = this.#port.powerOn().slice();
    return this.#atr.slice();
  }

  /** Warm reset; returns the ATR. */
  reset(): Uint8Array {
    this.#checkOpen();
    this.#atr = this.#port.reset().slice();
    return this.#atr.slice();
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen();
    if (this.#atr === undefined) this.powerOn();
    const cmd = command.slice();
    const resp = this.#port.process(cmd).slice();
    // The card persists before it answers: the response leaves only once its change of state is durable.
    if (this.#port.sync) {
      try {
        await this.#port.sync();
      } catch (e) {
        throw new TransportError('CARD_MEMORY', `the card could not keep its state: ${(e as Error).message}`, { cause: e });
      }
    }
    this.#onExchange?.(cmd.slice(), resp.slice());
    return resp;
  }

  /** Power the card off; further transmits fail with `TransportError('CLOSED')`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#atr !== undefined) this.#port.powerOff();
    this.#atr = undefined;
  }

  #checkOpen(): void {
    if (this.#closed) throw new TransportError('CLOSED', 'in-process channel is closed');
  }
}
