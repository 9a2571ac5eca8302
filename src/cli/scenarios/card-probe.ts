/**
 * What the card itself says about an SD's keys, asked without any key of the platforms (an operator's view,
 * docs/architecture.md §2): SELECT the SD, then INITIALIZE UPDATE naming key version `kvn` (GPCS 2.3.1 §11.8,
 * SCP03 §7.1.1, SCP02 E.5.1.4) with throw-away host keys. A card that holds that key version answers its key
 * information and a card cryptogram (which the throw-away keys cannot verify: present); a card that does not
 * answers '6A88' referenced data not found (absent). Nothing is authenticated, nothing on the card changes.
 */
import { randomBytes } from 'node:crypto';
import type { CardChannel } from '../../apdu/channel.ts';
import { fromHex } from '../../core/bytes.ts';
import { wipeKeySet, type SdKeySet } from '../../services/sd-keys/key-set.ts';
import { probeKeySet } from '../../services/sd-keys/operations.ts';

export type KeyVersionOnCard = 'present' | 'absent' | 'no-sd';

export async function keyVersionOnCard(channel: CardChannel, aid: string, kvn: number, scp: number): Promise<KeyVersionOnCard> {
  if (scp !== 2 && scp !== 3) throw new RangeError(`SCP${scp} has no symmetric key set to probe`);
  const key = () => new Uint8Array(randomBytes(16));
  const throwAway: SdKeySet = { kvn, scp, enc: key(), mac: key(), dek: key() };
  try {
    const r = await probeKeySet(channel, fromHex(aid), throwAway);
    // 'match' would mean 128-bit random keys were right: report it as what it is, present.
    return r === 'absent' ? 'absent' : r === 'no-sd' ? 'no-sd' : 'present';
  } finally {
    wipeKeySet(throwAway);
  }
}
