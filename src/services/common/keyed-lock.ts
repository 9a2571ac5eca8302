/**
 * One run at a time per key inside a process: a flow resumed at start and a client's retry of the same
 * request must not drive the same card and rows at once. (Across replicas the flows reconcile by asking the
 * card; this only avoids needless collisions in one process.)
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const tail = mine.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await mine;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Keys with a run in progress or queued. */
  get size(): number {
    return this.#tails.size;
  }
}
