/**
 * A simulated card whose persistent state lives in a JSON file: loaded when the file exists,
 * created from a profile when it does not. The file is the card's storage (`DurableFile`): every
 * committed change is written atomically and durably (temp file, fsync, rename, directory fsync) before
 * the transport lets the response go (the card persists before it answers, issue 8 §3).
 */
import { existsSync, readFileSync } from 'node:fs';
import { DurableFile, writeFileDurablySync } from '../device/durable-file.ts';
import { SimulatedCard, createCard, type ProfileName } from '../card/index.ts';
import { CardStateError } from '../card/errors.ts';
import { UsageError } from './errors.ts';
import { PHONE_FORMAT } from '../runtime/index.ts';

/** The phone record when `json` is a phone file of `opentsm up` (format `opentsm-phone` with a card state). */
function phoneRecord(json: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(json) as unknown;
    if (v !== null && typeof v === 'object' && (v as { format?: unknown }).format === PHONE_FORMAT && typeof (v as { cardState?: unknown }).cardState === 'string') {
      return v as Record<string, unknown>;
    }
  } catch {
    // not JSON: the card state parser says so
  }
  return undefined;
}

export function saveCardState(file: string, json: string): void {
  writeFileDurablySync(file, json);
}

/**
 * Open the card stored in `file` (or create it with `profile`); the file becomes the card's storage, written durably before each answer.
 * `file` may also be a phone file of `opentsm up` (`<data>/phones/<ICCID>.json`): its secure element's state
 * is used and written back into it. A file that is neither is refused with a readable message and left
 * untouched.
 */
export function openCardFile(file: string, profile: ProfileName | undefined): { card: SimulatedCard; created: boolean } {
  if (existsSync(file)) {
    let json: string;
    try {
      json = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError('BAD_VALUE', `cannot read card state ${file}: ${(e as Error).message}`);
    }
    const phone = phoneRecord(json);
    let card: SimulatedCard;
    try {
      card = SimulatedCard.fromState(phone ? (phone.cardState as string) : json);
    } catch (e) {
      if (e instanceof CardStateError || e instanceof SyntaxError) {
        throw new UsageError('BAD_VALUE', `${file} is not a valid opentsm card state: ${e.message}`);
      }
      throw e;
    }
    const storage = new DurableFile(file, { blocking: true });
    card.attachStorage({ stage: (state) => storage.stage(phone ? JSON.stringify({ ...phone, cardState: state }) : state), sync: () => storage.sync() });
    return { card, created: false };
  }
  const card = createCard({ profile: profile ?? 'scp03' });
  try {
    saveCardState(file, card.serialize());
  } catch (e) {
    throw new UsageError('BAD_VALUE', `cannot create card state ${file}: ${(e as Error).message}`);
  }
  card.attachStorage(new DurableFile(file, { blocking: true }));
  return { card, created: true };
}
