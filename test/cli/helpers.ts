/**
 * Helpers for the CLI tests: run `opentsm` in-process (stdout/stderr captured, exit status returned by
 * `main`) or as a child process (real exit codes), against `sim:FILE` cards in a temporary directory.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

export const ISD = 'A000000151000000';
export const SSD = 'A000000151535041AA01';
export const ECHO_ELF = 'F04F50454E54534D';
export const ECHO_MODULE = 'F04F50454E54534D01';
export const ECHO_INSTANCE = 'F04F50454E54534D0101';
export const ATR = '3BFC1300008131FE458031C073C0211F544F54534D49';
export const ISD_PRIVS =
  'Security Domain, Card Lock, Card Terminate, Card Reset, CVM Management, Trusted Path, Authorized Management, Global Delete, Global Lock, Global Registry, Final Application';

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when `main` threw instead of returning an exit status (a bug: the user would see a stack trace). */
  readonly threw?: unknown;
}

type Write = typeof process.stdout.write;

/** Run `opentsm ...argv` in this process; stdout and stderr are captured only for the duration of the call. */
export async function cli(...argv: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const outWrite = process.stdout.write;
  const errWrite = process.stderr.write;
  const capture = (append: (s: string) => void): Write =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as Write;
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } catch (threw) {
    return { code: -1, stdout, stderr, threw };
  } finally {
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
  }
}

/** Run a program as a child process; resolves with its real exit status. */
export function spawnCli(file: string, args: readonly string[], timeoutMs = 20_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, cwd: ROOT }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** A temporary directory removed when the test's `after` hook calls `dispose`. */
export function tempDir(): { dir: string; file: (name: string) => string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'opentsm-cli-'));
  return { dir, file: (name) => join(dir, name), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `opentsm gp --reader sim:FILE …` in-process. */
export function gp(file: string, ...args: string[]): Promise<Result> {
  return cli('gp', '--reader', `sim:${file}`, ...args);
}

/** Output lines without the trailing empty line. */
export function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/** The first two lines `opentsm gp` prints: the reader and the secure channel. */
export function header(file: string, channel: string, created = false): string[] {
  return [`# simulated card ${file}${created ? ' (new)' : ''}, ATR ${ATR}`, `# ${channel}`];
}

export function readState(file: string): Buffer {
  return readFileSync(file);
}

/** The registry lines of a factory-fresh card (both profiles): ISD and the two built-in load files. */
export const FRESH_ISD = [`ISD: ${ISD} (SECURED)`, `     Privs:   ${ISD_PRIVS}`, `     Parent:  ${ISD}`];
export const BUILT_IN_PKGS = [
  'PKG: A0000001515350 (LOADED)',
  `     Parent:  ${ISD}`,
  '     Version: 1.0',
  '     Module:  A000000151535041',
  `PKG: ${ECHO_ELF} (LOADED)`,
  `     Parent:  ${ISD}`,
  '     Version: 1.0',
  `     Module:  ${ECHO_MODULE}`,
];
