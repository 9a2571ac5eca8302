/**
 * Push triggers over the Node IPC channel to the parent process (issue 8 §6): the OTA server in its own process
 * (service-main.ts `--push ipc`) hands each trigger to the launcher, which wakes the phone it names — the SMS
 * gateway of a simulated platform, as the in-process push gateway is when everything shares one process.
 */
import type { PushSubscription } from '../device/device.ts';
import type { PushGateway } from '../services/ota/push.ts';
import type { PushTrigger } from '../transport/ram-http/trigger.ts';

export interface PushMessage {
  readonly type: 'push';
  readonly trigger: PushTrigger;
}

export function isPushMessage(m: unknown): m is PushMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'push' && typeof (m as { trigger?: unknown }).trigger === 'object';
}

/** The OTA side: each trigger goes to the parent process. */
export class ParentPushGateway implements PushGateway {
  push(trigger: PushTrigger): void {
    if (process.send === undefined) throw new Error('no IPC channel to the parent process');
    process.send({ type: 'push', trigger } satisfies PushMessage);
  }
}

/** The phones' side: handlers by device id, fed with the triggers the OTA process sent. */
export class PushRelay implements PushSubscription {
  readonly #handlers = new Map<string, (t: PushTrigger) => void>();

  subscribe(deviceId: string, handler: (t: PushTrigger) => void): () => void {
    this.#handlers.set(deviceId, handler);
    return () => {
      if (this.#handlers.get(deviceId) === handler) this.#handlers.delete(deviceId);
    };
  }

  deliver(trigger: PushTrigger): void {
    const h = this.#handlers.get(trigger.deviceId);
    if (h !== undefined) queueMicrotask(() => h(trigger));
  }
}
