/** Weak SCP81 PSKs are refused at device registration (issue 8 §4): the exact reasons, and random keys pass. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fromHex } from '../../../src/core/bytes.ts';
import { weakPskReason } from '../../../src/services/ota/psk-strength.ts';

test('weakPskReason: short, one value, constant step, repeating pattern, few distinct values, known defaults', () => {
  const cases: [string, string][] = [
    ['00'.repeat(15), 'the PSK has 15 bytes; at least 16 are required'],
    ['00'.repeat(16), 'the PSK is one byte value repeated'],
    ['A5'.repeat(64), 'the PSK is one byte value repeated'],
    ['404142434445464748494A4B4C4D4E4F', 'the PSK is a run of bytes with a constant step (like 000102… or 404142…4F)'],
    ['404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F', 'the PSK is a run of bytes with a constant step (like 000102… or 404142…4F)'],
    ['0F0E0D0C0B0A09080706050403020100', 'the PSK is a run of bytes with a constant step (like 000102… or 404142…4F)'],
    ['0102'.repeat(8), 'the PSK repeats a pattern of 2 bytes'],
    ['DEADBEEF'.repeat(4), 'the PSK repeats a pattern of 4 bytes'],
    ['00112233445566778899AABBCCDDEEFF'.repeat(2), 'the PSK repeats a pattern of 16 bytes'],
    ['00010203040001000203040000010203', 'the PSK has fewer than 6 distinct byte values'],
    ['47454D5850524553534F53414D504C45', 'the PSK is a well-known default key'],
    ['0123456789ABCDEFFEDCBA9876543210', 'the PSK is a well-known default key'],
  ];
  for (const [hex, reason] of cases) assert.equal(weakPskReason(fromHex(hex)), reason, hex);
  for (let i = 0; i < 200; i++) assert.equal(weakPskReason(new Uint8Array(randomBytes(16 + (i % 49)))), undefined);
});
