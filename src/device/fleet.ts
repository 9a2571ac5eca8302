/**
 * `DeviceFleet`: many simulated phones in one process (load tests). Per device: a card, an agent object and
 * a push subscription — no timer and no connection while idle; a TLS connection exists only during a session.
 */
import { Device, type DeviceOptions, type PushSubscription } from './device.ts';

export interface FleetOptions {
  /** URL of the OTA server's first POST, shared by every device. */
  readonly serverUrl: string;
  readonly push: PushSubscription;
}

export class DeviceFleet {
  readonly #o: FleetOptions;
  readonly #devices = new Map<string, Device>();

  constructor(options: FleetOptions) {
    this.#o = options;
  }

  /** Add a device; server URL and push come from the fleet unless given. */
  add(options: Omit<DeviceOptions, 'serverUrl' | 'push'> & Partial<Pick<DeviceOptions, 'serverUrl' | 'push'>>): Device {
    if (this.#devices.has(options.id)) throw new RangeError(`device ${options.id} exists already`);
    const d = new Device({ serverUrl: this.#o.serverUrl, push: this.#o.push, ...options });
    this.#devices.set(d.id, d);
    return d;
  }

  get(id: string): Device | undefined {
    return this.#devices.get(id);
  }

  get size(): number {
    return this.#devices.size;
  }

  devices(): IterableIterator<Device> {
    return this.#devices.values();
  }

  /** Sessions currently running. */
  busy(): number {
    let n = 0;
    for (const d of this.#devices.values()) if (d.agent.busy) n++;
    return n;
  }

  remove(id: string): boolean {
    const d = this.#devices.get(id);
    if (!d) return false;
    d.stop();
    return this.#devices.delete(id);
  }

  stop(): void {
    for (const d of this.#devices.values()) d.stop();
    this.#devices.clear();
  }
}
