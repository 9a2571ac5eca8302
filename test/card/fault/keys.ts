/** Key sets of the fault test: rotation N has key version 0x30 + N mod 16 and keys derived from N (0 = the factory's 40..4F). */
import { createHash } from 'node:crypto';
import { fromHex } from '../../../src/core/bytes.ts';

export function kvnOf(n: number): number {
  return 0x30 + (n % 16);
}

export function keysOf(n: number): { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array } {
  if (n === 0) {
    const k = fromHex('404142434445464748494A4B4C4D4E4F');
    return { enc: k, mac: k, dek: k };
  }
  const d = (label: string) => new Uint8Array(createHash('sha256').update(`${label}/${n}`).digest().subarray(0, 16));
  return { enc: d('enc'), mac: d('mac'), dek: d('dek') };
}

/** Last acknowledged rotation and last started one, from the journal (a torn last line is ignored). */
export function journalState(text: string): { acked: number; intent: number } {
  let acked = 0;
  let intent = 0;
  for (const line of text.split('\n')) {
    const m = /^(intent|ack) (\d+)$/.exec(line);
    if (!m) continue;
    const v = Number(m[2]);
    if (m[1] === 'ack') acked = Math.max(acked, v);
    else intent = Math.max(intent, v);
  }
  return { acked, intent: Math.max(intent, acked) };
}
