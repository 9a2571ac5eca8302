/**
 * The OTA server (docs/architecture.md §1 `ota`): the only path from platforms to phones. Platform code asks for
 * `channel(deviceId)` — a `CardChannel` whose `transmit(apdu)` becomes a one-command RAM over HTTP script —
 * or `transmitScript(deviceId, apdus)`; the device is woken up by a push, its admin agent connects over
 * PSK-TLS and fetches the script (see transport/ram-http/server-session.ts for sessions, resumption and the no-double-execution
 * rule, ram-server.ts for the wire).
 *
 * One card, one conversation (issue 8 §2; card-conversations.ts): a caller opens a conversation with a card
 * (`openConversation`), sends its scripts naming it, and closes it; meanwhile every other caller waits its turn
 * (FIFO, bounded: OtaError BUSY). A script sent without a conversation is a conversation of its own.
 */
import type { PushTrigger } from '../../transport/ram-http/trigger.ts';
import { CardConversations, ConversationError, type CardConversationsOptions } from '../common/card-conversations.ts';
import { OtaChannel, type OtaChannelOptions } from './channel.ts';
import { OtaError } from './errors.ts';
import { problem } from './problem.ts';
import type { PskStore } from './psk-store.ts';
import type { PushGateway } from './push.ts';
import { isPollable } from './push-long-poll.ts';
import { MAX_SCRIPT_COMMANDS, RamEndpoint, type RamEndpointOptions } from '../../transport/ram-http/server-session.ts';
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
  /** Per-card conversations: longest wait for a held card, idle time limit of a holder, queue length, timers. */
  readonly conversations?: CardConversationsOptions;
}

export interface ScriptOptions {
  /** AID for X-Admin-Targeted-Application; absent = the agent's own security domain. */
  readonly targetAid?: Uint8Array;
  readonly timeoutMs?: number;
  /** The conversation (openConversation) this script belongs to; absent = a conversation of its own. */
  readonly conversationId?: string;
}

export { MAX_SCRIPT_COMMANDS };

/** The OtaError a conversation refusal becomes. */
function otaErrorOf(e: unknown, deviceId: string): unknown {
  if (!(e instanceof ConversationError)) return e;
  if (e.code === 'BUSY') return new OtaError('BUSY', e.message, { deviceId, ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}) });
  if (e.code === 'NOT_HELD') return new OtaError('NOT_HELD', e.message, { deviceId });
  return new OtaError('CLOSED', e.message, { deviceId });
}

export class OtaServer {
  readonly endpoint: RamEndpoint;
  readonly ram: RamServer;
  readonly conversations: CardConversations;
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
    this.conversations = new CardConversations(options.conversations);
    this.endpoint = new RamEndpoint({ ...options, trigger: (id) => this.#trigger(id), problem });
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
  async transmitScript(deviceId: string, apdus: readonly Uint8Array[], options: ScriptOptions = {}): Promise<Uint8Array[]> {
    if (this.#closed) throw new OtaError('CLOSED', 'the OTA server is closed', { deviceId });
    this.#checkDevice(deviceId);
    const submit = () =>
      this.endpoint.submit(deviceId, apdus, {
        ...(options.targetAid !== undefined ? { targetAid: options.targetAid } : {}),
        timeoutMs: options.timeoutMs ?? this.#timeoutMs,
      });
    try {
      if (options.conversationId === undefined) return await this.conversations.once(deviceId, submit);
      return await this.conversations.held(deviceId, options.conversationId).run(submit);
    } catch (e) {
      throw otaErrorOf(e, deviceId);
    }
  }

  /**
   * Wait for the card (first come, first served; OtaError BUSY after `maxWaitMs`) and hold it until
   * `closeConversation` or `idleMs` without a script. Answers the conversation id.
   */
  async openConversation(deviceId: string, maxWaitMs?: number): Promise<{ conversationId: string; idleTimeoutMs: number }> {
    if (this.#closed) throw new OtaError('CLOSED', 'the OTA server is closed', { deviceId });
    this.#checkDevice(deviceId);
    try {
      const c = await this.conversations.open(deviceId, maxWaitMs);
      return { conversationId: c.id, idleTimeoutMs: this.conversations.idleMs };
    } catch (e) {
      throw otaErrorOf(e, deviceId);
    }
  }

  /** Give the card to the next in line; OtaError NOT_HELD when the conversation does not hold it (any more). */
  closeConversation(deviceId: string, conversationId: string): void {
    try {
      this.conversations.held(deviceId, conversationId).close();
    } catch (e) {
      throw otaErrorOf(e, deviceId);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.conversations.closeAll();
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
