/**
 * Fuzz runner: `npm run fuzz -- NAME [--cases N] [--seed S] [--case I] [--json FILE]`.
 *
 *   card   random and mutated APDUs against the secure-element simulator (scripts/fuzz/card.ts);
 *          default 100 000 cases.
 *
 * Prints progress, cases per second, the status word distribution and every finding with its seed, case index
 * and APDU history. `--case I` re-runs only the epoch holding case I, up to it (same seed), to reproduce a
 * finding. Exit status: 0 clean, 1 findings, 2 bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { fuzzCard, type Finding, type FuzzCardResult } from './fuzz/card.ts';

interface Args {
  cases?: number;
  seed?: number;
  onlyCase?: number;
  json?: string;
  quiet: boolean;
}

const USAGE = `usage: npm run fuzz -- NAME [options]

fuzzers:
  card             APDUs against the secure-element simulator (default 100000 cases)

options:
  --cases N        number of fuzzed APDUs
  --seed S         32-bit seed, decimal or 0x-hex (default: random, printed)
  --case I         only re-run the epoch holding case I, up to I (reproduce a finding)
  --json FILE      write the findings (with full APDU histories) to FILE
  --quiet          no progress lines`;

class UsageError extends Error {}

function integer(name: string, v: string | undefined, max: number): number {
  if (v === undefined) throw new UsageError(`${name} needs a value`);
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new UsageError(`${name}: '${v}' is not an integer in 0..${max}`);
  return n;
}

export function parseArgs(argv: readonly string[]): { name: string; args: Args } {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') throw new UsageError('which fuzzer?');
  if (name.startsWith('-')) throw new UsageError(`expected a fuzzer name before ${name}`);
  const args: Args = { quiet: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? rest[++i];
    switch (flag) {
      case '--cases':
        args.cases = integer('--cases', value(), 100_000_000);
        break;
      case '--seed':
        args.seed = integer('--seed', value(), 0xffffffff);
        break;
      case '--case':
        args.onlyCase = integer('--case', value(), 100_000_000);
        break;
      case '--json': {
        const v = value();
        if (!v) throw new UsageError('--json needs a file name');
        args.json = v;
        break;
      }
      case '--quiet':
        args.quiet = true;
        break;
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  return { name, args };
}

function printFinding(f: Finding, n: number): void {
  console.log(`\n#${n} ${f.kind}: ${f.message}`);
  console.log(`   seed ${f.seed} (0x${f.seed.toString(16)}), case ${f.caseIndex}, epoch ${f.epoch}, card ${f.profile}${f.apps ? ' + SSD/applets' : ''}, generator ${f.generator}`);
  if (f.mutations.length) console.log(`   mutations: ${f.mutations.join('; ')}`);
  if (f.plain) console.log(`   plaintext: ${f.plain}`);
  console.log(`   command:   ${f.command}`);
  if (f.response) console.log(`   response:  ${f.response}`);
  const tail = f.history.slice(-12);
  console.log(`   history (${f.history.length} steps${f.history.length > tail.length ? ', last 12' : ''}):`);
  for (const h of tail) console.log(`     ${h}`);
  console.log(`   reproduce: npm run fuzz -- card --seed ${f.seed} --case ${f.caseIndex}`);
}

function printSummary(r: FuzzCardResult, seed: number): void {
  const s = r.stats;
  const rate = s.cases / Math.max(s.elapsedMs / 1000, 1e-9);
  console.log(`\ncard fuzz: ${s.cases} cases (${s.apdus} APDUs, ${s.epochs} epochs, ${s.cards} cards) in ${(s.elapsedMs / 1000).toFixed(1)} s, ${Math.round(rate)} cases/s, seed ${seed}`);
  console.log(`  generators: ${Object.entries(s.byGenerator).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`  secure channels opened ${s.sessionsOpened}, responses not unwrappable ${s.unwrapFailures}`);
  const why = Object.entries(s.sessionFailures).sort((x, y) => y[1] - x[1]);
  console.log(`  secure channels not opened ${s.sessionsFailed}${why.length ? ': ' + why.map(([k, v]) => `${k} ${v}`).join(', ') : ''}`);
  console.log(`  oracle: ${s.malformed} malformed commands judged, ${s.mustRefuse} other must-refuse, ${s.stateChanges} state changes checked`);
  console.log(`  instructions: ${Object.entries(s.byInstruction).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const sws = Object.entries(s.sw).sort((a, b) => b[1] - a[1]);
  console.log(`  status words (${sws.length} distinct):`);
  for (let i = 0; i < sws.length; i += 8) console.log('    ' + sws.slice(i, i + 8).map(([k, v]) => `${k} ${v}`.padEnd(13)).join(' '));
  console.log(`  findings: ${s.findings}${s.findings > r.failures.length ? ` (${r.failures.length} shown)` : ''}`);
}

function runCard(args: Args): number {
  const seed = args.seed ?? randomInt(0, 0xffffffff);
  const cases = args.cases ?? 100_000;
  console.log(args.onlyCase !== undefined ? `card fuzz: seed ${seed}, re-running up to case ${args.onlyCase}` : `card fuzz: seed ${seed}, ${cases} cases`);
  const result = fuzzCard({
    cases,
    seed,
    ...(args.onlyCase !== undefined ? { onlyCase: args.onlyCase } : {}),
    ...(args.quiet
      ? {}
      : {
          onProgress: (p) =>
            console.log(`  ${p.done}/${p.total} cases, ${Math.round(p.done / (p.elapsedMs / 1000))} cases/s, ${p.findings} findings`),
        }),
  });
  printSummary(result, seed);
  result.failures.forEach((f, n) => printFinding(f, n + 1));
  if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
  return result.stats.findings > 0 ? 1 : 0;
}

const FUZZERS: Readonly<Record<string, (args: Args) => number>> = { card: runCard };

export function main(argv: readonly string[]): number {
  let parsed;
  try {
    parsed = parseArgs(argv);
    if (!Object.hasOwn(FUZZERS, parsed.name)) throw new UsageError(`unknown fuzzer '${parsed.name}' (known: ${Object.keys(FUZZERS).join(', ')})`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`fuzz: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  return FUZZERS[parsed.name]!(parsed.args);
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
