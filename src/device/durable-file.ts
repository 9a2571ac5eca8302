/**
 * A device's non-volatile memory on node:fs: one text file replaced atomically and durably — write a temp
 * file beside it, fsync it, rename it over the file, fsync the directory (POSIX rename(2) is atomic; the
 * directory fsync makes the rename itself survive a power cut). A crash at any point leaves either the old
 * or the new file whole; a temp file left behind is ignored (and removed at the next open by its owner).
 *
 * It has the shape of the card's `CardStorage` port (src/card/storage.ts): `stage(text)` only records the
 * latest text (synchronously, inside the card's `process`), `sync()` writes it. Texts staged between two
 * barriers are written once (the last one) — the caller syncs before any response leaves, so nothing a
 * response acknowledged is ever only in memory. Writes are serialised; a failed write is tried again by the
 * next `sync()`.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface DurableFileOptions {
  /** File mode of the written file (default 0o600: card state holds keys). */
  readonly mode?: number;
  /** Directory fsync after the rename (default true); false only where the file system refuses it. */
  readonly syncDirectory?: boolean;
  /**
   * Write with blocking calls inside `sync()` (default false: node:fs/promises, the event loop stays free for
   * other work — the phones share their process with the platform). A one-card process (`card serve`,
   * `--reader sim:FILE`) has nothing else to do meanwhile, and a blocking write is a little faster.
   */
  readonly blocking?: boolean;
}

/** A programming error, not a user's: a missing path would otherwise become a file named "undefined" in the cwd. */
function checkPath(file: unknown): void {
  if (typeof file !== 'string' || file === '') throw new TypeError(`durable file: a path is required (got ${String(file)})`);
}

/** `file`'s temp files of processes that are gone: `<name>.<pid>.tmp`. */
function staleTemps(file: string): string[] {
  const dir = dirname(file);
  const prefix = `${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix) && /^\d+\.tmp$/.test(n.slice(prefix.length)))
    .filter((n) => {
      const pid = Number(n.slice(prefix.length, -4));
      if (pid === process.pid) return true;
      try {
        process.kill(pid, 0);
        return false; // its writer is alive
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ESRCH';
      }
    })
    .map((n) => join(dir, n));
}

/** Write `text` to `file` atomically and durably, synchronously (one-off saves: creation, registration). */
export function writeFileDurablySync(file: string, text: string, options: DurableFileOptions = {}): void {
  checkPath(file);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', options.mode ?? 0o600);
  try {
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  if (options.syncDirectory !== false) {
    const d = openSync(dirname(file), 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  }
}

/** Write `text` to `file` atomically and durably (async: the event loop stays free during the fsyncs). */
export async function writeFileDurably(file: string, text: string, options: DurableFileOptions = {}): Promise<void> {
  checkPath(file);
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', options.mode ?? 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  if (options.syncDirectory !== false) {
    const d = await open(dirname(file), 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}

export class DurableFile {
  readonly file: string;
  readonly #options: DurableFileOptions;
  #text: string | undefined;
  /** Stages so far, and the last one written durably. */
  #staged = 0;
  #written = 0;
  #inflight: Promise<void> | undefined;
  /** Durable writes done (for benchmarks and tests). */
  writes = 0;

  /** `file` holds the current content already (or will be created by the first sync); stale temp files are removed. */
  constructor(file: string, options: DurableFileOptions = {}) {
    checkPath(file);
    this.file = file;
    this.#options = options;
    for (const t of staleTemps(file)) {
      try {
        unlinkSync(t);
      } catch {
        // another owner removed it
      }
    }
  }

  /** Record `text` as the content to write at the next `sync()`. */
  stage(text: string): void {
    if (typeof text !== 'string') throw new TypeError('DurableFile.stage: expected a string');
    this.#text = text;
    this.#staged++;
  }

  /** Whether something staged is not durable yet. */
  get dirty(): boolean {
    return this.#written < this.#staged;
  }

  /** Resolves when everything staged before the call is durable; rejects with the write's error. */
  async sync(): Promise<void> {
    const target = this.#staged;
    if (this.#options.blocking === true) {
      if (this.#written < target) {
        writeFileDurablySync(this.file, this.#text!, this.#options);
        this.writes++;
        this.#written = target;
      }
      return;
    }
    while (this.#written < target) {
      if (this.#inflight) {
        try {
          await this.#inflight;
        } catch {
          // that write failed: write ourselves (and report our own failure)
        }
        continue;
      }
      const seq = this.#staged;
      const text = this.#text!;
      const run = writeFileDurably(this.file, text, this.#options).then(() => {
        this.writes++;
        if (seq > this.#written) this.#written = seq;
      });
      this.#inflight = run;
      try {
        await run;
      } finally {
        if (this.#inflight === run) this.#inflight = undefined;
      }
    }
  }
}
