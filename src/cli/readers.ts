/**
 * `--reader` values: `sim:FILE` (a simulated card stored in FILE, in this process) or `pcsc[:NAME]`
 * (through pcscd: the first reader with a card, or the first whose name contains NAME).
 */
import type { CardChannel } from '../apdu/channel.ts';
import { InProcessChannel } from '../transport/in-process.ts';
import { PcscChannel } from '../transport/pcsc-channel.ts';
import type { ProfileName } from '../card/index.ts';
import { openCardFile } from './card-file.ts';
import { UsageError } from './errors.ts';

export interface OpenedReader {
  readonly channel: CardChannel;
  readonly description: string;
  readonly atr: Uint8Array | undefined;
  close(): Promise<void>;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function openReader(spec: string, options: { profile?: ProfileName } = {}): Promise<OpenedReader> {
  if (spec.startsWith('sim:')) {
    const file = spec.slice(4);
    if (file === '') throw new UsageError('BAD_VALUE', '--reader sim:FILE needs a file name');
    const { card, created } = openCardFile(file, options.profile);
    const channel = new InProcessChannel(card);
    const atr = channel.powerOn();
    return {
      channel,
      atr,
      description: `simulated card ${file}${created ? ' (new)' : ''}`,
      close: () => channel.close(),
    };
  }
  if (spec === 'pcsc' || spec.startsWith('pcsc:')) {
    const name = spec.slice(5);
    const channel = await PcscChannel.open({
      ...(name === '' ? {} : { reader: new RegExp(escapeRegExp(name), 'i') }),
      waitMs: 3000,
    });
    return { channel, atr: channel.atr, description: `PC/SC reader ${channel.reader}`, close: () => channel.close() };
  }
  throw new UsageError('BAD_VALUE', `--reader: expected sim:FILE, pcsc or pcsc:NAME, got ${JSON.stringify(spec)}`);
}
