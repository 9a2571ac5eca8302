/** Keystore: envelope encryption blob format, tamper/context checks, KEK file rules, rotation. */
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { KeyStoreError } from '../../../src/platform/keystore/errors.ts';
import { FileKek, FileKeyStore } from '../../../src/platform/keystore/file-kek.ts';
import { EnvelopeKeyStore, kekIdOf } from '../../../src/platform/keystore/keystore.ts';

const dir = await mkdtemp(join(tmpdir(), 'opentsm-keystore-'));
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `k${++n}`, 'kek.bin');

function failsWith(code: KeyStoreError['code']) {
  return (e: unknown): boolean => e instanceof KeyStoreError && e.code === code;
}

/** A deterministic random source: 0x11.., 0x22.., … one fill byte per call. */
function counterRandom(): (len: number) => Uint8Array {
  let i = 0;
  return (len) => new Uint8Array(len).fill(((++i) * 0x11) & 0xff);
}

function gcm(key: Uint8Array, nonce: Uint8Array, pt: Uint8Array, aad: string): Uint8Array {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad, 'utf8'));
  return new Uint8Array(Buffer.concat([nonce, c.update(pt), c.final(), c.getAuthTag()]));
}

test('blob v1 layout is exactly as documented (independent recomputation with node:crypto)', async () => {
  const kekBytes = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const random = counterRandom(); // call 1: data key (0x11…), call 2: data nonce (0x22…), call 3: KEK nonce (0x33…)
  const kek = new FileKek(kekBytes, random);
  const store = new EnvelopeKeyStore(kek, { random });
  const plaintext = fromHex('404142434445464748494a4b4c4d4e4f');
  const blob = await store.wrap(plaintext, 'issuer/cards/c1/isd');

  const kekId = `file:${createHash('sha256').update('opentsm-kek-id-v1').update(kekBytes).digest().subarray(0, 8).toString('hex')}`;
  assert.equal(store.kekId, kekId);
  const dataKey = new Uint8Array(32).fill(0x11);
  const wrappedKey = gcm(kekBytes, new Uint8Array(12).fill(0x33), dataKey, `opentsm-keystore-v1:dek:${kekId}`);
  const data = gcm(dataKey, new Uint8Array(12).fill(0x22), plaintext, 'opentsm-keystore-v1:data:issuer/cards/c1/isd');
  const id = new TextEncoder().encode(kekId);
  const expected = new Uint8Array([0x01, id.length, ...id, 0x00, 60, ...wrappedKey, ...data]);
  assert.equal(toHex(blob), toHex(expected));
  assert.equal(blob.length, 4 + 21 + 60 + 12 + 16 + 16);
  assert.equal(kekIdOf(blob), kekId);
  assert.deepEqual(await store.unwrap(blob, 'issuer/cards/c1/isd'), plaintext);
});

test('round trip for many sizes; every wrap uses a fresh data key and nonce', async () => {
  const store = await FileKeyStore.open(freshPath());
  for (const size of [0, 1, 15, 16, 17, 32, 1000]) {
    const pt = new Uint8Array(size).map((_, i) => (i * 7 + 3) & 0xff);
    const a = await store.wrap(pt, 'ctx');
    const b = await store.wrap(pt, 'ctx');
    assert.notEqual(toHex(a), toHex(b));
    const out = await store.unwrap(a, 'ctx');
    assert.deepEqual(out, pt);
    assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype);
  }
});

test('wrong context, other KEK, and caller mistakes', async () => {
  const store = await FileKeyStore.open(freshPath());
  const other = await FileKeyStore.open(freshPath());
  const blob = await store.wrap(fromHex('00112233'), 'cards/1/keys');
  await assert.rejects(store.unwrap(blob, 'cards/2/keys'), failsWith('UNWRAP_FAILED'));
  await assert.rejects(store.unwrap(blob, 'cards/1/keys '), failsWith('UNWRAP_FAILED'));
  await assert.rejects(other.unwrap(blob, 'cards/1/keys'), failsWith('UNKNOWN_KEK'));
  await assert.rejects(store.unwrap(blob, ''), TypeError);
  await assert.rejects(store.wrap(fromHex('00'), ''), TypeError);
  await assert.rejects(store.wrap('00' as never, 'x'), TypeError);
});

test('every single-byte alteration, truncation and extension is refused with no output', async () => {
  const store = await FileKeyStore.open(freshPath());
  const secret = fromHex('a1a2a3a4a5a6a7a8a9aaabacadaeafb0');
  const blob = await store.wrap(secret, 'ctx');
  const headerEnd = 2 + blob[1]!; // version, id length, id
  for (let i = 0; i < blob.length; i++) {
    const t = Uint8Array.from(blob);
    t[i]! ^= 0x01;
    await assert.rejects(store.unwrap(t, 'ctx'), (e: unknown) => {
      assert.ok(e instanceof KeyStoreError, `byte ${i}`);
      // flipping a character of the KEK id names an unknown KEK; every other flip fails to unwrap
      assert.equal(e.code, i >= 2 && i < headerEnd ? 'UNKNOWN_KEK' : 'UNWRAP_FAILED', `byte ${i}`);
      assert.ok(!e.message.includes(toHex(secret)));
      return true;
    });
  }
  for (let len = 0; len < blob.length; len++) {
    await assert.rejects(store.unwrap(blob.subarray(0, len), 'ctx'), KeyStoreError, `truncated to ${len}`);
  }
  await assert.rejects(store.unwrap(new Uint8Array([...blob, 0]), 'ctx'), failsWith('UNWRAP_FAILED'));
});

