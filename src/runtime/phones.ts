/**
 * The simulated phones of `opentsm up`: manufacturing (a random ICCID, random ISD keys, a random SCP81 PSK
 * for the admin agent) and the phone's own storage — `<dataDir>/phones/<ICCID>.json` holds what lives in the
 * phone (the SE state, the agent's PSK) plus the factory's registration marks, so that a restart brings the
 * same phones back. This is the phones' side; the platforms hold their own copies (sealed) in their databases.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCard, SimulatedCard } from '../card/index.ts';
import { fromHex, toHex } from '../core/bytes.ts';

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

/** Write a phone file atomically (temp file + rename), readable by its owner only. */
export async function savePhone(dataDir: string, record: PhoneRecord): Promise<void> {
  const dir = phonesDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${record.iccid}.json`);
  await writeFile(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/**
 * Save a phone whenever its SE state changes, at most every `delayMs` (the card commits many changes per
 * session); `flush()` writes what is pending (on shutdown).
 */
export class PhoneSaver {
  readonly #dataDir: string;
  readonly #delayMs: number;
  readonly #pending = new Map<string, PhoneRecord>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string, delayMs = 250) {
    this.#dataDir = dataDir;
    this.#delayMs = delayMs;
  }

  /** Keep `record.cardState` in step with `card` and save it after changes. */
  watch(record: PhoneRecord, card: SimulatedCard): () => void {
    return card.onChange((json) => {
      record.cardState = json;
      this.schedule(record);
    });
  }

  schedule(record: PhoneRecord): void {
    this.#pending.set(record.iccid, record);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#delayMs);
  }

  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    this.#writing = this.#writing.then(async () => {
      for (const r of batch) await savePhone(this.#dataDir, r);
    });
    await this.#writing;
  }
}

export function cardOf(record: PhoneRecord): SimulatedCard {
  return SimulatedCard.fromState(record.cardState);
}
