/**
 * The `opentsm` command: dispatches to subcommands; usage errors print a readable message and
 * exit 2, card errors exit 1, never a stack trace for a user's mistake.
 */
import { UsageError } from './errors.ts';
import { OpentsmError } from '../core/errors.ts';

const USAGE = `opentsm — open Trusted Service Manager tools

usage: opentsm <command> [options]

commands:
  demo                     create a simulated card, open SCP03, create an SSD, put keys, list the registry
  card serve --vpcd ...    attach a simulated card to pcscd through vpcd (see: opentsm card serve --help)
  gp ...                   GlobalPlatform card management over SCP02/SCP03 (see: opentsm gp --help)
  apdu --reader R HEX...   send raw APDUs without a secure channel (see: opentsm apdu --help)
  audit verify --db DB     verify a service's hash-chained audit log
  up [--devices N]         run the whole platform + N simulated phones (see: opentsm up --help)
  scenario run NAME        run a flow end to end: terminal-ssd, ota-ssd, rotate-keys (see: opentsm scenario --help)
  help                     this text

Readers: sim:FILE (a simulated card whose state lives in FILE; created when missing),
         pcsc (the first PC/SC reader) or pcsc:NAME (the first reader whose name contains NAME).
`;

type Command = (argv: string[]) => Promise<number>;

async function load(name: string): Promise<Command> {
  switch (name) {
    case 'demo':
      return (await import('./demo.ts')).runDemo;
    case 'card':
      return (await import('./card-serve.ts')).runCard;
    case 'gp':
      return (await import('./gp.ts')).runGp;
    case 'apdu':
      return (await import('./apdu.ts')).runApdu;
    case 'audit':
      return (await import('./audit.ts')).runAudit;
    case 'up':
      return (await import('./up.ts')).runUp;
    case 'scenario':
      return (await import('./scenario.ts')).runScenario;
    default:
      throw new UsageError('UNKNOWN_COMMAND', `unknown command: ${name} (try: opentsm help)`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  try {
    return await (await load(name))(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`opentsm: ${e.message}\n`);
      return 2;
    }
    if (e instanceof OpentsmError) {
      process.stderr.write(`opentsm: ${e.message}${'sw' in e && typeof e.sw === 'number' ? '' : ''}\n`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
