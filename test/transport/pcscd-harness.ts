/**
 * Test harness: a private pcscd with the vpcd reader driver, for end-to-end tests through PC/SC.
 *
 * pcscd has one fixed socket (/run/pcscd/pcscd.comm), so only one runs per machine: tests that use
 * it take a lock (a directory in the temp folder), so test files running in parallel wait in turn.
 * A pcscd already running with vpcd listening on the wanted port is reused and left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const VPCD_DRIVER_PATHS = [
  '/usr/lib/pcsc/drivers/serial/libifdvpcd.so',
  '/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so',
] as const;
const PCSCD_PID_FILE = '/run/pcscd/pcscd.pid';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const LOCK_DIR = join(tmpdir(), 'opentsm-pcscd.lock');

export interface PcscdOptions {
  /** vpcd port of reader slot 0 (slot 1 is port + 1); default 35963. */
  readonly vpcdPort?: number;
  /** Time for pcscd to come up; default 15 s. */
  readonly startTimeoutMs?: number;
  /** Time to wait for another test holding the pcscd lock; default 120 s. */
  readonly lockTimeoutMs?: number;
}

export interface PcscdHandle {
  /** Port the simulated card connects to with `serveVpcd`. */
  readonly vpcdPort: number;
  /** PC/SC name of the vpcd reader for that port. */
  readonly readerName: string;
  /** False when an already running pcscd was reused. */
  readonly started: boolean;
  /** pcscd's output so far (for failure messages). */
  log(): string;
  /** Stop pcscd and start it again, keeping the lock (simulates a pcscd restart). */
  restart(): Promise<void>;
  /** Stop pcscd (if started here), remove its config, release the lock. */
  stop(): Promise<void>;
}

function which(cmd: string, extra: readonly string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin', ...extra];
  for (const d of dirs) {
    if (d.length === 0) continue;
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Why pcscd tests cannot run here, or undefined when they can. */
export function pcscdUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'pcscd tests need Linux';
  if (which('pcscd') === undefined) return 'pcscd is not installed (apt-get install pcscd)';
  if (!VPCD_DRIVER_PATHS.some((p) => existsSync(p))) return 'the vpcd reader driver is not installed (apt-get install vsmartcard-vpcd)';
  if (!pcscdRunning() && process.getuid?.() !== 0) return 'starting pcscd needs root (it owns /run/pcscd)';
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pcscdRunning(): boolean {
  try {
    const pid = Number.parseInt(readFileSync(PCSCD_PID_FILE, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 && alive(pid);
  } catch {
    return false;
  }
}

/** Is something listening on TCP `port` (IPv4 or IPv6, any address)? Reads /proc, opens no connection. */
export function tcpListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[1]!.endsWith(`:${hex}`) && cols[3] === '0A') return true;
    }
  }
  return false;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function acquireLock(timeoutMs: number): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(LOCK_DIR, { recursive: true, force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = 0;
    try {
      owner = Number.parseInt(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'), 10);
    } catch {
      // Being created or removed right now.
    }
    if (owner > 0 && !alive(owner)) {
      rmSync(LOCK_DIR, { recursive: true, force: true }); // stale lock of a crashed test
      continue;
    }
    if (Date.now() > deadline) throw new Error(`pcscd lock ${LOCK_DIR} held by pid ${owner} for more than ${timeoutMs} ms`);
    await sleep(200);
  }
}

function readerConf(port: number): string {
  const driver = VPCD_DRIVER_PATHS.find((p) => existsSync(p))!;
  const channel = `0x${port.toString(16).toUpperCase()}`;
  return ['FRIENDLYNAME "Virtual PCD"', `DEVICENAME   /dev/null:${channel}`, `LIBPATH      ${driver}`, `CHANNELID    ${channel}`, ''].join('\n');
}

interface Launched {
  readonly log: () => string;
  readonly stop: () => Promise<void>;
}

/** Start pcscd in the foreground with a private reader.conf.d; resolve once vpcd listens. */
async function launch(vpcdPort: number, startTimeoutMs: number): Promise<Launched> {
  const confDir = await mkdtemp(join(tmpdir(), 'opentsm-pcscd-'));
  await writeFile(join(confDir, 'vpcd'), readerConf(vpcdPort));
  let output = '';
  const child: ChildProcess = spawn(which('pcscd')!, ['--foreground', '--info', '--config', confDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(confDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + startTimeoutMs;
  while (!(tcpListening(vpcdPort) && existsSync(PCSCD_SOCKET))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`pcscd exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`pcscd did not open vpcd port ${vpcdPort} in time:\n${output}`);
    }
    await sleep(50);
  }
  return { log: () => output, stop };
}

/**
 * Start pcscd in the foreground with a private reader.conf.d holding only the vpcd reader, and wait
 * until vpcd listens on its port. Call `stop()` in a `finally`/`after`.
 */
export async function startPcscd(options: PcscdOptions = {}): Promise<PcscdHandle> {
  const reason = pcscdUnavailableReason();
  if (reason !== undefined) throw new Error(reason);
  const vpcdPort = options.vpcdPort ?? 35963;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const readerName = 'Virtual PCD 00 00';
  const release = await acquireLock(options.lockTimeoutMs ?? 120_000);
  try {
    if (pcscdRunning()) {
      if (!tcpListening(vpcdPort)) {
        throw new Error(`a pcscd is already running without vpcd on port ${vpcdPort}; stop it (scripts/pcscd.sh stop) or configure vpcd`);
      }
      return {
        vpcdPort,
        readerName,
        started: false,
        log: () => '(pcscd started elsewhere)',
        restart: () => Promise.reject(new Error('pcscd was not started by this harness')),
        stop: async () => release(),
      };
    }
    if (tcpListening(vpcdPort)) throw new Error(`port ${vpcdPort} is taken by another program`);
    let current: Launched | undefined = await launch(vpcdPort, startTimeoutMs);
    let earlier = '';
    return {
      vpcdPort,
      readerName,
      started: true,
      log: () => earlier + (current?.log() ?? ''),
      restart: async () => {
        if (current !== undefined) {
          earlier += current.log();
          await current.stop();
          current = undefined;
        }
        current = await launch(vpcdPort, startTimeoutMs);
      },
      stop: async () => {
        try {
          if (current !== undefined) {
            earlier += current.log();
            await current.stop();
            current = undefined;
          }
        } finally {
          release();
        }
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}
