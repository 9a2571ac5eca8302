/**
 * The simulated phones of `opentsm up`: manufacturing (a random ICCID, random ISD keys, a random SCP81 PSK
 * for the admin agent) and the phone's own storage — `<dataDir>/phones/<ICCID>.json` holds what lives in the
 * phone (the SE state, the agent's PSK) plus the factory's registration marks, so that a restart brings the
 * same phones back. This is the phones' side; the platforms hold their own copies (sealed) in their databases.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createCard, SimulatedCard } from '../card/index.ts';
import { fromHex, toHex } from '../core/bytes.ts';
import { DurableFile, writeFileDurably } from '../device/durable-file.ts';

export const PHONE_FORMAT = 'opentsm-phone';
export const ISD_AID = 'A000000151000000';
export const ISD_KVN = 0x30;

export interface PhoneRecord {
  readonly format: typeof PHONE_FORMAT;
  /** ICCID (19 digits with a Luhn check digit, F padded) = card id at the platforms = OTA device id. */
  readonly iccid: string;
  readonly pskIdentity: string;
  /** The admin agent's PSK (it lives in the SE's SCP81 key set), hex. */
  readonly psk: string;
  /** The ISD key set as personalised at the factory (the issuer receives a sealed copy), hex. */
  readonly isdKeys: { readonly kvn: number; readonly enc: string; readonly mac: string; readonly dek: string };
  readonly cin: string;
  /** Whether the factory has registered the card with the issuer and the phone with the OTA server. */
  registered: { issuer: boolean; ota: boolean };
  /** The SE's persistent state (card simulator JSON). */
  cardState: string;
}

/** Luhn check digit of a digit string (ISO/IEC 7812, as in ICCIDs). */
export function luhnDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** A random ICCID: 89 (telecom) 88 (country) 21 (issuer), 12 random digits, Luhn digit, F pad. */
export function randomIccid(): string {
  let body = '898821';
  for (let i = 0; i < 12; i++) body += String(randomInt(10));
  return `${body}${luhnDigit(body)}F`;
}

/** The ICCID as the ISD answers it to GET DATA '5A' (what a terminal reads as the card id): its 20 digits as 10 bytes. */
export function iccidBytes(iccid: string): Uint8Array {
  return fromHex(iccid);
}

/** Make a new phone: card personalised with random ISD keys, SSDs created without keys (the issuer delivers them). */
export function manufacturePhone(): { record: PhoneRecord; card: SimulatedCard } {
  const iccid = randomIccid();
  const key = () => new Uint8Array(randomBytes(16));
  const keys = { enc: key(), mac: key(), dek: key() };
  const cin = new Uint8Array(randomBytes(8));
  const card = createCard({ profile: 'scp03', keys, kvn: ISD_KVN, isdAid: fromHex(ISD_AID), iccid: iccidBytes(iccid), cin, ssdInitialKeys: null });
  const hex = (b: Uint8Array) => toHex(b).toUpperCase();
  const record: PhoneRecord = {
    format: PHONE_FORMAT,
    iccid,
    pskIdentity: `psk-${iccid}`,
    psk: hex(key()),
    isdKeys: { kvn: ISD_KVN, enc: hex(keys.enc), mac: hex(keys.mac), dek: hex(keys.dek) },
    cin: hex(cin),
    registered: { issuer: false, ota: false },
    cardState: card.serialize(),
  };
  for (const k of Object.values(keys)) k.fill(0);
  return { record, card };
}

export function phonesDir(dataDir: string): string {
  return join(dataDir, 'phones');
}

/** Every phone saved in `dataDir`, in ICCID order; a malformed file throws with its name. */
export async function loadPhones(dataDir: string): Promise<PhoneRecord[]> {
  const dir = phonesDir(dataDir);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: PhoneRecord[] = [];
  for (const n of names) {
    const r = JSON.parse(await readFile(join(dir, n), 'utf8')) as PhoneRecord;
    if (r.format !== PHONE_FORMAT || typeof r.iccid !== 'string' || typeof r.cardState !== 'string') throw new Error(`${join(dir, n)} is not a phone file`);
    out.push(r);
  }
  return out;
}

function phoneFile(dataDir: string, iccid: string): string {
  return join(phonesDir(dataDir), `${iccid}.json`);
}

/** Write a phone file atomically and durably (temp file, fsync, rename, directory fsync), readable by its owner only. */
export async function savePhone(dataDir: string, record: PhoneRecord): Promise<void> {
  await mkdir(phonesDir(dataDir), { recursive: true, mode: 0o700 });
  await writeFileDurably(phoneFile(dataDir, record.iccid), JSON.stringify(record));
}

/**
 * The phones' non-volatile memory: each phone file is its SE's storage (`DurableFile`, the card's
 * `CardStorage` port). Every committed change of the card is staged into the phone record, and the
 * transports (admin agent: once per RAM script; reader: once per APDU) make it durable before the
 * responses leave the card — a phone killed at any moment comes back with every change it acknowledged
 * (issue 8 §3). `flush()` makes what is staged durable (on shutdown).
 */
export class PhoneSaver {
  readonly #dataDir: string;
  readonly #files = new Map<string, DurableFile>();

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** Make `record`'s file the storage of `card` (whose state is `record.cardState`, already saved). */
  watch(record: PhoneRecord, card: SimulatedCard): () => void {
    const file = new DurableFile(phoneFile(this.#dataDir, record.iccid));
    this.#files.set(record.iccid, file);
    card.attachStorage({
      stage: (json) => {
        record.cardState = json;
        file.stage(JSON.stringify(record));
      },
      sync: () => file.sync(),
    });
    return () => this.#files.delete(record.iccid);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#files.values()].map((f) => f.sync()));
  }
}

export function cardOf(record: PhoneRecord): SimulatedCard {
  return SimulatedCard.fromState(record.cardState);
}
