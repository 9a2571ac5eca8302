/**
 * The OTA server (ARCHITECTURE.md §1 `ota`): the only path from platforms to phones. Platform code asks for
 * `channel(deviceId)` — a `CardChannel` whose `transmit(apdu)` becomes a one-command RAM over HTTP script —
 * or `transmitScript(deviceId, apdus)`; the device is woken up by a push, its admin agent connects over
 * PSK-TLS and fetches the script (see ram-endpoint.ts for sessions, resumption and the no-double-execution
 * rule, ram-server.ts for the wire).
 */
import type { PushTrigger } from '../../transport/ram-http/trigger.ts';
import { OtaChannel, type OtaChannelOptions } from './channel.ts';
import { OtaError } from './errors.ts';
import type { PskStore } from './psk-store.ts';
import type { PushGateway } from './push.ts';
import { isPollable } from './push-long-poll.ts';
import { MAX_SCRIPT_COMMANDS, RamEndpoint, type RamEndpointOptions } from './ram-endpoint.ts';
import { RamServer, type RamFaults } from './ram-server.ts';

export interface OtaServerOptions extends Omit<RamEndpointOptions, 'trigger'> {
  readonly pskStore: PskStore;
  readonly push: PushGateway;
  /** PSK identity hint sent in the handshake (default `opentsm-ota`). */
  readonly identityHint?: string;
  /** OpenSSL cipher list (default PSK-AES128-GCM-SHA256:PSK-AES128-CBC-SHA256). */
  readonly ciphers?: string;
  /** Default time limit of one script, from queueing to R-APDUs (default 30 000 ms). */
  readonly timeoutMs?: number;
  readonly maxBodyBytes?: number;
  readonly keepAliveMs?: number;
  /** Longest time an agent may take to send a whole request (default 30 s; then 408 and the connection closes). */
  readonly requestTimeoutMs?: number;
  /** Fault injection for tests only. */
  readonly faults?: RamFaults;
}

export interface ScriptOptions {
  /** AID for X-Admin-Targeted-Application; absent = the agent's own security domain. */
  readonly targetAid?: Uint8Array;
  readonly timeoutMs?: number;
}

export { MAX_SCRIPT_COMMANDS };

export class OtaServer {
  readonly endpoint: RamEndpoint;
  readonly ram: RamServer;
  readonly #store: PskStore;
  readonly #push: PushGateway;
  readonly #timeoutMs: number;
  readonly #triggerIds = new Map<string, number>();
  #closed = false;
  #url: string | undefined;

  constructor(options: OtaServerOptions) {
    this.#store = options.pskStore;
    this.#push = options.push;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.endpoint = new RamEndpoint({ ...options, trigger: (id) => this.#trigger(id) });
    this.ram = new RamServer({
      endpoint: this.endpoint,
      pskStore: options.pskStore,
      ...(options.identityHint !== undefined ? { identityHint: options.identityHint } : {}),
      ...(options.ciphers !== undefined ? { ciphers: options.ciphers } : {}),
      ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
      ...(options.keepAliveMs !== undefined ? { keepAliveMs: options.keepAliveMs } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.faults !== undefined ? { faults: options.faults } : {}),
      ...(isPollable(options.push) ? { poll: options.push } : {}),
    });
  }

  /** Start the PSK-TLS listener; returns the URL agents POST to first (`https://host:port/ram`). */
  async listen(port = 0, host = '127.0.0.1'): Promise<{ port: number; url: string }> {
    const a = await this.ram.listen(port, host);
    this.#url = `https://${host}:${a.port}${this.endpoint.basePath}`;
    return { port: a.port, url: this.#url };
  }

  get url(): string {
    if (this.#url === undefined) throw new Error('OtaServer: listen() first');
    return this.#url;
  }

  /** A CardChannel to `deviceId`; throws OtaError('UNKNOWN_DEVICE') when no PSK is registered for it. */
  channel(deviceId: string, options: OtaChannelOptions = {}): OtaChannel {
    this.#checkDevice(deviceId);
    return new OtaChannel(this, deviceId, options);
  }

  /**
   * Send C-APDUs as one script and resolve with the R-APDUs. The agent stops at the first error status word
   * (TS 102 226 §5.2.1), so there may be fewer responses than commands; the last one then holds the error.
   */
  transmitScript(deviceId: string, apdus: readonly Uint8Array[], options: ScriptOptions = {}): Promise<Uint8Array[]> {
    if (this.#closed) return Promise.reject(new OtaError('CLOSED', 'the OTA server is closed', { deviceId }));
    try {
      this.#checkDevice(deviceId);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.endpoint.submit(deviceId, apdus, {
      ...(options.targetAid !== undefined ? { targetAid: options.targetAid } : {}),
      timeoutMs: options.timeoutMs ?? this.#timeoutMs,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.endpoint.closeAll(new OtaError('CLOSED', 'the OTA server is closed'));
    const p = this.#push as { close?: () => void };
    if (typeof p.close === 'function' && isPollable(this.#push)) p.close();
    await this.ram.close();
  }

  #checkDevice(deviceId: string): void {
    if (typeof deviceId !== 'string' || !this.#store.hasDevice(deviceId)) {
      throw new OtaError('UNKNOWN_DEVICE', `no device ${String(deviceId).slice(0, 64)} is registered with the OTA server`, { deviceId: String(deviceId) });
    }
  }

  #trigger(deviceId: string): void {
    const id = (this.#triggerIds.get(deviceId) ?? 0) + 1;
    this.#triggerIds.set(deviceId, id);
    const t: PushTrigger = { type: 'ram-http-trigger', deviceId, id };
    this.#push.push(t);
  }
}
