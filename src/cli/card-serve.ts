/**
 * `opentsm card serve --vpcd [HOST:PORT] [--state FILE] [--scp 02|03]`: attach a simulated card to
 * vpcd so that pcscd and every PC/SC program see it. Runs until interrupted; every change of state is
 * written durably before the card answers (issue 8 §3); the connection comes back when pcscd restarts.
 */
import { createCard } from '../card/index.ts';
import { serveVpcd } from '../transport/vpcd.ts';
import { formatOptions, parseArgs, parseIntArg, type OptionSpec } from './args.ts';
import { openCardFile } from './card-file.ts';
import { UsageError } from './errors.ts';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'vpcd', kind: 'optional-value', valueName: '[HOST:PORT]', help: 'connect to vpcd (default 127.0.0.1:35963)' },
  { name: 'state', kind: 'value', valueName: 'FILE', help: 'card state file: loaded when present, created when not; every change is on disk (fsync) before the card answers' },
  { name: 'scp', kind: 'value', valueName: '02|03', help: 'profile of a new card: SCP03 (KVN 30, i=70) or SCP02 (KVN 20, i=55); default 03' },
  { name: 'help', kind: 'flag', help: 'this text' },
];

const HELP = `usage: opentsm card serve --vpcd [HOST:PORT] [--state FILE] [--scp 02|03]

options:
${formatOptions(OPTIONS)}
`;

export async function runCard(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'serve') throw new UsageError('UNKNOWN_COMMAND', `unknown card command: ${sub} (try: opentsm card serve --help)`);
  const p = parseArgs(rest, OPTIONS);
  if (p.flags.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (p.positional.length > 0) throw new UsageError('BAD_VALUE', `unexpected argument ${JSON.stringify(p.positional[0])}`);
  if (!p.flags.has('vpcd')) throw new UsageError('MISSING_ARGUMENT', 'card serve needs --vpcd (the only way to serve a card for now)');
  const target = p.values.get('vpcd') ?? '127.0.0.1:35963';
  const m = /^(.+):(\d+)$/.exec(target);
  if (!m) throw new UsageError('BAD_VALUE', `--vpcd: expected HOST:PORT, got ${target}`);
  const host = m[1]!;
  const port = parseIntArg(m[2]!, 'vpcd port', 1, 65535);
  const scp = p.values.get('scp') ?? '03';
  if (!/^0?[23]$/.test(scp)) throw new UsageError('BAD_VALUE', `--scp: expected 02 or 03, got ${scp}`);
  const profile = Number(scp) === 2 ? 'scp02' : 'scp03';
  const file = p.values.get('state');
  const card = file ? openCardFile(file, profile).card : createCard({ profile });
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const abort = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => abort.abort());
  log(`serving a simulated ${profile.toUpperCase()} card${file ? ` (state ${file})` : ''} to vpcd at ${host}:${port}`);
  await serveVpcd(card, {
    host,
    port,
    reconnect: true,
    signal: abort.signal,
    onStateChange: (state, error) => log(`vpcd ${state}${error ? `: ${error.message}` : ''}`),
  });
  log('stopped');
  return 0;
}
