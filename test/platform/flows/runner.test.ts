/**
 * The one flow runner (src/platform/flows/runner.ts): record-before-do, resume after a crash at the step that
 * was under way, the failure policy per error kind, attempts counted and the last error kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApduError } from '../../../src/apdu/errors.ts';
import { SecureChannelError } from '../../../src/scp/errors.ts';
import { TransportError } from '../../../src/transport/errors.ts';
import { FlowError } from '../../../src/platform/flows/errors.ts';
import { DONE, failureKind, runFlow, type FlowSteps } from '../../../src/platform/flows/runner.ts';
import { FLOWS_MIGRATION, FlowStore, type FlowRecord } from '../../../src/platform/flows/store.ts';
import { migrate, openDatabase, type Database } from '../../../src/platform/storage/index.ts';

interface Data {
  readonly n: number;
  readonly seen?: string;
}

async function setup(): Promise<{ db: Database; flows: FlowStore; log: string[] }> {
  const db = await openDatabase({ driver: 'sqlite', path: ':memory:' });
  await migrate(db, [FLOWS_MIGRATION], { component: 'flows' });
  await db.execute('CREATE TABLE results (flow_id TEXT NOT NULL, step TEXT NOT NULL)');
  return { db, flows: new FlowStore(db), log: [] };
}

async function rowOf(flows: FlowStore, id: string): Promise<FlowRecord<Data>> {
  const r = await flows.get<Data>(id);
  assert.ok(r);
  return r;
}

test('each step runs only after the database names it, and its results commit with the next step', async () => {
  const { db, flows } = await setup();
  const start = await flows.create<Data>('t', 's1', 'a', { n: 0 });
  const stepsSeen: string[] = [];
  const steps: FlowSteps<Data> = {
    a: async (f) => {
      stepsSeen.push(`a@${(await rowOf(flows, f.id)).step}`);
      return { next: 'b', data: { n: 1 }, commit: (tx) => tx.execute('INSERT INTO results VALUES ($1, $2)', [f.id, 'a']).then(() => undefined) };
    },
    b: async (f) => {
      const row = await rowOf(flows, f.id);
      stepsSeen.push(`b@${row.step}/n=${row.data.n}`);
      const results = await db.query<{ step: string }>('SELECT step FROM results WHERE flow_id = $1', [f.id]);
      assert.deepEqual(results.map((r) => r.step), ['a']);
      return { next: DONE, data: { seen: 'b' } };
    },
  };
  const end = await runFlow({ db, flows }, start, steps);
  assert.deepEqual(stepsSeen, ['a@a', 'b@b/n=1']);
  assert.equal(end.status, 'done');
  const row = await rowOf(flows, start.id);
  assert.equal(row.step, 'done');
  assert.equal(row.status, 'done');
  assert.deepEqual(row.data, { n: 1, seen: 'b' });
  assert.equal(row.attempts, 0);
});

test('a crash between record and completion resumes at the step that was under way; the commit of the crashed step is not written', async () => {
  const { db, flows } = await setup();
  const start = await flows.create<Data>('t', 's2', 'a', { n: 0 });
  const runs: string[] = [];
  let crash = true;
  const steps: FlowSteps<Data> = {
    a: async () => {
      runs.push('a');
      return { next: 'b' };
    },
    b: async (f) => {
      runs.push('b');
      if (crash) throw new TransportError('CLOSED', 'connection cut');
      return { next: 'c', commit: (tx) => tx.execute('INSERT INTO results VALUES ($1, $2)', [f.id, 'b']).then(() => undefined) };
    },
    c: async () => {
      runs.push('c');
      return { next: DONE };
    },
  };
  await assert.rejects(runFlow({ db, flows }, start, steps), (e: unknown) => e instanceof TransportError);
  const after = await rowOf(flows, start.id);
  assert.equal(after.step, 'b');
  assert.equal(after.status, 'running');
  assert.equal(after.attempts, 1);
  assert.equal(after.error, 'connection cut');
  assert.equal(flows.isFresh(start.id), false, 'a flow that failed reconciles with the card when resumed');
  assert.deepEqual(await db.query('SELECT * FROM results'), []);
  crash = false;
  const end = await runFlow({ db, flows }, after, steps);
  assert.deepEqual(runs, ['a', 'b', 'b', 'c']);
  assert.equal(end.status, 'done');
  assert.equal((await rowOf(flows, start.id)).attempts, 1);
  assert.deepEqual((await db.query<{ step: string }>('SELECT step FROM results')).map((r) => r.step), ['b']);
});

test('failure policy: flow decisions and card status words are final, transport/OTA/secure-channel/other errors retryable', () => {
  assert.equal(failureKind(new FlowError('CARD_REFUSED', 'no')), 'final');
  assert.equal(failureKind(new FlowError('KEYS_UNKNOWN', 'no')), 'final');
  assert.equal(failureKind(new FlowError('CONFLICT', 'no')), 'final');
  assert.equal(failureKind(new FlowError('NOT_PERMITTED', 'no')), 'final');
  assert.equal(failureKind(new ApduError('STATUS', 0x6a80, 0xe6)), 'final');
  assert.equal(failureKind(new ApduError('GET_RESPONSE_LIMIT', 0x61ff, 0xc0)), 'retryable');
  assert.equal(failureKind(new TransportError('CLOSED', 'cut')), 'retryable');
  assert.equal(failureKind(new SecureChannelError('BAD_STATUS', 'handshake', 0x6982)), 'retryable');
  assert.equal(failureKind(new Error('timeout')), 'retryable');
  assert.equal(failureKind('a string'), 'retryable');
});

for (const [name, error, status] of [
  ['a card refusal (FlowError CARD_REFUSED) fails the flow', new FlowError('CARD_REFUSED', 'GET DATA answered 6a88'), 'failed'],
  ['a status word (ApduError) fails the flow', new ApduError('STATUS', 0x6985, 0xe6), 'failed'],
  ['a transport error leaves the flow running', new TransportError('CLOSED', 'cut'), 'running'],
  ['a secure channel error leaves the flow running', new SecureChannelError('BAD_STATUS', 'EXTERNAL AUTHENTICATE', 0x6982), 'running'],
] as const) {
  test(`runner: ${name}; attempts counted, the last error kept`, async () => {
    const { db, flows } = await setup();
    const start = await flows.create<Data>('t', `s-${name}`, 'a', { n: 0 });
    const steps: FlowSteps<Data> = {
      a: async () => {
        throw error;
      },
    };
    await assert.rejects(runFlow({ db, flows }, start, steps), (e: unknown) => e === error);
    const row = await rowOf(flows, start.id);
    assert.equal(row.status, status);
    assert.equal(row.step, 'a');
    assert.equal(row.attempts, 1);
    assert.equal(row.error, error.message);
    if (status === 'running') {
      await assert.rejects(runFlow({ db, flows }, row, steps));
      const again = await rowOf(flows, start.id);
      assert.equal(again.attempts, 2);
      assert.equal(again.status, 'running');
    }
  });
}

test('the last error is the latest attempt\'s; a final error ends the flow for good', async () => {
  const { db, flows } = await setup();
  const start = await flows.create<Data>('t', 's3', 'a', { n: 0 });
  let attempt = 0;
  const steps: FlowSteps<Data> = {
    a: async () => {
      attempt += 1;
      if (attempt < 3) throw new TransportError('CLOSED', `cut ${attempt}`);
      return { next: 'b' };
    },
    b: async () => {
      throw new FlowError('WRONG_STATE', 'stop here', 'b');
    },
  };
  await assert.rejects(runFlow({ db, flows }, start, steps));
  assert.equal((await rowOf(flows, start.id)).error, 'cut 1');
  await assert.rejects(runFlow({ db, flows }, await rowOf(flows, start.id), steps));
  assert.equal((await rowOf(flows, start.id)).error, 'cut 2');
  await assert.rejects(runFlow({ db, flows }, await rowOf(flows, start.id), steps));
  const row = await rowOf(flows, start.id);
  assert.deepEqual([row.step, row.status, row.attempts, row.error], ['b', 'failed', 3, 'stop here']);
  // A failed flow is not run again.
  assert.equal((await runFlow({ db, flows }, row, steps)).status, 'failed');
  assert.equal((await rowOf(flows, start.id)).attempts, 3);
});

test('an unknown step is a final WRONG_STATE; a waiting outcome stops the loop; an unrecorded step moves on in memory', async () => {
  const { db, flows } = await setup();
  const lost = await flows.create<Data>('t', 's4', 'nowhere', { n: 0 });
  await assert.rejects(runFlow({ db, flows }, lost, {}), (e: unknown) => e instanceof FlowError && e.code === 'WRONG_STATE');
  assert.equal((await rowOf(flows, lost.id)).status, 'failed');

  const start = await flows.create<Data>('t', 's5', 'ask', { n: 0 });
  const steps: FlowSteps<Data> = {
    ask: async () => ({ next: 'wait', unrecorded: true }),
    wait: async () => ({ next: 'handover', wait: true, data: { n: 2 } }),
    handover: async () => assert.fail('a waiting flow does not run'),
  };
  const end = await runFlow({ db, flows }, start, steps);
  assert.deepEqual([end.step, end.status], ['handover', 'waiting']);
  const row = await rowOf(flows, start.id);
  assert.deepEqual([row.step, row.status, row.data.n], ['handover', 'waiting', 2]);
  assert.equal((await runFlow({ db, flows }, row, steps)).status, 'waiting');
});
