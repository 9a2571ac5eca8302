/**
 * Benchmark runner: `npm run bench -- NAME [args…]` runs bench/NAME.ts, whose default export
 * is `async (args: string[]) => void` and prints its figures.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (name === undefined || !available.includes(name)) {
  process.stderr.write(
    `${name === undefined ? 'missing benchmark name' : `unknown benchmark: ${name}`}\n` +
      `usage: npm run bench -- NAME [args]\navailable: ${available.join(', ') || '(none)'}\n`,
  );
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default: (args: string[]) => Promise<void> };
await mod.default(args);
