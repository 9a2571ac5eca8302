/**
 * How the OTA server wakes a device up: a push message standing in for the SMS trigger of real cards
 * (Amendment B §3.7). `PushGateway` is what the server calls; `InProcessPushGateway` delivers to
 * subscribers in the same process (many simulated phones), `LongPollPushGateway` (push-long-poll.ts)
 * to devices that poll over HTTPS.
 *
 * Like an SMS centre, `InProcessPushGateway` stores a trigger for a device that is not listening and forwards it
 * when the device subscribes, within a validity period (the SMS validity period, default 60 s; only the latest
 * trigger per device is kept — one wake-up is enough to fetch every queued script). Without it, a script queued
 * while the phones are still starting (flows resumed at start, after a crash) would wait for its time limit.
 */
import type { PushTrigger } from '../../transport/ram-http/trigger.ts';

export interface PushGateway {
  /** Deliver (or queue) a trigger; never throws for an offline device — the script then times out. */
  push(trigger: PushTrigger): void;
}

export type PushHandler = (trigger: PushTrigger) => void;

export interface InProcessPushGatewayOptions {
  /** How long an undelivered trigger is kept for a device that subscribes later (default 60 000 ms; 0: never). */
  readonly validityMs?: number;
  /** Clock (ms), for tests. */
  readonly now?: () => number;
}

export class InProcessPushGateway implements PushGateway {
  readonly #handlers = new Map<string, PushHandler>();
  readonly #stored = new Map<string, { trigger: PushTrigger; until: number }>();
  readonly #validityMs: number;
  readonly #now: () => number;
  /** Triggers delivered (for tests and stats). */
  delivered = 0;
  /** Triggers for devices nobody listened for when they were pushed (stored for `validityMs`). */
  dropped = 0;
  /** Stored triggers forwarded when their device subscribed. */
  forwarded = 0;

  constructor(options: InProcessPushGatewayOptions = {}) {
    this.#validityMs = options.validityMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Listen for `deviceId`'s triggers; returns the unsubscribe function. One handler per device. */
  subscribe(deviceId: string, handler: PushHandler): () => void {
    this.#handlers.set(deviceId, handler);
    const stored = this.#stored.get(deviceId);
    if (stored !== undefined) {
      this.#stored.delete(deviceId);
      if (this.#now() <= stored.until) {
        this.forwarded++;
        queueMicrotask(() => handler(stored.trigger));
      }
    }
    return () => {
      if (this.#handlers.get(deviceId) === handler) this.#handlers.delete(deviceId);
    };
  }

  push(trigger: PushTrigger): void {
    const h = this.#handlers.get(trigger.deviceId);
    if (!h) {
      this.dropped++;
      if (this.#validityMs > 0) this.#stored.set(trigger.deviceId, { trigger, until: this.#now() + this.#validityMs });
      return;
    }
    this.delivered++;
    queueMicrotask(() => h(trigger));
  }
}
