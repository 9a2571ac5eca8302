/**
 * How the OTA server wakes a device up: a push message standing in for the SMS trigger of real cards
 * (Amendment B §3.7). `PushGateway` is what the server calls; `InProcessPushGateway` delivers to
 * subscribers in the same process (many simulated phones), `LongPollPushGateway` (push-long-poll.ts)
 * to devices that poll over HTTPS.
 */
import type { PushTrigger } from '../../transport/ram-http/trigger.ts';

export interface PushGateway {
  /** Deliver (or queue) a trigger; never throws for an offline device — the script then times out. */
  push(trigger: PushTrigger): void;
}

export type PushHandler = (trigger: PushTrigger) => void;

export class InProcessPushGateway implements PushGateway {
  readonly #handlers = new Map<string, PushHandler>();
  /** Triggers delivered (for tests and stats). */
  delivered = 0;
  /** Triggers for devices nobody listens for. */
  dropped = 0;

  /** Listen for `deviceId`'s triggers; returns the unsubscribe function. One handler per device. */
  subscribe(deviceId: string, handler: PushHandler): () => void {
    this.#handlers.set(deviceId, handler);
    return () => {
      if (this.#handlers.get(deviceId) === handler) this.#handlers.delete(deviceId);
    };
  }

  push(trigger: PushTrigger): void {
    const h = this.#handlers.get(trigger.deviceId);
    if (!h) {
      this.dropped++;
      return;
    }
    this.delivered++;
    queueMicrotask(() => h(trigger));
  }
}
