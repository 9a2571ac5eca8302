/**
 * A `CardChannel` that carries every command inside an open secure channel: plain C-APDU in,
 * wrapped on the way out, unwrapped on the way back, plain R-APDU out. Layers compose as
 * CONVENTIONS.md asks: GP commands → secure channel → transport.
 *
 * `SecureSession.open` selects the security domain first (plain SELECT, GPCS 2.3.1 §11.9) and
 * then runs INITIALIZE UPDATE / EXTERNAL AUTHENTICATE through `openSecureChannel`. Over transports with
 * scripts (OTA, terminals) the SELECT travels with the INITIALIZE UPDATE, and with `deferAuthentication`
 * the EXTERNAL AUTHENTICATE travels with the first commands of the session (`transmitBatch`): the channel
 * is open on the card only when that first batch has run, and a refused EXTERNAL AUTHENTICATE fails it.
 * Other openers (SCP11c, asymmetric-session.ts) defer several commands the same way with a
 * `PendingAuthentication`: commands sent ahead of the first batch and the check of their responses.
 */
import { transmitScript, type CardChannel } from '../apdu/channel.ts';
import { encodeCommand } from '../apdu/command.ts';
import { ApduError } from '../apdu/errors.ts';
import { buildSelect } from '../gp/select.ts';
import type { HostSecureChannel } from './channel.ts';
import { SecureChannelError } from './errors.ts';
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
  /** Send EXTERNAL AUTHENTICATE with the first commands of the session instead of on its own. */
  readonly deferAuthentication?: boolean;
}

/**
 * Commands that complete the opening of the channel on the card, sent (as they are) ahead of the first batch,
 * and the check of their responses: `check` gets the responses of those the card executed (fewer when the
 * script stopped) and throws when they do not complete the authentication; the session is then failed.
 */
export interface PendingAuthentication {
  readonly commands: readonly Uint8Array[];
  check(responses: readonly Uint8Array[]): void;
}

function swOf(r: Uint8Array): number {
  return r.length < 2 ? 0 : (r[r.length - 2]! << 8) | r[r.length - 1]!;
}

/** A deferred EXTERNAL AUTHENTICATE: one command that must be answered 9000. */
function externalAuthenticate(command: Uint8Array): PendingAuthentication {
  return {
    commands: [command],
    check(responses) {
      const sw = swOf(responses[0] ?? new Uint8Array(0));
      if (sw !== 0x9000) throw new SecureChannelError('BAD_STATUS', 'EXTERNAL AUTHENTICATE refused', sw);
    },
  };
}

export class SecureSession implements CardChannel {
  readonly channel: HostSecureChannel;
  readonly #transport: CardChannel;
  readonly #observer: SessionObserver;
  /** EXTERNAL AUTHENTICATE (or another opener's commands) still to be sent (deferred authentication). */
  #pendingAuthentication: PendingAuthentication | undefined;
  #broken = false;

  constructor(transport: CardChannel, channel: HostSecureChannel, observer: SessionObserver = {}, pendingAuthentication?: Uint8Array | PendingAuthentication) {
    this.#transport = transport;
    this.channel = channel;
    this.#observer = observer;
    this.#pendingAuthentication = pendingAuthentication instanceof Uint8Array ? externalAuthenticate(pendingAuthentication) : pendingAuthentication;
  }

  /** True while commands that open the channel on the card wait for the first batch. */
  get authenticationPending(): boolean {
    return this.#pendingAuthentication !== undefined;
  }

