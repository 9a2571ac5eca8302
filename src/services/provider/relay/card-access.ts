/**
 * The provider's own `CardAccess` over its terminals: `terminalCardAccess(relay)(cardId, {kind:'terminal',
 * terminalId})` is a `CardChannel` whose every `transmit` is one RAM over HTTP script run by the terminal
 * on the card in its reader. The card must be the one the terminal reported in its latest service request.
 * A script whose outcome is unknown (time-out, session lost, relay closed) fails with
 * `TransportError('CONNECTION_LOST' | 'TIMEOUT')`, as a cut connection does: the flows reconcile by asking
 * the card. The channel holds the card (one relay conversation, issue 8 §2) from its first script until
 * `close()`.
 */
import type { CardChannel } from '../../../apdu/channel.ts';
import { TransportError } from '../../../transport/errors.ts';
import type { CardAccess } from '../../common/deps.ts';
import { HeldConversation } from '../../common/held-conversation.ts';
import { RelayError } from '../../common/relay-errors.ts';
import type { TerminalRelay } from './relay.ts';

export class TerminalChannel implements CardChannel {
  readonly terminalId: string;
  readonly cardId: string;
  readonly #relay: TerminalRelay;
  #closed = false;
  readonly #conversation: HeldConversation;

  constructor(relay: TerminalRelay, terminalId: string, cardId: string) {
    this.#relay = relay;
    this.terminalId = terminalId;
    this.cardId = cardId;
    this.#conversation = new HeldConversation(() => relay.openConversation(terminalId, cardId, 'provider').then((c) => c.conversationId));
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    const [r] = await this.transmitScript([command]);
    if (r === undefined) throw new TransportError('PROTOCOL', `terminal ${this.terminalId} returned no R-APDU`);
    return r;
  }

  /** R-APDUs of a batch; fewer than the commands when the card stopped at an error status word. */
  async transmitScript(commands: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (this.#closed) throw new TransportError('CLOSED', 'this terminal channel is closed');
    try {
      const id = await this.#conversation.id();
      return await this.#relay.transmitScript(this.terminalId, this.cardId, commands, 'provider', id);
    } catch (e) {
      if (e instanceof RelayError && e.code === 'CONVERSATION_NOT_HELD') this.#conversation.lost();
      throw toTransportError(e);
    }
  }

  /** End the conversation: the card goes to the next in line. */
  async close(): Promise<void> {
    this.#closed = true;
    const id = await this.#conversation.release();
    if (id === undefined) return;
    try {
      this.#relay.closeConversation(this.terminalId, id);
    } catch {
      // expired meanwhile: nothing held
    }
  }
}

/** Unknown outcomes become TransportErrors; refusals (nothing sent) stay RelayErrors. */
export function toTransportError(e: unknown): unknown {
  if (!(e instanceof RelayError)) return e;
  if (e.code === 'TERMINAL_TIMEOUT') return new TransportError('TIMEOUT', e.message, { cause: e });
  if (e.code === 'SESSION_LOST' || e.code === 'CLOSED' || e.code === 'CONVERSATION_NOT_HELD') return new TransportError('CONNECTION_LOST', e.message, { cause: e });
  return e;
}

export function terminalCardAccess(relay: TerminalRelay): CardAccess {
  return async (cardId, route) => {
    if (route.kind !== 'terminal') throw new RangeError(`terminalCardAccess reaches cards in terminals only, not over ${route.kind}`);
    return new TerminalChannel(relay, route.terminalId, cardId);
  };
}
