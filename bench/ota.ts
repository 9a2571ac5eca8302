/**
 * One-APDU round trips per second through the OTA path on loopback: platform `transmit` → RAM over HTTP
 * script over PSK-TLS (TLS 1.2, PSK-AES128-GCM-SHA256) → admin agent → simulated card → response script →
 * R-APDU back to the caller. A single device, then many devices in parallel (each one APDU at a time).
 * Usage: npx node bench/run.ts ota [seconds per run, default 3] [parallel devices, default 100]
 */
import { randomBytes } from 'node:crypto';
import { createCard } from '../src/card/index.ts';
import { fromHex } from '../src/core/bytes.ts';
import { DeviceFleet } from '../src/device/fleet.ts';
import { defaultAgentId } from '../src/device/device.ts';
import { MemoryPskStore } from '../src/services/ota/psk-store.ts';
import { InProcessPushGateway } from '../src/services/ota/push.ts';
import { OtaServer } from '../src/services/ota/ota-server.ts';

const APDU = fromHex('80CA006600'); // GET DATA card data, 9000 with data

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(devices: number, seconds: number): Promise<void> {
  const store = new MemoryPskStore();
  const push = new InProcessPushGateway();
  const ota = new OtaServer({ pskStore: store, push, lingerMs: 2000 });
  const { url } = await ota.listen();
  const fleet = new DeviceFleet({ serverUrl: url, push });
  for (let i = 0; i < devices; i++) {
    const key = new Uint8Array(randomBytes(16));
    store.register(`psk-${i}`, { deviceId: `d${i}`, key, agentId: defaultAgentId(`d${i}`) });
    fleet.add({ id: `d${i}`, card: createCard(), pskIdentity: `psk-${i}`, psk: key });
  }
  const channels = Array.from({ length: devices }, (_, i) => ota.channel(`d${i}`, { timeoutMs: 30_000 }));
  await Promise.all(channels.map((c) => c.transmit(APDU))); // warm-up: sessions open
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    channels.map(async (c) => {
      while (performance.now() < end) {
        const t = performance.now();
        const r = await c.transmit(APDU);
        latencies.push(performance.now() - t);
        if (r[r.length - 2] !== 0x90) throw new Error('unexpected status');
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const rss = process.memoryUsage().rss / 2 ** 20;
  process.stdout.write(
    `${String(devices).padStart(4)} device(s): ${(latencies.length / elapsed).toFixed(0).padStart(6)} round trips/s  ` +
      `p50 ${pct(latencies, 50).toFixed(2)} ms  p99 ${pct(latencies, 99).toFixed(2)} ms  ` +
      `(${latencies.length} in ${elapsed.toFixed(1)} s, ${ota.endpoint.stats.sessions} sessions, RSS ${rss.toFixed(0)} MiB)\n`,
  );
  fleet.stop();
  await ota.close();
}

export default async function (args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 3);
  const parallel = Number(args[1] ?? 100);
  process.stdout.write(`OTA one-APDU round trips, loopback PSK-TLS, ${seconds} s per run\n`);
  await run(1, seconds);
  await run(parallel, seconds);
}