test('property: unwrap(wrap(x)) = x and any flipped bit is rejected', async () => {
  const store = await FileKeyStore.open(freshPath());
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.string({ minLength: 1, maxLength: 20 }), fc.nat(), async (pt, ctx, pos) => {
      const blob = await store.wrap(pt, ctx);
      assert.deepEqual(await store.unwrap(blob, ctx), pt);
      const t = Uint8Array.from(blob);
      const bit = pos % (t.length * 8);
      t[bit >> 3]! ^= 1 << (bit & 7);
      await assert.rejects(store.unwrap(t, ctx), KeyStoreError);
    }),
    { numRuns: 100 },
  );
});

test('KEK file: created once with mode 0600 and 32 bytes, then reused', async () => {
  const path = freshPath();
  const first = await FileKeyStore.open(path);
  assert.equal(first.created, true);
  const st = statSync(path);
  assert.equal(st.size, 32);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
  assert.match(first.kekId, /^file:[0-9a-f]{16}$/);
  const blob = await first.wrap(fromHex('cafe'), 'c');
  const again = await FileKeyStore.open(path);
  assert.equal(again.created, false);
  assert.equal(again.kekId, first.kekId);
  assert.deepEqual(await again.unwrap(blob, 'c'), fromHex('cafe'));
  // concurrent first starts agree on one KEK
  const racePath = freshPath();
  const stores = await Promise.all(Array.from({ length: 8 }, () => FileKeyStore.open(racePath)));
  assert.equal(new Set(stores.map((s) => s.kekId)).size, 1);
});

test('KEK file: wrong size, loose permissions, a folder, zeros or missing (create: false) are refused', async () => {
  const cases: [string, (p: string) => void][] = [
    ['31 bytes', (p) => writeFileSync(p, new Uint8Array(31).fill(1), { mode: 0o600 })],
    ['33 bytes', (p) => writeFileSync(p, new Uint8Array(33).fill(1), { mode: 0o600 })],
    ['empty', (p) => writeFileSync(p, new Uint8Array(0), { mode: 0o600 })],
    ['mode 0644', (p) => (writeFileSync(p, new Uint8Array(32).fill(1)), chmodSync(p, 0o644))],
    ['mode 0640', (p) => (writeFileSync(p, new Uint8Array(32).fill(1)), chmodSync(p, 0o640))],
    ['mode 0602', (p) => (writeFileSync(p, new Uint8Array(32).fill(1)), chmodSync(p, 0o602))],
    ['all zero', (p) => writeFileSync(p, new Uint8Array(32), { mode: 0o600 })],
    ['a folder', (p) => mkdirSync(p, { mode: 0o700 })],
  ];
  for (const [name, make] of cases) {
    const p = freshPath();
    mkdirSync(join(p, '..'), { recursive: true });
    make(p);
    const before = statSync(p);
    await assert.rejects(FileKeyStore.open(p), failsWith('BAD_KEK_FILE'), name);
    const afterSt = statSync(p);
    assert.equal(afterSt.mode, before.mode, `${name}: unchanged`);
    assert.equal(afterSt.size, before.size, `${name}: unchanged`);
  }
  await assert.rejects(FileKeyStore.open(freshPath(), { create: false }), failsWith('BAD_KEK_FILE'));
  const ok = freshPath();
  mkdirSync(join(ok, '..'), { recursive: true });
  writeFileSync(ok, new Uint8Array(32).fill(7), { mode: 0o600 });
  const s = await FileKeyStore.open(ok, { create: false });
  assert.equal(s.created, false);
  assert.deepEqual(readFileSync(ok), Buffer.alloc(32, 7), 'an existing good file is never rewritten');
});

test('KEK rotation: rewrap moves a blob to the current KEK without touching the data part', async () => {
  const oldPath = freshPath();
  const newPath = freshPath();
  const oldStore = await FileKeyStore.open(oldPath);
  const blob = await oldStore.wrap(fromHex('0102030405'), 'ssd/keys');
  const rotating = await FileKeyStore.open(newPath, { retiredPaths: [oldPath] });
  assert.notEqual(rotating.kekId, oldStore.kekId);
  assert.deepEqual(await rotating.unwrap(blob, 'ssd/keys'), fromHex('0102030405'), 'old blobs still open');
  const moved = await rotating.rewrap(blob);
  assert.equal(kekIdOf(moved), rotating.kekId);
  const dataPart = (b: Uint8Array): string => toHex(b.subarray(b.length - (12 + 5 + 16)));
  assert.equal(dataPart(moved), dataPart(blob));
  const newOnly = await FileKeyStore.open(newPath);
  assert.deepEqual(await newOnly.unwrap(moved, 'ssd/keys'), fromHex('0102030405'));
  await assert.rejects(newOnly.unwrap(blob, 'ssd/keys'), failsWith('UNKNOWN_KEK'));
  await assert.rejects(oldStore.unwrap(moved, 'ssd/keys'), failsWith('UNKNOWN_KEK'));
  await assert.rejects(newOnly.rewrap(blob), failsWith('UNKNOWN_KEK'));
  await assert.rejects(FileKeyStore.open(freshPath(), { retiredPaths: [join(dir, 'missing.bin')] }), failsWith('BAD_KEK_FILE'));
});
