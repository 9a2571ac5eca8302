/**
 * The simulated phones of a platform (docs/architecture.md §1 device): the phones saved in the data folder, the
 * missing ones manufactured, and — when they run in this process — a DeviceFleet whose admin agents reach the
 * OTA server over PSK-TLS and wake up on its push gateway.
 */
import { fromHex } from '../core/bytes.ts';
import { DeviceFleet } from '../device/fleet.ts';
import type { SimulatedCard } from '../card/index.ts';
import type { InProcessPushGateway } from '../services/ota/push.ts';
import { cardOf, loadPhones, manufacturePhone, PhoneSaver, savePhone, type PhoneRecord } from './phones.ts';

export interface PhoneSet {
  /** In ICCID order. */
  readonly phones: PhoneRecord[];
  readonly cards: ReadonlyMap<string, SimulatedCard>;
  /** How many were manufactured now. */
  readonly manufactured: number;
}

/** `count` phones: those saved in `dataDir` (when given), then newly manufactured ones (saved there too). */
export async function ensurePhones(count: number, dataDir: string | undefined): Promise<PhoneSet> {
  const phones: PhoneRecord[] = dataDir !== undefined ? (await loadPhones(dataDir)).slice(0, Math.max(count, 0)) : [];
  const cards = new Map<string, SimulatedCard>();
  for (const p of phones) cards.set(p.iccid, cardOf(p));
  let manufactured = 0;
  while (phones.length < count) {
    const { record, card } = manufacturePhone();
    if (cards.has(record.iccid)) continue;
    phones.push(record);
    cards.set(record.iccid, card);
    manufactured++;
    if (dataDir !== undefined) await savePhone(dataDir, record);
  }
  phones.sort((a, b) => (a.iccid < b.iccid ? -1 : a.iccid > b.iccid ? 1 : 0));
  return { phones, cards, manufactured };
}

export interface RunningPhones {
  readonly fleet: DeviceFleet;
  /** Stop the phones and write what their SEs changed. */
  stop(): Promise<void>;
}

/** Run the phones in this process against the OTA server at `ramUrl`. */
export function runPhones(set: PhoneSet, ota: { readonly ramUrl: string; readonly push: InProcessPushGateway }, dataDir: string | undefined): RunningPhones {
  const fleet = new DeviceFleet({ serverUrl: ota.ramUrl, push: ota.push });
  const saver = dataDir !== undefined ? new PhoneSaver(dataDir) : undefined;
  for (const p of set.phones) {
    const card = set.cards.get(p.iccid)!;
    saver?.watch(p, card);
    fleet.add({ id: p.iccid, card, pskIdentity: p.pskIdentity, psk: fromHex(p.psk), retryDelayMs: 20, maxRetries: 5 });
  }
  return {
    fleet,
    stop: async () => {
      fleet.stop();
      await saver?.flush();
    },
  };
}
