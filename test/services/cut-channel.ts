/**
 * A CardChannel wrapper that cuts the connection at a chosen APDU, the way a phone loses coverage:
 * `after` — the card processed the APDU but its response is lost; `before` — the APDU never arrived.
 */
import type { CardChannel } from '../../src/apdu/channel.ts';
import { TransportError } from '../../src/transport/errors.ts';

export class CutSwitch {
  count = 0;
  #at: number | undefined;
  #mode: 'before' | 'after' = 'after';

  /** Cut at the `n`-th APDU from now (1-based). */
  arm(n: number, mode: 'before' | 'after'): void {
    this.#at = this.count + n;
    this.#mode = mode;
  }

  disarm(): void {
    this.#at = undefined;
  }

  wrap(inner: CardChannel): CardChannel {
    return {
      transmit: async (apdu) => {
        const n = ++this.count;
        if (this.#at === n && this.#mode === 'before') {
          this.#at = undefined;
          throw new TransportError('CONNECTION_LOST', `cut before APDU ${n}`);
        }
        const r = await inner.transmit(apdu);
        if (this.#at === n) {
          this.#at = undefined;
          throw new TransportError('CONNECTION_LOST', `cut after APDU ${n}`);
        }
        return r;
      },
    };
  }
}
