/**
 * Host operations of `src/gp/client.ts` against a scripted card: PUT KEY response checks (GPCS 2.3.1 §11.8.3.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { ApduError } from '../../src/apdu/errors.ts';
import { putKeySet } from '../../src/gp/client.ts';

const K1 = fromHex('11111111111111111111111111111111');
const keys = { type: 'aes' as const, enc: K1, mac: K1, dek: K1 };

function scripted(response: string) {
  const sent: string[] = [];
  return { sent, transmit: async (apdu: Uint8Array) => (sent.push(toHex(apdu)), fromHex(response)) };
}

test('§11.8.3.1 putKeySet: accepts the KVN and the KCVs of the keys sent (AES KCV of 11…11 is 098542)', async () => {
  const ch = scripted('300985420985420985429000');
  const r = await putKeySet(ch, { replaceKvn: 0, newKvn: 0x30, keys }, (k) => k);
  assert.equal(r.kvn, 0x30);
  assert.equal(ch.sent.length, 1);
});

test('§11.8.3.1 putKeySet: KCVs that differ from the keys sent throw (the card did not load those keys)', async () => {
  await assert.rejects(putKeySet(scripted('300985420985420985439000'), { replaceKvn: 0, newKvn: 0x30, keys }, (k) => k), ApduError);
  await assert.rejects(putKeySet(scripted('300985420985429000'), { replaceKvn: 0, newKvn: 0x30, keys }, (k) => k), ApduError);
  await assert.rejects(putKeySet(scripted('310985420985420985429000'), { replaceKvn: 0, newKvn: 0x30, keys }, (k) => k), ApduError);
});
