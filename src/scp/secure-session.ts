/**
 * A `CardChannel` that carries every command inside an open secure channel: plain C-APDU in,
 * wrapped on the way out, unwrapped on the way back, plain R-APDU out. Layers compose as
 * CONVENTIONS.md asks: GP commands → secure channel → transport.
 *
 * `SecureSession.open` selects the security domain first (plain SELECT, GPCS 2.3.1 §11.9) and
 * then runs INITIALIZE UPDATE / EXTERNAL AUTHENTICATE through `openSecureChannel`.
 */
import type { CardChannel } from '../apdu/channel.ts';
import { encodeCommand } from '../apdu/command.ts';
import { decodeResponse } from '../apdu/response.ts';
import { ApduError } from '../apdu/errors.ts';
import { buildSelect } from '../gp/select.ts';
import type { HostSecureChannel } from './channel.ts';
import { openSecureChannel, type OpenSecureChannelOptions } from './open.ts';

/** Observers of every exchange (for `--debug` tracing); they never see key material in clear. */
export interface SessionObserver {
  plainCommand?(apdu: Uint8Array): void;
  wireCommand?(apdu: Uint8Array): void;
  wireResponse?(rapdu: Uint8Array): void;
  plainResponse?(rapdu: Uint8Array): void;
}

export interface SecureSessionOptions extends OpenSecureChannelOptions {
  /** Security domain to SELECT before opening the channel; absent = the currently selected application. */
  readonly sdAid?: Uint8Array;
  readonly observer?: SessionObserver;
}

export class SecureSession implements CardChannel {
  readonly channel: HostSecureChannel;
  readonly #transport: CardChannel;
  readonly #observer: SessionObserver;

  constructor(transport: CardChannel, channel: HostSecureChannel, observer: SessionObserver = {}) {
    this.#transport = transport;
    this.channel = channel;
    this.#observer = observer;
  }

  /** SELECT the SD (when given) and authenticate; throws `ApduError`/`SecureChannelError` with the card's SW. */
  static async open(transport: CardChannel, options: SecureSessionOptions): Promise<SecureSession> {
    const observer = options.observer ?? {};
    const plain = async (apdu: Uint8Array): Promise<Uint8Array> => {
      observer.wireCommand?.(apdu);
      const r = await transport.transmit(apdu);
      observer.wireResponse?.(r);
      return r;
    };
    if (options.sdAid !== undefined) {
      const select = encodeCommand(buildSelect(options.sdAid));
      const r = decodeResponse(await plain(select));
      // 6283: selected, but the card is CARD_LOCKED (GPCS 2.3.1 Table 11-83) — the SD still opens a channel,
      // which is how the card gets unlocked.
      if (r.sw !== 0x9000 && r.sw !== 0x6283) throw new ApduError('STATUS', r.sw, 0xa4, 'SELECT of the security domain failed');
    }
    const channel = await openSecureChannel(plain, options);
    return new SecureSession(transport, channel, observer);
  }

  async transmit(plainApdu: Uint8Array): Promise<Uint8Array> {
    this.#observer.plainCommand?.(plainApdu);
    const wrapped = this.channel.wrapCommand(plainApdu);
    this.#observer.wireCommand?.(wrapped);
    const response = await this.#transport.transmit(wrapped);
    this.#observer.wireResponse?.(response);
    const plain = this.channel.unwrapResponse(response);
    this.#observer.plainResponse?.(plain);
    return plain;
  }

  /** Encrypt key components for PUT KEY under this session's DEK rule. */
  encryptKeyData(key: Uint8Array): Uint8Array {
    return this.channel.encryptKeyData(key);
  }

  /** Close the secure channel (forget session keys); the transport stays open. */
  async close(): Promise<void> {
    this.channel.close();
  }
}
