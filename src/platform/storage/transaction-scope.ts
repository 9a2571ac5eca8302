/**
 * What both drivers share about transactions: a promise mutex, and the scope of one open transaction
 * that runs nested `transaction` calls as SAVEPOINTs and is found again through AsyncLocalStorage when
 * code inside the transaction calls the outer handle.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const noop = (): void => {};

/** Runs callbacks one at a time, in call order. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(noop, noop);
    return result;
  }
}

/** Where in a transaction the current async context is: the scope and the savepoint depth. */
export interface Frame {
  readonly scope: TransactionScope<unknown>;
  readonly level: number;
}

export type FrameStorage = AsyncLocalStorage<Frame>;

export function newFrameStorage(): FrameStorage {
  return new AsyncLocalStorage<Frame>();
}

/** One open transaction on one connection; `handle` is the driver's Database bound to it. */
export class TransactionScope<H> {
  readonly handle: H;
  readonly #exec: (sql: string) => Promise<void>;
  readonly #frames: FrameStorage;
  /** Nested transactions started from the same depth run one after the other (savepoints are a stack). */
  readonly #levelLocks = new Map<number, Mutex>();
  #finished = false;
  #counter = 0;

  constructor(handle: H, exec: (sql: string) => Promise<void>, frames: FrameStorage) {
    this.handle = handle;
    this.#exec = exec;
    this.#frames = frames;
  }

  get finished(): boolean {
    return this.#finished;
  }

  finish(): void {
    this.#finished = true;
  }

  assertOpen(): void {
    if (this.#finished) throw new TypeError('this transaction is already committed or rolled back; use the database handle');
  }

  /** Run `fn` at depth 0 of this transaction (the driver has issued BEGIN). */
  runTopLevel<T>(fn: () => Promise<T>): Promise<T> {
    return this.#frames.run({ scope: this, level: 0 }, fn);
  }

  /** Run `fn` in a savepoint one level below the caller's frame. */
  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    const current = this.#frames.getStore();
    const parent = current !== undefined && current.scope === this ? current.level : 0;
    const level = parent + 1;
    let lock = this.#levelLocks.get(level);
    if (lock === undefined) {
      lock = new Mutex();
      this.#levelLocks.set(level, lock);
    }
    return lock.run(async () => {
      this.assertOpen();
      const name = `opentsm_sp_${++this.#counter}`;
      await this.#exec(`SAVEPOINT ${name}`);
      let result: T;
      try {
        result = await this.#frames.run({ scope: this, level }, fn);
      } catch (e) {
        if (!this.#finished) {
          try {
            await this.#exec(`ROLLBACK TO SAVEPOINT ${name}`);
            await this.#exec(`RELEASE SAVEPOINT ${name}`);
          } catch {
            // the outer transaction fails too; its rollback reports the connection problem
          }
        }
        throw e;
      }
      await this.#exec(`RELEASE SAVEPOINT ${name}`);
      return result;
    });
  }
}

/** The open transaction of the current async context for this driver instance, if any. */
export function activeHandle<H>(frames: FrameStorage): H | undefined {
  const f = frames.getStore();
  return f !== undefined && !f.scope.finished ? (f.scope.handle as H) : undefined;
}
