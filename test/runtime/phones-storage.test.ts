/**
 * Issue 8 §3 for the phones of `opentsm up`: a phone file is its SE's storage. A committed change is in the file
 * (readable by `loadPhones`, with the phone's other fields intact) once the card's barrier resolves — not 250 ms
 * later — and a script's several changes cost one write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../../src/core/bytes.ts';
import { loadPhones, manufacturePhone, PhoneSaver, savePhone } from '../../src/runtime/phones.ts';

test('issue 8 §3: a phone\'s SE change is in its file when the barrier resolves, with the phone record intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opentsm-phones-'));
  try {
    const { record, card } = manufacturePhone();
    record.registered.issuer = true;
    await savePhone(dir, record);
    const saver = new PhoneSaver(dir);
    saver.watch(record, card);
    card.powerOn();
    const before = card.serialize();
    // Two INITIALIZE UPDATEs (each moves the ISD's SCP03 sequence counter), as in one RAM script.
    for (const c of ['0102030405060708', '1112131415161718']) {
      const r = card.process(fromHex(`8050300008${c}`));
      assert.deepEqual([...r.slice(-2)], [0x90, 0x00]);
    }
    const after = card.serialize();
    assert.notEqual(after, before);
    assert.equal((await loadPhones(dir))[0]!.cardState, before); // staged, not yet written
    await card.sync();
    const [saved] = await loadPhones(dir);
    assert.equal(saved!.cardState, after);
    assert.deepEqual(saved!.registered, { issuer: true, ota: false });
    assert.equal(saved!.psk, record.psk);
    // Nothing staged: the barrier writes nothing, and flush() on shutdown has nothing left.
    await card.sync();
    await saver.flush();
    assert.equal((await loadPhones(dir))[0]!.cardState, after);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
