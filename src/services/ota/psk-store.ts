/**
 * Where the OTA server finds the TLS pre-shared key of an admin agent (ETSI TS 102 225 / GP Amendment B
 * §2.3, SCP81: the PSK is a key of the security domain's SCP81 key set, the PSK identity names it).
 *
 * Lookups are synchronous because node:tls asks for the key inside the handshake (`pskCallback`); a
 * store backed by the keystore and the database keeps the records it serves in memory.
 */
export interface PskRecord {
  readonly deviceId: string;
  /** The PSK (16 to 64 bytes). */
  readonly key: Uint8Array;
  /** Expected `X-Admin-From` of this device's agent; when set, any other value is refused (403). */
  readonly agentId?: string;
}

export interface PskStore {
  /** The record for a PSK identity, or undefined (the handshake is then refused). */
  byIdentity(identity: string): PskRecord | undefined;
  /** Whether a device is registered at all (for UNKNOWN_DEVICE before anything is queued). */
  hasDevice(deviceId: string): boolean;
}

export class MemoryPskStore implements PskStore {
  readonly #byIdentity = new Map<string, PskRecord>();
  readonly #devices = new Map<string, number>();

  /** Register (or replace) the PSK of `identity`. */
  register(identity: string, record: PskRecord): this {
    if (typeof identity !== 'string' || identity.length === 0 || identity.length > 128) throw new RangeError('PSK identity must be 1 to 128 characters');
    if (!(record.key instanceof Uint8Array) || record.key.length < 16 || record.key.length > 64) throw new RangeError('PSK must be 16 to 64 bytes');
    if (typeof record.deviceId !== 'string' || record.deviceId.length === 0) throw new RangeError('deviceId required');
    this.remove(identity);
    this.#byIdentity.set(identity, Object.freeze({ ...record, key: record.key.slice() }));
    this.#devices.set(record.deviceId, (this.#devices.get(record.deviceId) ?? 0) + 1);
    return this;
  }

  remove(identity: string): boolean {
    const old = this.#byIdentity.get(identity);
    if (!old) return false;
    this.#byIdentity.delete(identity);
    const n = (this.#devices.get(old.deviceId) ?? 1) - 1;
    if (n <= 0) this.#devices.delete(old.deviceId);
    else this.#devices.set(old.deviceId, n);
    return true;
  }

  byIdentity(identity: string): PskRecord | undefined {
    return this.#byIdentity.get(identity);
  }

  hasDevice(deviceId: string): boolean {
    return this.#devices.has(deviceId);
  }
}
