/**
 * node:test global setup for `npm test`: the tests start a private PostgreSQL cluster on demand
 * (test/platform/databases.ts → scripts/postgres.sh start). What the run started, it stops at the end;
 * a cluster that was already running before the run (a developer's, or OPENTSM_TEST_POSTGRES_URL) is left alone.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../scripts/postgres.sh', import.meta.url));

function postgresRunning(): boolean {
  return spawnSync('bash', [SCRIPT, 'status'], { stdio: 'ignore' }).status === 0;
}

let runningBefore = true;

export function globalSetup(): void {
  runningBefore = process.env.OPENTSM_TEST_POSTGRES_URL !== undefined || postgresRunning();
}

export function globalTeardown(): void {
  if (runningBefore || !postgresRunning()) return;
  const r = spawnSync('bash', [SCRIPT, 'stop'], { encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`test teardown: scripts/postgres.sh stop failed: ${r.stderr.trim()}\n`);
}
