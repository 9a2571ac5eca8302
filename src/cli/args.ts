/**
 * A small, strict command-line parser: declared options only, typed values, readable errors.
 * Forms: `--flag`, `--opt value`, `--opt=value`; `multi` options collect every following
 * argument that does not start with `--` (e.g. `--apdu 00A40400 80CA9F7F00`).
 */
import { UsageError } from './errors.ts';

export interface OptionSpec {
  readonly name: string;
  readonly kind: 'flag' | 'value' | 'multi' | 'optional-value';
  readonly help: string;
  readonly valueName?: string;
}

export interface Parsed {
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
  readonly multi: ReadonlyMap<string, readonly string[]>;
  readonly positional: readonly string[];
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const multi = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const spec = byName.get(name);
    if (!spec) throw new UsageError('UNKNOWN_OPTION', `unknown option --${name} (see --help)`);
    switch (spec.kind) {
      case 'flag':
        if (inline !== undefined) throw new UsageError('BAD_VALUE', `--${name} takes no value`);
        flags.add(name);
        break;
      case 'value': {
        const v = inline ?? argv[++i];
        if (v === undefined || (inline === undefined && v.startsWith('--'))) {
          throw new UsageError('MISSING_VALUE', `--${name} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}`);
        }
        if (values.has(name)) throw new UsageError('CONFLICT', `--${name} given twice`);
        values.set(name, v);
        break;
      }
      case 'optional-value': {
        flags.add(name);
        const next = argv[i + 1];
        const v = inline ?? (next !== undefined && !next.startsWith('--') ? (i++, next) : undefined);
        if (v !== undefined) values.set(name, v);
        break;
      }
      case 'multi': {
        const list = multi.get(name) ?? [];
        if (inline !== undefined) list.push(inline);
        while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) list.push(argv[++i]!);
        if (list.length === 0) throw new UsageError('MISSING_VALUE', `--${name} needs at least one value`);
        multi.set(name, list);
        break;
      }
    }
  }
  return { flags, values, multi, positional };
}

/** Render option help lines, aligned. */
export function formatOptions(specs: readonly OptionSpec[]): string {
  const left = specs.map((s) => `  --${s.name}${s.valueName ? ` ${s.valueName}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return specs.map((s, i) => `${left[i]!.padEnd(width)}${s.help}`).join('\n');
}

/** Parse an integer given in decimal or with 0x prefix (or as plain hex when `hex` is set). */
export function parseIntArg(text: string, name: string, min: number, max: number, hex = false): number {
  const t = text.trim();
  const ok = hex ? /^(0x)?[0-9a-fA-F]+$/.test(t) : /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t);
  if (!ok) throw new UsageError('BAD_VALUE', `--${name}: not a number: ${JSON.stringify(text)}`);
  const v = hex || t.startsWith('0x') ? Number.parseInt(t.replace(/^0x/, ''), 16) : Number.parseInt(t, 10);
  if (v < min || v > max) throw new UsageError('BAD_VALUE', `--${name}: ${text} is outside ${min}..${max}`);
  return v;
}
