/** Build-on-demand of the PC/SC bridge and its typed errors (no pcscd needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPcscBridge, pcscError, SCARD_E } from '../../src/transport/pcsc-bridge.ts';
import { TransportError } from '../../src/transport/errors.ts';

test('a missing compiler is PCSC_UNAVAILABLE with an install hint', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-bridge-'));
  try {
    await assert.rejects(
      buildPcscBridge({ cacheDir: dir, compiler: '/nonexistent/cc' }),
      (e: unknown) => e instanceof TransportError && e.code === 'PCSC_UNAVAILABLE' && /C compiler/.test(e.message),
    );
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const canBuild = existsSync('/usr/include/PCSC/winscard.h') ? undefined : 'libpcsclite-dev is not installed';

test('compiles once into the cache folder; the name carries the source hash', { skip: canBuild, timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-bridge-'));
  try {
    const [a, b] = await Promise.all([buildPcscBridge({ cacheDir: dir }), buildPcscBridge({ cacheDir: dir })]);
    assert.equal(a, b);
    assert.match(a, /pcsc-bridge-[0-9a-f]{16}$/);
    assert.deepEqual(await readdir(dir), [a.split('/').at(-1)]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('PC/SC return codes map to transport error codes', () => {
  assert.equal(pcscError(SCARD_E.NO_SMARTCARD, 'x').code, 'NO_CARD');
  assert.equal(pcscError(SCARD_E.REMOVED_CARD, 'x').code, 'NO_CARD');
  assert.equal(pcscError(SCARD_E.UNKNOWN_READER, 'x').code, 'NO_READER');
  assert.equal(pcscError(SCARD_E.NO_SERVICE, 'x').code, 'CONNECTION_FAILED');
  const other = pcscError(SCARD_E.SHARING_VIOLATION, 'busy');
  assert.equal(other.code, 'PCSC_ERROR');
  assert.equal(other.pcscCode, 0x8010000b);
  assert.equal(other.message, 'busy');
});
