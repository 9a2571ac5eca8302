#!/usr/bin/env node
// Entry point for `npx opentsm` and the `opentsm` bin. opentsm is TypeScript run directly by
// Node 24 (type stripping); when an older Node starts this file, re-run it with the Node 24
// that the project pins as a devDependency (node_modules/node).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  // Imported, main.ts does not run itself (its `import.meta.main` is false): call it.
  const cli = await import(pathToFileURL(main).href);
  process.exitCode = await cli.main(process.argv.slice(2));
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(`opentsm needs Node.js 24 or later (this is ${process.version}); run \`npm install\` in ${root} first.\n`);
    process.exit(1);
  }
  const r = spawnSync(pinned, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
