/**
 * Published test vectors, copied into the repository from the project's shared vector folder so that a
 * clean clone is self-contained. Each file keeps its `source` field.
 */
import { readFileSync } from 'node:fs';

function load(name: string): any {
  return JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8'));
}

/** SCP02/SCP03 transcripts and key check values (gp-scp.json). */
export const gpScpVectors = load('gp-scp.json');
