/**
 * `Device`: a simulated phone — a secure element (the card simulator, or any `CardPort`) behind an admin
 * agent that the OTA server wakes up with push triggers. Optional APDU log for tests (what reached the card).
 */
import { toHex } from '../core/bytes.ts';
import type { CardPort } from '../transport/card-port.ts';
import type { PushTrigger } from '../transport/ram-http/trigger.ts';
import { AdminAgent, type AdminAgentOptions } from './admin-agent.ts';
import type { DeviceHooks } from './hooks.ts';

/** Where a device hears its triggers (the in-process gateway has this shape). */
export interface PushSubscription {
  subscribe(deviceId: string, handler: (t: PushTrigger) => void): () => void;
}

export interface ApduLogEntry {
  readonly command: string;
  readonly response: string;
}

export interface DeviceOptions extends Omit<AdminAgentOptions, 'card' | 'agentId'> {
  readonly id: string;
  readonly card: CardPort;
  /** X-Admin-From (default `//se-id/dev/<id as hex-safe text>` — pass the EID form for real ones). */
  readonly agentId?: string;
  readonly push?: PushSubscription;
  /** Keep a log of every C-APDU/R-APDU the card saw (default false). */
  readonly logApdus?: boolean;
  readonly hooks?: DeviceHooks;
}

export class Device {
  readonly id: string;
  readonly card: CardPort;
  readonly agent: AdminAgent;
  readonly hooks: DeviceHooks;
  readonly apduLog: ApduLogEntry[] | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: DeviceOptions) {
    this.id = options.id;
    this.card = options.card;
    this.hooks = options.hooks ?? {};
    this.apduLog = options.logApdus ? [] : undefined;
    const log = this.apduLog;
    const port: CardPort = log
      ? {
          powerOn: () => options.card.powerOn(),
          reset: () => options.card.reset(),
          powerOff: () => options.card.powerOff(),
          process: (c) => {
            const r = options.card.process(c);
            log.push({ command: toHex(c).toUpperCase(), response: toHex(r).toUpperCase() });
            return r;
          },
          ...(options.card.sync ? { sync: () => options.card.sync!() } : {}),
        }
      : options.card;
    options.card.powerOn();
    this.agent = new AdminAgent({ ...options, card: port, agentId: options.agentId ?? defaultAgentId(options.id) });
    if (options.push) this.#unsubscribe = options.push.subscribe(this.id, (t) => void this.agent.trigger(t));
  }

  /** Open an administration session now (as a push would). */
  wake(): Promise<void> {
    return this.agent.trigger();
  }

  /** Stop listening for pushes and power the card off. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.card.powerOff();
  }
}

/** `//se-id/dev/<id>` with the id reduced to the characters a se-id value allows. */
export function defaultAgentId(id: string): string {
  const v = id.replace(/[^0-9A-Za-z]/g, '').slice(0, 64) || '0';
  return `//se-id/dev/${v}`;
}
