/**
 * The OTA admin API's conversations (issue 8 §2), in-process with app.inject and an injected clock: a
 * conversation holds the card from open to close; a second caller waits, and after the server's longest wait
 * gets 503 CARD_BUSY with Retry-After (nothing held); scripts of a closed or expired conversation are refused
 * 409 CONVERSATION_NOT_HELD before reaching the card; a plain script queues behind the holder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOtaAdminApi } from '../../../src/services/ota/admin-api.ts';
import type { ConversationClock } from '../../../src/services/common/card-conversations.ts';
import { rig } from './helpers.ts';

const ISD = 'A000000151000000';
const asIssuer = () => ({ commonName: 'issuer', fingerprint256: '', serialNumber: '' });

/** Timers that fire when the test says so (the conversation timers only). */
class StepClock implements ConversationClock {
  readonly timers = new Map<number, { ms: number; fn: () => void }>();
  #next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.timers.set(id, { ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Fire every timer set for exactly `ms`. */
  fire(ms: number): number {
    const due = [...this.timers.entries()].filter(([, t]) => t.ms === ms);
    for (const [id, t] of due) {
      this.timers.delete(id);
      t.fn();
    }
    return due.length;
  }
}

test('conversations: open → scripts → close; others wait, then 503 CARD_BUSY + Retry-After; stale ids 409; plain scripts queue', async () => {
  const clock = new StepClock();
  const r = await rig({ logApdus: true, server: { conversations: { clock, maxWaitMs: 1000, idleMs: 5000, retryAfterSeconds: 4 } } });
  const app = await buildOtaAdminApi({ ota: r.ota, identify: asIssuer });
  try {
    const opened = await app.inject({ method: 'POST', url: '/devices/dev0/conversations', payload: {} });
    assert.equal(opened.statusCode, 201);
    const { conversationId, idleTimeoutMs } = opened.json() as { conversationId: string; idleTimeoutMs: number };
    assert.match(conversationId, /^[0-9a-f-]{36}$/);
    assert.equal(idleTimeoutMs, 5000);

    const inside = await app.inject({ method: 'POST', url: `/devices/dev0/conversations/${conversationId}/scripts`, payload: { apdus: ['00A4040008' + ISD + '00'] } });
    assert.equal(inside.statusCode, 200);
    assert.match((inside.json() as { responses: string[] }).responses[0]!, /9000$/);

    // A second caller waits; a plain script too. Neither reaches the card while the conversation holds it.
    const second = app.inject({ method: 'POST', url: '/devices/dev0/conversations', payload: {} });
    const plain = app.inject({ method: 'POST', url: '/devices/dev0/scripts', payload: { apdus: ['80CA006600'] } });
    await new Promise<void>((res) => setImmediate(res));
    for (let i = 0; i < 5 && r.ota.conversations.state('dev0').waiting < 2; i += 1) await new Promise<void>((res) => setImmediate(res));
    assert.deepEqual(r.ota.conversations.state('dev0'), { holder: conversationId, waiting: 2 });
    const sent = r.devices[0]!.apduLog!.length;
    // The server's longest wait passes: both waiters are answered 503 CARD_BUSY with Retry-After.
    assert.equal(clock.fire(1000), 2);
    for (const res of [await second, await plain]) {
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '4');
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal((res.json() as { code: string }).code, 'CARD_BUSY');
    }
    assert.equal(r.devices[0]!.apduLog!.length, sent, 'nothing reached the card for the refused callers');

    // The holder closes; its id is then refused, and the card is free for the next.
    const closed = await app.inject({ method: 'DELETE', url: `/devices/dev0/conversations/${conversationId}` });
    assert.equal(closed.statusCode, 204);
    const stale = await app.inject({ method: 'POST', url: `/devices/dev0/conversations/${conversationId}/scripts`, payload: { apdus: ['80CA006600'] } });
    assert.equal(stale.statusCode, 409);
    assert.equal((stale.json() as { code: string }).code, 'CONVERSATION_NOT_HELD');
    assert.equal((await app.inject({ method: 'DELETE', url: `/devices/dev0/conversations/${conversationId}` })).statusCode, 409);
    assert.equal(r.devices[0]!.apduLog!.length, sent);

    // A vanished client: its conversation expires after the idle time limit and the card goes on.
    const vanished = (await app.inject({ method: 'POST', url: '/devices/dev0/conversations', payload: {} })).json() as { conversationId: string };
    const next = app.inject({ method: 'POST', url: '/devices/dev0/scripts', payload: { apdus: ['00A4040008' + ISD + '00'] } });
    for (let i = 0; i < 5 && r.ota.conversations.state('dev0').waiting < 1; i += 1) await new Promise<void>((res) => setImmediate(res));
    assert.equal(clock.fire(5000), 1);
    assert.equal((await next).statusCode, 200);
    const gone = await app.inject({ method: 'POST', url: `/devices/dev0/conversations/${vanished.conversationId}/scripts`, payload: { apdus: ['80CA006600'] } });
    assert.equal((gone.json() as { code: string }).code, 'CONVERSATION_NOT_HELD');

    const unknown = await app.inject({ method: 'POST', url: '/devices/nobody/conversations', payload: {} });
    assert.equal(unknown.statusCode, 404);
    assert.equal((unknown.json() as { code: string }).code, 'UNKNOWN_DEVICE');
    assert.deepEqual(r.ota.conversations.state('dev0'), { holder: undefined, waiting: 0 });
  } finally {
    await app.close();
    await r.close();
  }
});
