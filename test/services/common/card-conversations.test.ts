/**
 * One card, one conversation at a time (src/services/common/card-conversations.ts), with an injected clock:
 * first come first served, a bounded wait (BUSY with Retry-After), a bounded queue, the idle time limit that
 * frees a card held by a vanished client, and scripts refused outside the conversation that holds the card.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CardConversations, ConversationError, type ConversationClock } from '../../../src/services/common/card-conversations.ts';

/** Timers that fire only when the test moves time on. */
class ManualClock implements ConversationClock {
  now = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  /** Move time on by `ms`, firing what falls due in order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }
  get pending(): number {
    return this.#timers.size;
  }
}

const busy = (e: unknown) => e instanceof ConversationError && e.code === 'BUSY' && e.retryAfterSeconds === 3;
const notHeld = (e: unknown) => e instanceof ConversationError && e.code === 'NOT_HELD';
/** Let promise callbacks run (no time passes on the clock). */
const settle = () => new Promise<void>((r) => setImmediate(r));

test('first come, first served: each waiter gets the card when the one before closes; other cards are independent', async () => {
  const clock = new ManualClock();
  const q = new CardConversations({ clock, maxWaitMs: 1000, idleMs: 500, retryAfterSeconds: 3 });
  const a = await q.open('card1');
  const order: string[] = [];
  const b = q.open('card1').then((c) => (order.push('b'), c));
  const c = q.open('card1').then((c) => (order.push('c'), c));
  const other = await q.open('card2');
  assert.deepEqual(q.state('card1'), { holder: a.id, waiting: 2 });
  assert.equal(q.state('card2').holder, other.id);
  await settle();
  assert.deepEqual(order, []);
  a.close();
  const bc = await b;
  assert.deepEqual(order, ['b']);
  assert.throws(() => q.held('card1', a.id), notHeld, 'a closed conversation cannot send');
  await assert.rejects(a.run(async () => 1), notHeld);
  assert.equal(q.held('card1', bc.id), bc);
  assert.throws(() => q.held('card2', bc.id), notHeld, 'a conversation holds one card only');
  bc.close();
  bc.close(); // idempotent
  const cc = await c;
  assert.deepEqual(order, ['b', 'c']);
  cc.close();
  other.close();
  assert.deepEqual(q.state('card1'), { holder: undefined, waiting: 0 });
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('a bounded wait: BUSY with Retry-After after maxWaitMs, and the queue goes on without the one who left', async () => {
  const clock = new ManualClock();
  const q = new CardConversations({ clock, maxWaitMs: 1000, idleMs: 5000, retryAfterSeconds: 3 });
  const a = await q.open('card');
  const late = q.open('card');
  late.catch(() => undefined);
  clock.advance(400);
  const later = q.open('card');
  clock.advance(600);
  await assert.rejects(late, busy);
  assert.equal(q.state('card').waiting, 1);
  a.close();
  const c = await later;
  assert.equal(q.state('card').holder, c.id);
  c.close();
});

test('a bounded queue: more than maxQueue waiters are refused BUSY at once', async () => {
  const clock = new ManualClock();
  const q = new CardConversations({ clock, maxWaitMs: 1000, maxQueue: 2, retryAfterSeconds: 3 });
  const a = await q.open('card');
  const w = [q.open('card'), q.open('card')];
  await assert.rejects(q.open('card'), busy);
  a.close();
  (await w[0]!).close();
  (await w[1]!).close();
});

test('idle time limit: a holder quiet for idleMs loses the card to the next in line; a running script keeps it', async () => {
  const clock = new ManualClock();
  const expired: string[] = [];
  const q = new CardConversations({ clock, maxWaitMs: 10_000, idleMs: 500, onExpired: (card, id) => expired.push(`${card}/${id}`) });
  const a = await q.open('card');
  const b = q.open('card');
  // A script that takes longer than idleMs: the holder is not idle while it runs.
  let finish!: (v: number) => void;
  const running = a.run(() => new Promise<number>((r) => (finish = r)));
  clock.advance(2000);
  assert.equal(q.state('card').holder, a.id);
  finish(7);
  assert.equal(await running, 7);
  clock.advance(499);
  assert.equal(q.state('card').holder, a.id);
  clock.advance(1);
  assert.deepEqual(expired, [`card/${a.id}`]);
  const bc = await b;
  assert.equal(q.state('card').holder, bc.id);
  await assert.rejects(a.run(async () => 1), notHeld, 'the vanished client finds its conversation gone');
  bc.close();
});

test('once(): a script without a conversation queues like any other; closeAll refuses the waiters', async () => {
  const clock = new ManualClock();
  const q = new CardConversations({ clock });
  const a = await q.open('card');
  const seen: string[] = [];
  const one = q.once('card', async () => (seen.push('script'), 'r'));
  await settle();
  assert.deepEqual(seen, [], 'the script waits for the holder');
  a.close();
  assert.equal(await one, 'r');
  assert.deepEqual(q.state('card'), { holder: undefined, waiting: 0 });
  const b = await q.open('card');
  const waiting = q.open('card');
  q.closeAll();
  await assert.rejects(waiting, (e: unknown) => e instanceof ConversationError && e.code === 'CLOSED');
  assert.equal(b.open, false);
  await assert.rejects(q.open('card'), (e: unknown) => e instanceof ConversationError && e.code === 'CLOSED');
});
