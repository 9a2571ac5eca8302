/**
 * The client side of "one card, one conversation" (issue 8 §2): a channel opens a conversation with its first
 * script, sends every script in it, and gives it up on close(). `HeldConversation` is that bookkeeping, shared
 * by the OTA client, the provider's terminal channel and the issuer's relayed terminal channel.
 */
export class HeldConversation {
  readonly #open: () => Promise<string>;
  /** The conversation held, or its opening under way. */
  #opening: Promise<string> | undefined;

  constructor(open: () => Promise<string>) {
    this.#open = open;
  }

  /** The conversation's id, opened on first use (waiting for the card); a failed opening is forgotten. */
  async id(): Promise<string> {
    const opening = (this.#opening ??= this.#open());
    try {
      return await opening;
    } catch (e) {
      if (this.#opening === opening) this.#opening = undefined;
      throw e;
    }
  }

  /** The server no longer holds it (idle time limit): the next script opens a new one. */
  lost(): void {
    this.#opening = undefined;
  }

  /** Give it up: the id to close on the server, if one was opened. Idempotent. */
  async release(): Promise<string | undefined> {
    const opening = this.#opening;
    this.#opening = undefined;
    return opening?.catch(() => undefined);
  }
}
