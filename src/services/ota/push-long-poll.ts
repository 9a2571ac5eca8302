/**
 * Push over HTTPS long polling: a device with no other push channel keeps one `GET /push?wait=<ms>` open
 * on the OTA server's PSK-TLS port (so the server knows which device asks from its PSK identity, and
 * nobody can collect another device's triggers). The server answers 200 with the trigger (JSON) as soon
 * as there is one, or 204 when the wait is over. A trigger pushed while the device is not polling is kept
 * (only the newest per device) and handed out at the next poll.
 */
import type { PushTrigger } from '../../transport/ram-http/trigger.ts';
import type { PushGateway } from './push.ts';

export interface PollablePushGateway extends PushGateway {
  /** Wait up to `waitMs` for a trigger for `deviceId`. */
  poll(deviceId: string, waitMs: number): Promise<PushTrigger | undefined>;
}

export function isPollable(g: PushGateway): g is PollablePushGateway {
  return typeof (g as Partial<PollablePushGateway>).poll === 'function';
}

export class LongPollPushGateway implements PollablePushGateway {
  readonly #kept = new Map<string, PushTrigger>();
  readonly #waiting = new Map<string, { resolve: (t: PushTrigger | undefined) => void; timer: ReturnType<typeof setTimeout> }>();
  readonly maxWaitMs: number;

  constructor(options: { maxWaitMs?: number } = {}) {
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
  }

  push(trigger: PushTrigger): void {
    const w = this.#waiting.get(trigger.deviceId);
    if (w) {
      this.#waiting.delete(trigger.deviceId);
      clearTimeout(w.timer);
      w.resolve(trigger);
      return;
    }
    this.#kept.set(trigger.deviceId, trigger);
  }

  poll(deviceId: string, waitMs: number): Promise<PushTrigger | undefined> {
    const kept = this.#kept.get(deviceId);
    if (kept) {
      this.#kept.delete(deviceId);
      return Promise.resolve(kept);
    }
    // One poll per device: a newer poll ends the older one (204).
    const old = this.#waiting.get(deviceId);
    if (old) {
      clearTimeout(old.timer);
      old.resolve(undefined);
    }
    const wait = Math.max(0, Math.min(waitMs, this.maxWaitMs));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.#waiting.get(deviceId)?.timer === timer) this.#waiting.delete(deviceId);
        resolve(undefined);
      }, wait);
      this.#waiting.set(deviceId, { resolve, timer });
    });
  }

  /** End every open poll (shutdown). */
  close(): void {
    for (const [id, w] of this.#waiting) {
      clearTimeout(w.timer);
      w.resolve(undefined);
      this.#waiting.delete(id);
    }
  }
}
