/**
 * One conversation with a card for a piece of work (issue 8 §2): the channel from `CardAccess` holds the card
 * from its first script (OTA: an admin API conversation; terminal: the relay's) until `work` ends, so that
 * the secure channel session `work` opens is never interleaved with another caller's scripts; then the card
 * goes to the next in line.
 */
import type { CardChannel } from '../../apdu/channel.ts';
import type { CardAccess, CardRoute } from './deps.ts';

/** Close a channel from CardAccess, releasing the card; a failure to say so is not the work's failure. */
export async function releaseCard(channel: CardChannel | undefined): Promise<void> {
  await channel?.close?.().catch(() => undefined);
}

export async function withCard<T>(access: CardAccess, cardId: string, route: CardRoute, work: (channel: CardChannel) => Promise<T>): Promise<T> {
  const channel = await access(cardId, route);
  try {
    return await work(channel);
  } finally {
    await releaseCard(channel);
  }
}
