/**
 * Phones that wake up by HTTPS long poll (docs/architecture.md §1 device; issue 8 §6): when the OTA server runs in
 * another process, its push gateway cannot call the phones' handlers directly, so each phone keeps one
 * `GET /push?wait=…` open on the OTA server's PSK-TLS port (LongPollPushClient) and hands what arrives to its
 * admin agent. `LongPollSubscription` is the PushSubscription a DeviceFleet is given for that.
 */
import { fromHex } from '../core/bytes.ts';
import type { PushSubscription } from '../device/device.ts';
import { DeviceFleet } from '../device/fleet.ts';
import { LongPollPushClient } from '../device/push-long-poll.ts';
import type { SimulatedCard } from '../card/index.ts';
import type { PushTrigger } from '../transport/ram-http/trigger.ts';
import type { PhoneRecord } from './phones.ts';

export class LongPollSubscription implements PushSubscription {
  readonly #url: string;
  readonly #credentials = new Map<string, { identity: string; psk: Uint8Array }>();
  readonly #clients = new Set<LongPollPushClient>();
  readonly #waitMs: number;

  /** `ramBaseUrl`: the OTA server's PSK-TLS base URL (without `/ram`). */
  constructor(ramBaseUrl: string, options: { waitMs?: number } = {}) {
    this.#url = ramBaseUrl;
    this.#waitMs = options.waitMs ?? 25_000;
  }

  /** The PSK credentials `deviceId` polls with (before it subscribes). */
  credentials(deviceId: string, identity: string, psk: Uint8Array): void {
    this.#credentials.set(deviceId, { identity, psk });
  }

  subscribe(deviceId: string, handler: (t: PushTrigger) => void): () => void {
    const c = this.#credentials.get(deviceId);
    if (c === undefined) throw new RangeError(`no push credentials for ${deviceId}`);
    const client = new LongPollPushClient({ url: this.#url, pskIdentity: c.identity, psk: c.psk, waitMs: this.#waitMs, errorDelayMs: 200, onTrigger: handler });
    this.#clients.add(client);
    client.start();
    return () => {
      this.#clients.delete(client);
      void client.stop();
    };
  }

  async stop(): Promise<void> {
    const all = [...this.#clients];
    this.#clients.clear();
    await Promise.all(all.map((c) => c.stop()));
  }
}

/** The OTA server's base URL from its RAM URL (`https://h:p/ram` → `https://h:p`). */
export function ramBase(ramUrl: string): string {
  const u = new URL(ramUrl);
  return `${u.protocol}//${u.host}`;
}

export interface LongPollPhones {
  readonly fleet: DeviceFleet;
  stop(): Promise<void>;
}

/** Run `phones` (their cards in `cards`) against the OTA server at `ramUrl`, woken by long poll. */
export function runLongPollPhones(phones: readonly PhoneRecord[], cards: (p: PhoneRecord) => SimulatedCard, ramUrl: string): LongPollPhones {
  const push = new LongPollSubscription(ramBase(ramUrl));
  const fleet = new DeviceFleet({ serverUrl: ramUrl, push });
  for (const p of phones) {
    const psk = fromHex(p.psk);
    push.credentials(p.iccid, p.pskIdentity, psk);
    fleet.add({ id: p.iccid, card: cards(p), pskIdentity: p.pskIdentity, psk, retryDelayMs: 20, maxRetries: 5 });
  }
  return {
    fleet,
    stop: async () => {
      fleet.stop();
      await push.stop();
    },
  };
}

/** Run `phones` against the OTA server at `ramUrl`, woken by the triggers `relay` delivers (IPC from the OTA process). */
export function runRelayedPhones(phones: readonly PhoneRecord[], cards: (p: PhoneRecord) => SimulatedCard, ramUrl: string, relay: PushSubscription): LongPollPhones {
  const fleet = new DeviceFleet({ serverUrl: ramUrl, push: relay });
  for (const p of phones) fleet.add({ id: p.iccid, card: cards(p), pskIdentity: p.pskIdentity, psk: fromHex(p.psk), retryDelayMs: 20, maxRetries: 5 });
  return {
    fleet,
    stop: async () => fleet.stop(),
  };
}
