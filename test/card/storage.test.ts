/**
 * Issue 8 §3: the card persists before it answers. A state change is durable (readable by a fresh load of the
 * file) before the response bytes leave the transport; a refused command writes nothing; a crash in the middle of
 * a write leaves the previous state loadable; a storage failure withholds the answer and takes the card back to
 * its last durable state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCommand } from '../../src/apdu/command.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import { SimulatedCard, type CardState } from '../../src/card/index.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { DurableFile, writeFileDurablySync } from '../../src/device/durable-file.ts';
import { openSecureChannel, type HostSecureChannel } from '../../src/scp/index.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { VpcdSession } from '../../src/transport/vpcd-protocol.ts';
import { KEYS40, newCard, putKeySet } from './helpers.ts';

const NEW = fromHex('00112233445566778899AABBCCDDEEFF');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'opentsm-persist-'));
}

function isdKvns(json: string): number[] {
  const s = JSON.parse(json) as CardState;
  return [...new Set(s.apps[0]!.securityDomain!.keys.map((k) => k.kvn))];
}

async function session(channel: InProcessChannel): Promise<HostSecureChannel> {
  return openSecureChannel((a) => channel.transmit(a), { keys: KEYS40, kvn: 0x30, level: 0x33, scp: 3, hostChallenge: fromHex('0102030405060708') });
}

async function send(channel: InProcessChannel, ch: HostSecureChannel, plain: Uint8Array): Promise<number> {
  return decodeResponse(ch.unwrapResponse(await channel.transmit(ch.wrapCommand(plain)))).sw;
}

test('issue 8 §3: every state change is on disk (a fresh load sees it) before its response is returned', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'card.json');
    const card = newCard();
    writeFileDurablySync(file, card.serialize());
    const disk = new DurableFile(file);
    const order: string[] = [];
    card.attachStorage({
      stage: (json) => {
        order.push('stage');
        disk.stage(json);
      },
      sync: async () => {
        await disk.sync();
        order.push('durable');
      },
    });
    const onDisk: string[] = [];
    const channel = new InProcessChannel(card, {
      onExchange: () => {
        order.push('respond');
        onDisk.push(readFileSync(file, 'utf8'));
      },
    });
    const ch = await session(channel);
    // INITIALIZE UPDATE moved the SCP03 sequence counter: durable before its answer.
    assert.deepEqual(order.slice(0, 3), ['stage', 'durable', 'respond']);
    const counterAfterIu = (JSON.parse(onDisk[0]!) as CardState).apps[0]!.securityDomain!.sequenceCounters['48'];
    assert.equal(counterAfterIu, (JSON.parse(card.serialize()) as CardState).apps[0]!.securityDomain!.sequenceCounters['48']);
    order.length = 0;
    const sw = await send(channel, ch, encodeCommand(putKeySet(ch, 0x30, 0x31, [NEW, NEW, NEW])));
    assert.equal(sw, 0x9000);
    assert.deepEqual(order, ['stage', 'durable', 'respond']);
    // What was on disk when the 9000 left: a fresh card loaded from it holds key version 31 and opens with it.
    const saved = onDisk.at(-1)!;
    assert.deepEqual(isdKvns(saved), [0x31]);
    assert.equal(saved, card.serialize());
    const fresh = SimulatedCard.fromState(saved);
    fresh.powerOn();
    await openSecureChannel(async (a) => fresh.process(a), { keys: { enc: NEW, mac: NEW, dek: NEW }, kvn: 0x31, level: 0x33, scp: 3 });
    // A command that changes nothing (GET STATUS) answers without a write.
    const writes = disk.writes;
    order.length = 0;
    assert.equal(await send(channel, ch, fromHex('80F28002024F00')), 0x9000);
    assert.deepEqual(order, ['respond']);
    assert.equal(disk.writes, writes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue 8 §3: a refused command stages and writes nothing', async () => {
  const card = newCard();
  const staged: string[] = [];
  let syncs = 0;
  card.attachStorage({ stage: (j) => staged.push(j), sync: async () => void syncs++ });
  const channel = new InProcessChannel(card);
  const before = card.serialize();
  // PUT KEY outside a secure channel: 6982; an unknown instruction: 6D00.
  assert.equal(decodeResponse(await channel.transmit(fromHex('80D8318110' + '00'.repeat(16)))).sw, 0x6982);
  assert.equal(decodeResponse(await channel.transmit(fromHex('80EE000000'))).sw, 0x6d00);
  const ch = await session(channel);
  const afterIu = staged.length;
  // PUT KEY replacing a key version that does not exist: refused inside the session, nothing staged.
  const sw = await send(channel, ch, encodeCommand(putKeySet(ch, 0x35, 0x36, [NEW, NEW, NEW])));
  assert.notEqual(sw, 0x9000);
  assert.equal(staged.length, afterIu);
  assert.deepEqual(isdKvns(card.serialize()), isdKvns(before));
  assert.equal(syncs, afterIu); // the barrier did work only where a change was staged
});

test('issue 8 §3: a crash during the write (temp file left, even half written) leaves the previous state loadable', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'card.json');
    const card = newCard();
    writeFileDurablySync(file, card.serialize());
    // A writer that died after writing half of its temp file (a pid that is surely gone: a finished child's).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const tmp = `${file}.${dead}.tmp`;
    writeFileSync(tmp, card.serialize().slice(0, 100));
    assert.equal(SimulatedCard.fromState(readFileSync(file, 'utf8')).serialize(), card.serialize());
    // The next owner removes the dead writer's temp file, and its own writes replace the file whole.
    const disk = new DurableFile(file);
    assert.equal(existsSync(tmp), false);
    disk.stage('{"x":1}');
    await disk.sync();
    assert.equal(readFileSync(file, 'utf8'), '{"x":1}');
    assert.deepEqual(readdirSync(dir), ['card.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue 8 §3: a storage failure withholds the answer and the card goes back to its last durable state', async () => {
  const card = newCard();
  let fail = false;
  const written: string[] = [];
  let pending = '';
  card.attachStorage({
    stage: (j) => void (pending = j),
    sync: async () => {
      if (fail) throw new Error('ENOSPC: no space left on device');
      written.push(pending);
    },
  });
  const channel = new InProcessChannel(card);
  let ch = await session(channel);
  const durable = card.serialize();
  fail = true;
  await assert.rejects(send(channel, ch, encodeCommand(putKeySet(ch, 0x30, 0x31, [NEW, NEW, NEW]))), (e: unknown) => e instanceof TransportError && e.code === 'CARD_MEMORY');
  // The change no response acknowledged is gone; the session is closed (as after a tear).
  assert.equal(card.serialize(), durable);
  assert.deepEqual(isdKvns(card.serialize()), [0x30]);
  fail = false;
  ch = await session(channel);
  assert.equal(written.at(-1), card.serialize()); // the barrier after the failure wrote the state the card went back to
  assert.equal(await send(channel, ch, encodeCommand(putKeySet(ch, 0x30, 0x31, [NEW, NEW, NEW]))), 0x9000);
  assert.deepEqual(isdKvns(written.at(-1)!), [0x31]);

  // Over vpcd the answer is 6581 (memory failure) instead of the withheld response.
  const vcard = newCard();
  vcard.attachStorage({ stage: () => undefined, sync: async () => Promise.reject(new Error('EIO')) });
  const vs = new VpcdSession(vcard);
  assert.deepEqual(toHex((await vs.handleDurably(Uint8Array.of(0x01))).reply ?? new Uint8Array()), '');
  const iu = await vs.handleDurably(fromHex('8050300008' + '0102030405060708'));
  assert.equal(toHex(iu.reply!).toUpperCase(), '6581');
  assert.ok(iu.error instanceof TransportError && iu.error.code === 'CARD_MEMORY');
});
