/** `opentsm apdu --reader R HEX…`: raw APDUs, no secure channel (for applets and tests). */
import { fromHex, toHex } from '../core/bytes.ts';
import { decodeCommand } from '../apdu/command.ts';
import { decodeResponse } from '../apdu/response.ts';
import { swName } from '../apdu/sw.ts';
import type { ProfileName } from '../card/index.ts';
import { formatOptions, parseArgs, type OptionSpec } from './args.ts';
import { UsageError } from './errors.ts';
import { openReader } from './readers.ts';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'reader', kind: 'value', valueName: 'R', help: 'sim:FILE | pcsc | pcsc:NAME (default: pcsc)' },
  { name: 'profile', kind: 'value', valueName: 'scp03|scp02', help: 'profile of a NEW sim:FILE card (default scp03)' },
  { name: 'help', kind: 'flag', help: 'this text' },
];

const HELP = `usage: opentsm apdu [--reader R] HEX…

Sends each command APDU as it is and prints the response data and status word.

options:
${formatOptions(OPTIONS)}
`;

export async function runApdu(argv: string[]): Promise<number> {
  const p = parseArgs(argv, OPTIONS);
  if (p.flags.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (p.positional.length === 0) throw new UsageError('MISSING_ARGUMENT', 'give at least one APDU in hex (see opentsm apdu --help)');
  const commands = p.positional.map((hex) => {
    try {
      const bytes = fromHex(hex);
      decodeCommand(bytes);
      return bytes;
    } catch (e) {
      throw new UsageError('BAD_VALUE', `${hex}: not a valid command APDU (${(e as Error).message})`);
    }
  });
  const profile = p.values.get('profile');
  if (profile !== undefined && profile !== 'scp03' && profile !== 'scp02') throw new UsageError('BAD_VALUE', `--profile: expected scp03 or scp02`);
  const reader = await openReader(p.values.get('reader') ?? 'pcsc', profile ? { profile: profile as ProfileName } : {});
  try {
    for (const c of commands) {
      const r = decodeResponse(await reader.channel.transmit(c));
      process.stdout.write(`> ${toHex(c)}\n< ${toHex(r.data)}${r.data.length ? ' ' : ''}${swName(r.sw)}\n`);
    }
  } finally {
    await reader.close();
  }
  return 0;
}