  /** SELECT the SD (when given) and authenticate; throws `ApduError`/`SecureChannelError` with the card's SW. */
  static async open(transport: CardChannel, options: SecureSessionOptions): Promise<SecureSession> {
    const observer = options.observer ?? {};
    const script = async (commands: Uint8Array[]): Promise<Uint8Array[]> => {
      const responses = await transmitScript(transport, commands);
      commands.forEach((c, n) => {
        observer.wireCommand?.(c);
        if (responses[n] !== undefined) observer.wireResponse?.(responses[n]);
      });
      return responses;
    };
    let select = options.sdAid !== undefined ? encodeCommand(buildSelect(options.sdAid)) : undefined;
    let deferred: Uint8Array | undefined;
    let step = 0;
    const transmit = async (apdu: Uint8Array): Promise<Uint8Array> => {
      step++;
      if (step === 1 && select !== undefined) {
        // SELECT and INITIALIZE UPDATE in one script; the script stops at a refused SELECT.
        const [s, iu] = await script([select, apdu]);
        select = undefined;
        const sw = swOf(s!);
        // 6283: selected, but the card is CARD_LOCKED (GPCS 2.3.1 Table 11-83) — the SD still opens a channel,
        // which is how the card gets unlocked.
        if (sw !== 0x9000 && sw !== 0x6283) throw new ApduError('STATUS', sw, 0xa4, 'SELECT of the security domain failed');
        return iu!;
      }
      if (step === 2 && options.deferAuthentication === true) {
        deferred = apdu;
        return Uint8Array.of(0x90, 0x00);
      }
      return (await script([apdu]))[0]!;
    };
    const channel = await openSecureChannel(transmit, options);
    return new SecureSession(transport, channel, observer, deferred);
  }

  /**
   * Send plain commands as one script, each wrapped in order, and return the plain responses of those the
   * card executed (a script stops after an error status word; the last response then carries it). A
   * deferred EXTERNAL AUTHENTICATE goes first and must be answered 9000.
   */
  async transmitBatch(plainCommands: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (this.#broken) throw new SecureChannelError('NOT_AUTHENTICATED', 'the secure session ended with a failed script');
    const auth = this.#pendingAuthentication;
    this.#pendingAuthentication = undefined;
    const ahead = auth?.commands ?? [];
    const wrapped: Uint8Array[] = [...ahead];
    for (const p of plainCommands) wrapped.push(this.channel.wrapCommand(p));
    let responses: Uint8Array[];
    try {
      responses = await transmitScript(this.#transport, wrapped);
    } catch (e) {
      this.#fail();
      throw e;
    }
    const o = this.#observer;
    if (auth !== undefined) {
      const rs = responses.splice(0, ahead.length);
      ahead.forEach((c, n) => {
        o.wireCommand?.(c);
        if (rs[n] !== undefined) o.wireResponse?.(rs[n]);
      });
      try {
        auth.check(rs);
      } catch (e) {
        this.#fail();
        throw e;
      }
      wrapped.splice(0, ahead.length);
    }
    // Traced in pairs, in order; commands after a script stopped are traced as sent, without an answer.
    const plain: Uint8Array[] = [];
    plainCommands.forEach((p, n) => {
      o.plainCommand?.(p);
      o.wireCommand?.(wrapped[n]!);
      const r = responses[n];
      if (r === undefined) return;
      o.wireResponse?.(r);
      const u = this.channel.unwrapResponse(r);
      o.plainResponse?.(u);
      plain.push(u);
    });
    // A script that stopped early leaves wrapped commands the card never saw: the session cannot go on.
    if (plain.length < plainCommands.length) this.#fail();
    return plain;
  }

  async transmit(plainApdu: Uint8Array): Promise<Uint8Array> {
    const [r] = await this.transmitBatch([plainApdu]);
    if (r === undefined) throw new SecureChannelError('BAD_RESPONSE', 'the card executed no command of the script');
    return r;
  }

  async transmitScript(plainCommands: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return this.transmitBatch(plainCommands);
  }

  /** Encrypt key components for PUT KEY under this session's DEK rule. */
  encryptKeyData(key: Uint8Array): Uint8Array {
    return this.channel.encryptKeyData(key);
  }

  #fail(): void {
    this.#broken = true;
    this.channel.close();
  }

  /** Close the secure channel (forget session keys); the transport stays open. */
  async close(): Promise<void> {
    this.channel.close();
  }
}
