/**
 * One card, one conversation at a time (issue 8 §2). A card has one basic logical channel: the scripts of two
 * platforms interleaved on it break each other's secure channels (a SELECT of another SD ends the session
 * that was open; EXTERNAL AUTHENTICATE then answers 6982/6985). A real OTA server serialises administration
 * sessions per card; so do the OTA server and the terminal relay here, through this queue.
 *
 * A conversation — from the first SELECT to the last script of a secure-channel session — holds the card.
 * Others wait, first come first served, for at most `maxWaitMs` (then `BUSY`: the caller answers 503 with
 * Retry-After), and at most `maxQueue` of them (more are refused `BUSY` at once). A holder that goes quiet for
 * `idleMs` (no script running, none asked) loses the card (`EXPIRED` to its next script), so a vanished client
 * cannot hold a card forever. Timers come from `clock` (injected in tests).
 */
import { randomUUID } from 'node:crypto';
import { OpentsmError } from '../../core/errors.ts';

export type ConversationErrorCode =
  /** The card was held by others for longer than the caller may wait, or too many wait already. */
  | 'BUSY'
  /** No such conversation holds the card (never opened, closed, or expired after `idleMs`). */
  | 'NOT_HELD'
  /** The queue was shut down. */
  | 'CLOSED';

export class ConversationError extends OpentsmError {
  declare readonly code: ConversationErrorCode;
  /** Seconds after which a BUSY caller may try again. */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ConversationErrorCode, message: string, retryAfterSeconds?: number) {
    super(code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Timers (node's by default; tests inject their own). */
export interface ConversationClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const NODE_CLOCK: ConversationClock = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface CardConversationsOptions {
  /** Longest wait for a card held by others (default 60 000 ms). */
  readonly maxWaitMs?: number;
  /** A holder quiet for this long loses the card (default 30 000 ms). */
  readonly idleMs?: number;
  /** Most callers waiting for one card (default 64). */
  readonly maxQueue?: number;
  /** Retry-After of a BUSY answer (default 2 s). */
  readonly retryAfterSeconds?: number;
  readonly clock?: ConversationClock;
  /** A holder lost the card by going quiet (logging, tests). */
  readonly onExpired?: (cardId: string, conversationId: string) => void;
}

interface Waiter {
  readonly grant: (c: Conversation) => void;
  readonly refuse: (e: Error) => void;
  timer: unknown;
}

interface CardLine {
  holder: Conversation | undefined;
  readonly queue: Waiter[];
}

/** The right to talk to one card, until `close()` or `idleMs` of silence. */
export class Conversation {
  readonly id: string;
  readonly cardId: string;
  readonly #owner: CardConversations;
  #busy = 0;
  #idle: unknown;
  #open = true;

  constructor(owner: CardConversations, cardId: string, id: string) {
    this.#owner = owner;
    this.cardId = cardId;
    this.id = id;
  }

  get open(): boolean {
    return this.#open;
  }

  /** Run `work` (a script) as this conversation; the idle timer stops meanwhile. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.#open) throw new ConversationError('NOT_HELD', `conversation ${this.id} no longer holds card ${this.cardId}`);
    this.#busy += 1;
    this.#owner.clearIdle(this);
    try {
      return await work();
    } finally {
      this.#busy -= 1;
      if (this.#busy === 0 && this.#open) this.#owner.armIdle(this);
    }
  }

  /** Give the card to the next in line (idempotent). */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#owner.release(this);
  }

  /** @internal idle timer handle, kept by the owner. */
  get idleHandle(): unknown {
    return this.#idle;
  }
  set idleHandle(h: unknown) {
    this.#idle = h;
  }
}

export class CardConversations {
  readonly #lines = new Map<string, CardLine>();
  readonly #byId = new Map<string, Conversation>();
  readonly #clock: ConversationClock;
  readonly maxWaitMs: number;
  readonly idleMs: number;
  readonly #maxQueue: number;
  readonly #retryAfter: number;
  readonly #onExpired: ((cardId: string, id: string) => void) | undefined;
  #closed = false;

  constructor(options: CardConversationsOptions = {}) {
    this.#clock = options.clock ?? NODE_CLOCK;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.idleMs = options.idleMs ?? 30_000;
    this.#maxQueue = options.maxQueue ?? 64;
    this.#retryAfter = options.retryAfterSeconds ?? 2;
    this.#onExpired = options.onExpired;
  }

  /** Wait for the card (FIFO) and hold it; BUSY after `maxWaitMs` (or at once when the queue is full). */
  open(cardId: string, maxWaitMs = this.maxWaitMs): Promise<Conversation> {
    if (this.#closed) return Promise.reject(new ConversationError('CLOSED', 'no more conversations'));
    let line = this.#lines.get(cardId);
    if (line === undefined) {
      line = { holder: undefined, queue: [] };
      this.#lines.set(cardId, line);
    }
    if (line.holder === undefined) return Promise.resolve(this.#grant(line, cardId));
    if (line.queue.length >= this.#maxQueue) return Promise.reject(this.#busy(cardId, `${line.queue.length} callers already wait for card ${cardId}`));
    const l = line;
    return new Promise<Conversation>((resolve, reject) => {
      const waiter: Waiter = { grant: resolve, refuse: reject, timer: undefined };
      waiter.timer = this.#clock.setTimeout(() => {
        const i = l.queue.indexOf(waiter);
        if (i >= 0) l.queue.splice(i, 1);
        reject(this.#busy(cardId, `card ${cardId} is busy with another conversation (waited ${maxWaitMs} ms)`));
      }, maxWaitMs);
      l.queue.push(waiter);
    });
  }

  /** The conversation `id` if it holds `cardId` now; NOT_HELD otherwise. */
  held(cardId: string, id: string): Conversation {
    const c = this.#byId.get(id);
    if (c === undefined || c.cardId !== cardId || !c.open) throw new ConversationError('NOT_HELD', `no conversation ${id.slice(0, 64)} holds card ${cardId}`);
    return c;
  }

  /** Run `work` as a conversation of its own (one script without an opened conversation). */
  async once<T>(cardId: string, work: () => Promise<T>): Promise<T> {
    const c = await this.open(cardId);
    try {
      return await c.run(work);
    } finally {
      c.close();
    }
  }

  /** Who holds `cardId` and how many wait (tests, status). */
  state(cardId: string): { holder: string | undefined; waiting: number } {
    const line = this.#lines.get(cardId);
    return { holder: line?.holder?.id, waiting: line?.queue.length ?? 0 };
  }

  /** Refuse every waiter and drop every holder. */
  closeAll(): void {
    this.#closed = true;
    for (const [cardId, line] of this.#lines) {
      for (const w of line.queue.splice(0)) {
        this.#clock.clearTimeout(w.timer);
        w.refuse(new ConversationError('CLOSED', `no more conversations with card ${cardId}`));
      }
      if (line.holder) line.holder.close();
    }
  }

  /** @internal */
  release(c: Conversation): void {
    this.clearIdle(c);
    this.#byId.delete(c.id);
    const line = this.#lines.get(c.cardId);
    if (line === undefined || line.holder !== c) return;
    line.holder = undefined;
    const next = line.queue.shift();
    if (next === undefined) {
      this.#lines.delete(c.cardId);
      return;
    }
    this.#clock.clearTimeout(next.timer);
    next.grant(this.#grant(line, c.cardId));
  }

  /** @internal */
  armIdle(c: Conversation): void {
    this.clearIdle(c);
    c.idleHandle = this.#clock.setTimeout(() => {
      if (!c.open) return;
      c.close();
      this.#onExpired?.(c.cardId, c.id);
    }, this.idleMs);
  }

  /** @internal */
  clearIdle(c: Conversation): void {
    if (c.idleHandle !== undefined) this.#clock.clearTimeout(c.idleHandle);
    c.idleHandle = undefined;
  }

  #grant(line: CardLine, cardId: string): Conversation {
    const c = new Conversation(this, cardId, randomUUID());
    line.holder = c;
    this.#byId.set(c.id, c);
    this.armIdle(c);
    return c;
  }

  #busy(cardId: string, message: string): ConversationError {
    void cardId;
    return new ConversationError('BUSY', message, this.#retryAfter);
  }
}
