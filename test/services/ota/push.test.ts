/** The in-process push gateway stores a trigger for a device not yet listening, like an SMS centre (validity period). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessPushGateway } from '../../../src/services/ota/push.ts';
import type { PushTrigger } from '../../../src/transport/ram-http/trigger.ts';

const trigger = (deviceId: string, n: number) => ({ deviceId, n }) as unknown as PushTrigger;
const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

test('a trigger for a device that is not listening is forwarded when it subscribes within the validity period', async () => {
  let now = 1000;
  const gw = new InProcessPushGateway({ validityMs: 500, now: () => now });
  gw.push(trigger('a', 1));
  gw.push(trigger('a', 2)); // only the latest is kept
  gw.push(trigger('b', 3));
  assert.equal(gw.dropped, 3);
  const got: unknown[] = [];
  gw.subscribe('a', (t) => got.push(t));
  await tick();
  assert.deepEqual(got, [trigger('a', 2)]);
  assert.equal(gw.forwarded, 1);
  now += 501; // b's trigger expired
  const late: unknown[] = [];
  gw.subscribe('b', (t) => late.push(t));
  await tick();
  assert.deepEqual(late, []);
  assert.equal(gw.forwarded, 1);
});

test('validityMs 0 stores nothing; a listening device gets its trigger at once', async () => {
  const gw = new InProcessPushGateway({ validityMs: 0 });
  gw.push(trigger('a', 1));
  const got: unknown[] = [];
  gw.subscribe('a', (t) => got.push(t));
  await tick();
  assert.deepEqual(got, []);
  gw.push(trigger('a', 2));
  await tick();
  assert.deepEqual(got, [trigger('a', 2)]);
  assert.equal(gw.delivered, 1);
});
