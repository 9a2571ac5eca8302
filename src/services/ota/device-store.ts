/**
 * `SealedPskStore`: the OTA server's device registry. Each device's PSK (its admin agent's SCP81 key) is
 * sealed under the keystore in the database and, because node:tls asks for it synchronously inside the
 * handshake, kept unsealed in memory only (loaded at start). A registration is committed (row + audit
 * record) before the key becomes usable; a refused registration changes nothing.
 */
import { OpentsmError } from '../../core/errors.ts';
import type { Database } from '../../platform/storage/database.ts';
import { StorageError } from '../../platform/storage/errors.ts';
import type { Auditor, Sealer } from '../common/deps.ts';
import { weakPskReason } from './psk-strength.ts';
import { MemoryPskStore, type PskRecord, type PskStore } from './psk-store.ts';

export type DeviceStoreErrorCode = 'ALREADY_EXISTS' | 'WEAK_PSK';

export class DeviceStoreError extends OpentsmError {
  declare readonly code: DeviceStoreErrorCode;
  constructor(code: DeviceStoreErrorCode, message: string) {
    super(code, message);
  }
}

export interface DeviceRegistration {
  readonly deviceId: string;
  readonly pskIdentity: string;
  /** 16 to 64 bytes. */
  readonly psk: Uint8Array;
  /** Expected X-Admin-From of the device's agent (optional). */
  readonly agentId?: string;
}

export interface DeviceView {
  readonly deviceId: string;
  readonly pskIdentity: string;
  readonly agentId: string | null;
  readonly createdAt: string;
}

export const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const PSK_IDENTITY = /^[\x21-\x7e]{1,128}$/;

const pskContext = (deviceId: string) => `devices/${deviceId}/psk`;

export class SealedPskStore implements PskStore {
  readonly #db: Database;
  readonly #sealer: Sealer;
  readonly #audit: Auditor;
  readonly #memory = new MemoryPskStore();

  private constructor(db: Database, sealer: Sealer, audit: Auditor) {
    this.#db = db;
    this.#sealer = sealer;
    this.#audit = audit;
  }

  /** Open the registry and unseal every registered PSK into memory. */
  static async open(db: Database, sealer: Sealer, audit: Auditor): Promise<SealedPskStore> {
    const store = new SealedPskStore(db, sealer, audit);
    const rows = await db.query<{ device_id: string; psk_identity: string; psk: Uint8Array; agent_id: string | null }>(
      'SELECT device_id, psk_identity, psk, agent_id FROM devices',
    );
    for (const r of rows) {
      const key = await sealer.unwrap(r.psk, pskContext(r.device_id));
      store.#memory.register(r.psk_identity, { deviceId: r.device_id, key, ...(r.agent_id !== null ? { agentId: r.agent_id } : {}) });
      key.fill(0);
    }
    return store;
  }

  /** Register a device; DeviceStoreError('ALREADY_EXISTS') when its id or PSK identity is taken (nothing changed). */
  async register(reg: DeviceRegistration, actor: string): Promise<DeviceView> {
    if (!DEVICE_ID.test(reg.deviceId)) throw new RangeError('deviceId must be 1 to 128 of A-Z a-z 0-9 . _ : -');
    if (!PSK_IDENTITY.test(reg.pskIdentity)) throw new RangeError('pskIdentity must be 1 to 128 visible ASCII characters');
    if (!(reg.psk instanceof Uint8Array) || reg.psk.length < 16 || reg.psk.length > 64) throw new RangeError('psk must be 16 to 64 bytes');
    const weak = weakPskReason(reg.psk);
    if (weak !== undefined) throw new DeviceStoreError('WEAK_PSK', weak);
    if (this.#memory.hasDevice(reg.deviceId)) throw new DeviceStoreError('ALREADY_EXISTS', `device ${reg.deviceId} is already registered`);
    if (this.#memory.byIdentity(reg.pskIdentity)) throw new DeviceStoreError('ALREADY_EXISTS', `PSK identity ${reg.pskIdentity} is already registered`);
    const sealed = await this.#sealer.wrap(reg.psk, pskContext(reg.deviceId));
    const createdAt = new Date().toISOString();
    try {
      await this.#db.transaction(async (tx) => {
        await tx.execute('INSERT INTO devices (device_id, psk_identity, psk, agent_id, created_at) VALUES ($1, $2, $3, $4, $5)', [
          reg.deviceId,
          reg.pskIdentity,
          sealed,
          reg.agentId ?? null,
          createdAt,
        ]);
        await this.#audit(tx, { actor, action: 'ota.device-registered', subject: `device/${reg.deviceId}`, details: { pskId: reg.pskIdentity, pskLength: reg.psk.length } });
      });
    } catch (e) {
      if (e instanceof StorageError && e.code === 'UNIQUE_VIOLATION') throw new DeviceStoreError('ALREADY_EXISTS', `device ${reg.deviceId} or its PSK identity is already registered`);
      throw e;
    }
    const record: PskRecord = { deviceId: reg.deviceId, key: reg.psk, ...(reg.agentId !== undefined ? { agentId: reg.agentId } : {}) };
    this.#memory.register(reg.pskIdentity, record);
    return { deviceId: reg.deviceId, pskIdentity: reg.pskIdentity, agentId: reg.agentId ?? null, createdAt };
  }

  async get(deviceId: string): Promise<DeviceView | undefined> {
    const rows = await this.#db.query<{ device_id: string; psk_identity: string; agent_id: string | null; created_at: string }>(
      'SELECT device_id, psk_identity, agent_id, created_at FROM devices WHERE device_id = $1',
      [deviceId],
    );
    const r = rows[0];
    return r && { deviceId: r.device_id, pskIdentity: r.psk_identity, agentId: r.agent_id, createdAt: r.created_at };
  }

  byIdentity(identity: string): PskRecord | undefined {
    return this.#memory.byIdentity(identity);
  }

  hasDevice(deviceId: string): boolean {
    return this.#memory.hasDevice(deviceId);
  }
}
