/** Shared set-up of the OTA tests: an OtaServer on loopback PSK-TLS and a fleet of simulated phones. */
import { randomBytes } from 'node:crypto';
import { createCard } from '../../../src/card/index.ts';
import { MemoryPskStore } from '../../../src/services/ota/psk-store.ts';
import { InProcessPushGateway } from '../../../src/services/ota/push.ts';
import { OtaServer, type OtaServerOptions } from '../../../src/services/ota/ota-server.ts';
import { DeviceFleet } from '../../../src/device/fleet.ts';
import { defaultAgentId, type Device } from '../../../src/device/device.ts';

export interface Rig {
  readonly ota: OtaServer;
  readonly fleet: DeviceFleet;
  readonly store: MemoryPskStore;
  readonly push: InProcessPushGateway;
  readonly url: string;
  readonly devices: Device[];
  readonly keys: Uint8Array[];
  close(): Promise<void>;
}

export async function rig(
  options: { devices?: number; logApdus?: boolean; server?: Partial<OtaServerOptions>; maxRetries?: number } = {},
): Promise<Rig> {
  const store = new MemoryPskStore();
  const push = new InProcessPushGateway();
  const ota = new OtaServer({ pskStore: store, push, lingerMs: 50, timeoutMs: 10_000, ...options.server });
  const { url } = await ota.listen();
  const fleet = new DeviceFleet({ serverUrl: url, push });
  const devices: Device[] = [];
  const keys: Uint8Array[] = [];
  for (let i = 0; i < (options.devices ?? 1); i++) {
    const key = new Uint8Array(randomBytes(16));
    const id = `dev${i}`;
    store.register(`psk-${id}`, { deviceId: id, key, agentId: defaultAgentId(id) });
    keys.push(key);
    devices.push(
      fleet.add({ id, card: createCard(), pskIdentity: `psk-${id}`, psk: key, logApdus: options.logApdus ?? false, retryDelayMs: 5, maxRetries: options.maxRetries ?? 5 }),
    );
  }
  return {
    ota,
    fleet,
    store,
    push,
    url,
    devices,
    keys,
    close: async () => {
      fleet.stop();
      await ota.close();
    },
  };
}
