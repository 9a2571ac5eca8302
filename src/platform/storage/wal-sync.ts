/**
 * Group commit for the SQLite driver (issue 8 §6): the write-ahead log made durable by one `fsync` that covers
 * every transaction committed before it started, run on libuv's thread pool instead of inside `COMMIT` on the
 * event loop.
 *
 * SQLite runs with `synchronous = NORMAL` in WAL mode: a COMMIT appends its frames to `<file>-wal` (the OS
 * holds them; SQLite itself syncs the WAL only before a checkpoint copies it into the database). This class
 * then fsyncs `<file>-wal`: fsync flushes the file's data whatever descriptor asks, so every frame appended
 * before the fsync began is on disk when it returns. Commits are numbered; `durable(n)` resolves once an
 * fsync that began after commit `n` has completed. Commits that arrive while an fsync runs share the next one.
 *
 * The guarantee equals `synchronous = FULL` (a transaction resolves only when it is on disk — record before
 * do, never acknowledge what is not durable) provided nothing outside the committing transaction acts on
 * unsynced data: the driver makes reads outside a transaction wait for `durable(latest)`. A transaction may
 * read a commit that is not yet on disk, but it resolves only after a later fsync, which covers both (the log
 * is ordered: a later frame on disk means the earlier ones are). A failed fsync fails every waiter it covered.
 */
import { open, type FileHandle } from 'node:fs/promises';

export class WalSync {
  readonly #walPath: string;
  #fh: FileHandle | undefined;
  /** Commits made so far / covered by a completed fsync. */
  #committed = 0;
  #synced = 0;
  #running: Promise<void> | undefined;
  /** How many fsyncs ran (tests, benchmarks). */
  syncs = 0;

  constructor(dbPath: string) {
    this.#walPath = `${dbPath}-wal`;
  }

  /** Number the commit just made. */
  committed(): number {
    return ++this.#committed;
  }

  /** The latest commit's number. */
  get latest(): number {
    return this.#committed;
  }

  /** True when commits are waiting for an fsync. */
  get dirty(): boolean {
    return this.#synced < this.#committed;
  }

  /** Resolves when commit `n` is on disk. */
  async durable(n: number): Promise<void> {
    while (this.#synced < n) {
      if (this.#running === undefined) this.#running = this.#sync();
      await this.#running;
    }
  }

  async #sync(): Promise<void> {
    const upTo = this.#committed;
    try {
      this.#fh ??= await open(this.#walPath, 'r');
      await this.#fh.sync();
      this.syncs++;
      if (upTo > this.#synced) this.#synced = upTo;
    } finally {
      this.#running = undefined;
    }
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }
}
