/**
 * Weak SCP81 PSKs refused at device registration (GP Amendment B §2.2: the PSK-TLS key of the admin agent).
 * A PSK is the only secret between a phone's admin agent and the OTA server; a guessable one lets anyone
 * open the phone's admin session. Refused: fewer than 16 bytes; one byte value repeated; a short pattern
 * repeated (period ≤ half the length); a constant-step run (000102…, 404142…4F — the GlobalPlatform test
 * key); fewer than 6 distinct byte values; well-known default keys.
 */
import { toHex } from '../../core/bytes.ts';

export const MIN_PSK_BYTES = 16;
const MIN_DISTINCT = 6;

/** Well-known default keys (hex, upper case) and their doubled/tripled forms are checked by prefix. */
const KNOWN_DEFAULTS = [
  '404142434445464748494A4B4C4D4E4F', // GlobalPlatform test key ("GP default")
  '47454D5850524553534F53414D504C45', // "GEMXPRESSOSAMPLE"
  '0123456789ABCDEFFEDCBA9876543210',
  '0123456789ABCDEF0123456789ABCDEF',
];

/** Why `psk` is too weak to register, or undefined when it is acceptable. */
export function weakPskReason(psk: Uint8Array): string | undefined {
  const n = psk.length;
  if (n < MIN_PSK_BYTES) return `the PSK has ${n} bytes; at least ${MIN_PSK_BYTES} are required`;
  if (psk.every((b) => b === psk[0])) return 'the PSK is one byte value repeated';
  const step = (psk[1]! - psk[0]! + 256) & 0xff;
  let run = true;
  for (let i = 2; i < n && run; i++) run = ((psk[i]! - psk[i - 1]! + 256) & 0xff) === step;
  if (run) return 'the PSK is a run of bytes with a constant step (like 000102… or 404142…4F)';
  for (let p = 2; p <= n / 2; p++) {
    let repeats = true;
    for (let i = p; i < n && repeats; i++) repeats = psk[i] === psk[i - p];
    if (repeats) return `the PSK repeats a pattern of ${p} bytes`;
  }
  if (new Set(psk).size < MIN_DISTINCT) return `the PSK has fewer than ${MIN_DISTINCT} distinct byte values`;
  const hex = toHex(psk).toUpperCase();
  if (KNOWN_DEFAULTS.some((d) => hex.startsWith(d))) return 'the PSK is a well-known default key';
  return undefined;
}
