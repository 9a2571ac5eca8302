/** Run `opentsm up` as its own process in tests: wait for its ready line, stop it with SIGTERM. */
import { after } from 'node:test';
import { spawn } from 'node:child_process';
import { READY_LINE } from '../../src/cli/up.ts';

export const NODE = process.execPath;
/** Children still running when a test fails are killed, never left behind. */
const running = new Set<ReturnType<typeof spawn>>();
after(() => {
  for (const c of running) c.kill('SIGKILL');
});
export const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

/** Start `opentsm up`, resolve with its output once the ready line came; `stop` sends SIGTERM and awaits the exit. */
export async function up(dir: string, devices: number, extra: readonly string[] = []) {
  const child = spawn(NODE, [MAIN, 'up', '--data', dir, '--devices', String(devices), '--any-ports', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  running.add(child);
  void exited.then(() => running.delete(child));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 60 s:\n${out}\n${err}`)), 60_000);
    const check = () => {
      if (out.includes(READY_LINE)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`exited ${code} before ready:\n${out}\n${err}`)));
  });
  return {
    output: () => out,
    errors: () => err,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    /** Kill the process without warning (SIGKILL): nothing of it runs after this, as after a power cut. */
    async kill() {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

