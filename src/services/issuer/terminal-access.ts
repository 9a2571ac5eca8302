/**
 * The issuer's `CardAccess` for cards at a provider's counter (docs/architecture.md §4 flow 3): the issuer's
 * APDUs travel issuer → provider (relay, mutual TLS with the issuer's certificate) → terminal → card.
 * The channel holds the card in the terminal (one relay conversation, issue 8 §2) from its first script
 * until `close()`: each script is a `POST /v1/relay/terminals/<id>/conversations/<cid>/scripts`. The provider
 * admits them only while the terminal has an open service request for that card.
 *
 * Errors: a refusal (nothing was sent to the card) is a `RelayError` with the provider's code
 * (NO_OPEN_REQUEST, CARD_NOT_PRESENT, …); an outcome the issuer cannot know (connection lost, time-out,
 * terminal session lost) is a `TransportError` — the flow reconciles by asking the card.
 */
import type { Agent } from 'node:https';
import type { CardChannel } from '../../apdu/channel.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { PlatformClient, RemoteProblemError } from '../../platform/http/client.ts';
import { TransportError } from '../../transport/errors.ts';
import type { CardAccess, CardRoute } from '../common/deps.ts';
import { HeldConversation } from '../common/held-conversation.ts';
import { MAX_RELAY_COMMANDS, RELAY_PATHS, TERMINAL_ID, type RelayScriptAnswer } from '../provider/client.ts';
import { RelayError, isRelayErrorCode } from '../provider/client.ts';

/** Which provider runs a terminal: its base URL (`https://provider:7102`). */
export type ProviderUrlOf = (terminalId: string, cardId: string) => string | Promise<string>;

export interface IssuerTerminalAccessOptions {
  /** One provider's URL, or how to find the provider of a terminal. */
  readonly providerUrl: string | ProviderUrlOf;
  /** An agent presenting the issuer's certificate (`mutualTlsAgent(issuerIdentity)`). */
  readonly agent: Agent;
  /** Per-script time limit of the HTTP call (default 60 000 ms; the provider's own is 30 s). */
  readonly timeoutMs?: number;
}

const R_APDU = /^(?:[0-9A-Fa-f]{2}){2,}$/;

export class RelayedTerminalChannel implements CardChannel {
  readonly terminalId: string;
  readonly cardId: string;
  readonly #client: PlatformClient;
  #closed = false;
  readonly #conversation = new HeldConversation(() => this.#open());

  constructor(client: PlatformClient, terminalId: string, cardId: string) {
    this.#client = client;
    this.terminalId = terminalId;
    this.cardId = cardId;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    const [r] = await this.transmitScript([command]);
    if (r === undefined) throw new RelayError('BAD_RESPONSE', 'the relay returned no R-APDU', { terminalId: this.terminalId });
    return r;
  }

  async transmitScript(commands: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (this.#closed) throw new TransportError('CLOSED', 'this relayed channel is closed');
    if (commands.length < 1 || commands.length > MAX_RELAY_COMMANDS) throw new RangeError(`a script has 1 to ${MAX_RELAY_COMMANDS} C-APDUs`);
    let answer: RelayScriptAnswer;
    try {
      const id = await this.#conversation.id();
      const res = await this.#client.post<RelayScriptAnswer>(`${RELAY_PATHS.conversation(this.terminalId, id)}/scripts`, {
        body: { cardId: this.cardId, apdus: commands.map((c) => toHex(c).toUpperCase()) },
      });
      answer = res.body;
    } catch (e) {
      if (e instanceof RemoteProblemError && e.problem?.code === 'CONVERSATION_NOT_HELD') this.#conversation.lost();
      throw fromRemote(e, this.terminalId);
    }
    const list = answer?.responses;
    if (!Array.isArray(list) || list.length > commands.length || !list.every((r) => typeof r === 'string' && R_APDU.test(r))) {
      throw new RelayError('BAD_RESPONSE', 'the relay answered a malformed responses list', { terminalId: this.terminalId });
    }
    return list.map((r) => fromHex(r));
  }

  /** End the conversation: the card goes to the next in line. */
  async close(): Promise<void> {
    this.#closed = true;
    const id = await this.#conversation.release();
    if (id === undefined) return;
    await this.#client.call('DELETE', RELAY_PATHS.conversation(this.terminalId, id)).catch(() => undefined);
  }

  async #open(): Promise<string> {
    const res = await this.#client.post<{ conversationId?: unknown }>(RELAY_PATHS.conversations(this.terminalId), { body: { cardId: this.cardId } });
    const id = res.body?.conversationId;
    if (typeof id !== 'string' || id.length === 0) throw new RelayError('BAD_RESPONSE', 'the relay answered no conversation id', { terminalId: this.terminalId });
    return id;
  }
}

function fromRemote(e: unknown, terminalId: string): unknown {
  if (!(e instanceof RemoteProblemError)) return e;
  if (e.code === 'REMOTE_UNREACHABLE') return new TransportError('CONNECTION_LOST', e.message, { cause: e });
  if (e.code === 'REMOTE_TIMEOUT') return new TransportError('TIMEOUT', e.message, { cause: e });
  const code = e.problem?.code;
  if (code === 'TERMINAL_TIMEOUT') return new TransportError('TIMEOUT', e.message, { cause: e });
  if (code === 'SESSION_LOST' || code === 'CLOSED' || code === 'UNAVAILABLE' || code === 'INTERNAL' || code === 'CONVERSATION_NOT_HELD') {
    return new TransportError('CONNECTION_LOST', e.message, { cause: e });
  }
  if (isRelayErrorCode(code)) return new RelayError(code, e.message, { terminalId, cause: e });
  return new RelayError('BAD_RESPONSE', e.message, { terminalId, cause: e });
}

export function issuerTerminalAccess(options: IssuerTerminalAccessOptions): CardAccess {
  const clients = new Map<string, PlatformClient>();
  const clientFor = (url: string) => {
    let c = clients.get(url);
    if (!c) {
      c = new PlatformClient({ baseUrl: url, agent: options.agent, timeoutMs: options.timeoutMs ?? 60_000 });
      clients.set(url, c);
    }
    return c;
  };
  return async (cardId: string, route: CardRoute) => {
    if (route.kind !== 'terminal') throw new RangeError(`issuerTerminalAccess reaches cards in terminals only, not over ${route.kind}`);
    if (!TERMINAL_ID.test(route.terminalId)) throw new RangeError(`terminal id must match ${TERMINAL_ID}`);
    const url = typeof options.providerUrl === 'string' ? options.providerUrl : await options.providerUrl(route.terminalId, cardId);
    return new RelayedTerminalChannel(clientFor(url), route.terminalId, cardId);
  };
}
