/**
 * `OtaChannel`: a `CardChannel` onto a phone's card through the OTA server. Each `transmit` is one RAM
 * over HTTP script with one C-APDU; `transmitScript` batches several into one script.
 */
import type { CardChannel } from '../../apdu/channel.ts';
import { OtaError } from './errors.ts';
import type { ScriptOptions } from './ota-server.ts';

export interface OtaChannelOptions {
  /** X-Admin-Targeted-Application for every script of this channel; absent = the agent's own SD. */
  readonly targetAid?: Uint8Array;
  /** Time limit per script (default: the server's). */
  readonly timeoutMs?: number;
}

/** What a channel needs from the server (keeps this file free of the server's internals). */
export interface ScriptTransmitter {
  transmitScript(deviceId: string, apdus: readonly Uint8Array[], options?: ScriptOptions): Promise<Uint8Array[]>;
}

export class OtaChannel implements CardChannel {
  readonly deviceId: string;
  readonly #server: ScriptTransmitter;
  readonly #options: ScriptOptions;
  #closed = false;

  constructor(server: ScriptTransmitter, deviceId: string, options: OtaChannelOptions = {}) {
    this.#server = server;
    this.deviceId = deviceId;
    this.#options = {
      ...(options.targetAid !== undefined ? { targetAid: options.targetAid.slice() } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    };
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    const [r] = await this.transmitScript([command]);
    if (r === undefined) throw new OtaError('BAD_RESPONSE', 'no R-APDU came back', { deviceId: this.deviceId });
    return r;
  }

  /** R-APDUs of a batch; fewer than the commands when the agent stopped at an error status word. */
  async transmitScript(commands: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (this.#closed) throw new OtaError('CLOSED', 'this OTA channel is closed', { deviceId: this.deviceId });
    return this.#server.transmitScript(this.deviceId, commands, this.#options);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
