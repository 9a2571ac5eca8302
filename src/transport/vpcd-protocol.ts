/**
 * The vpcd wire protocol (virtual smart card reader driver of vsmartcard, `ifd-vpcd`), sans-IO.
 *
 * A TCP stream in both directions of messages, each preceded by its length on two bytes, big endian.
 * From vpcd to the card: a 1-byte message is a control code (00 power off, 01 power on, 02 reset,
 * 04 get ATR); a longer one is a C-APDU. The card answers GET ATR with the ATR and a C-APDU with the
 * R-APDU, and nothing else. vpcd treats an empty answer as a removed card, so none is ever sent.
 */
import { TransportError } from './errors.ts';
import type { CardPort } from './card-port.ts';

/** vpcd's standard port (reader slot 0; slot n listens on this + n). */
export const VPCD_DEFAULT_PORT = 35963;

/** Control codes of 1-byte messages. */
export const VPCD_CTRL = Object.freeze({ OFF: 0x00, ON: 0x01, RESET: 0x02, ATR: 0x04 } as const);

/** Prefix a message with its 2-byte big-endian length. */
export function encodeVpcdFrame(message: Uint8Array): Uint8Array {
  if (message.length > 0xffff) throw new RangeError(`vpcd message too long: ${message.length}`);
  const out = new Uint8Array(message.length + 2);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

/** Reassembles length-prefixed messages from stream chunks of any size. */
export class VpcdFrameReader {
  #buffer: Uint8Array = new Uint8Array(0);

  /** Feed bytes; returns every message completed by them (possibly empty ones). */
  push(chunk: Uint8Array): Uint8Array[] {
    const merged = new Uint8Array(this.#buffer.length + chunk.length);
    merged.set(this.#buffer);
    merged.set(chunk, this.#buffer.length);
    const out: Uint8Array[] = [];
    let o = 0;
    while (merged.length - o >= 2) {
      const len = (merged[o]! << 8) | merged[o + 1]!;
      if (merged.length - o - 2 < len) break;
      out.push(merged.slice(o + 2, o + 2 + len));
      o += 2 + len;
    }
    this.#buffer = merged.slice(o);
    return out;
  }

  /** Bytes waiting for the rest of their message. */
  get pending(): number {
    return this.#buffer.length;
  }
}

export interface VpcdSessionOptions {
  /** Called after each APDU exchange with the command and response bytes. */
  readonly onExchange?: (command: Uint8Array, response: Uint8Array) => void;
}

export interface VpcdReply {
  /** Message to send back (without its length prefix), if any. */
  readonly reply?: Uint8Array;
  /** What went wrong with this message; the connection stays up. */
  readonly error?: Error;
}

/** 6F00: what the card answers when processing a command threw. */
const SW_NO_PRECISE_DIAGNOSIS = Uint8Array.of(0x6f, 0x00);
/** 6581 (ISO/IEC 7816-4 §5.6: memory failure): the card could not keep the change; it is undone. */
const SW_MEMORY_FAILURE = Uint8Array.of(0x65, 0x81);

/** The card side of one vpcd message, driving a `CardPort`. */
export class VpcdSession {
  readonly #card: CardPort;
  readonly #onExchange: VpcdSessionOptions['onExchange'];
  #atr: Uint8Array | undefined;
  #powered = false;

  constructor(card: CardPort, options: VpcdSessionOptions = {}) {
    this.#card = card;
    this.#onExchange = options.onExchange;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** The card left the reader (connection lost): power it off. */
  detach(): void {
    if (this.#powered) this.#card.powerOff();
    this.#powered = false;
  }

  /**
   * `handle`, then the card's durability barrier (`CardPort.sync`) before an APDU's answer may go out: the
   * card persists before it answers. When the card cannot keep its state the answer is 6581 instead.
   * Messages must be handled one after the other (await each).
   */
  async handleDurably(message: Uint8Array): Promise<VpcdReply> {
    const out = this.handle(message);
    if (message.length <= 1 || out.reply === undefined || !this.#card.sync) return out;
    try {
      await this.#card.sync();
      return out;
    } catch (e) {
      return { reply: SW_MEMORY_FAILURE.slice(), error: new TransportError('CARD_MEMORY', `the card could not keep its state: ${(e as Error).message}`, { cause: e }) };
    }
  }

  handle(message: Uint8Array): VpcdReply {
    try {
      if (message.length === 0) return { error: new TransportError('PROTOCOL', 'vpcd sent an empty message') };
      if (message.length === 1) return this.#control(message[0]!);
      return this.#apdu(message);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      // A command must always get an answer, or pcscd waits for ever.
      return message.length > 1 ? { reply: SW_NO_PRECISE_DIAGNOSIS.slice(), error } : { error };
    }
  }

  #control(code: number): VpcdReply {
    switch (code) {
      case VPCD_CTRL.OFF:
        this.detach();
        return {};
      case VPCD_CTRL.ON:
        this.#atr = this.#card.powerOn().slice();
        this.#powered = true;
        return {};
      case VPCD_CTRL.RESET:
        this.#atr = (this.#powered ? this.#card.reset() : this.#card.powerOn()).slice();
        this.#powered = true;
        return {};
      case VPCD_CTRL.ATR:
        if (this.#atr === undefined) {
          this.#atr = this.#card.powerOn().slice();
          this.#powered = true;
        }
        return { reply: this.#atr.slice() };
      default:
        return { error: new TransportError('PROTOCOL', `unknown vpcd control code ${code}`) };
    }
  }

  #apdu(command: Uint8Array): VpcdReply {
    if (!this.#powered) {
      this.#atr = this.#card.powerOn().slice();
      this.#powered = true;
    }
    const resp = this.#card.process(command.slice());
    if (resp.length < 2 || resp.length > 0xffff) {
      return { reply: SW_NO_PRECISE_DIAGNOSIS.slice(), error: new TransportError('PROTOCOL', `card returned a ${resp.length}-byte response`) };
    }
    this.#onExchange?.(command.slice(), resp.slice());
    return { reply: resp.slice() };
  }
}
