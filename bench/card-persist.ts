/**
 * What it costs a simulated card to persist before it answers (issue 8 §3): secured APDUs per second through an
 * `InProcessChannel`, SCP03 level 33, for a state-changing command (PUT KEY rotating the ISD key set between key
 * versions 31 and 32; STORE DATA of tag '45') and one that changes nothing (GET STATUS), with the card's state in:
 *   memory        no storage (the upper bound)
 *   before        the file written after each change, temp + rename, no fsync (what `card serve` did before
 *                 issue 8; the phones of `opentsm up` only wrote 250 ms later)
 *   durable       DurableFile, blocking writes, barrier per APDU (`card serve` over vpcd, `--reader sim:FILE`):
 *                 temp file, fsync, rename, directory fsync before each answer
 *   durable-async the same on node:fs/promises (the phones of `opentsm up`, which share the platform's process)
 *   async/10      DurableFile async, one barrier per RAM script of 10 commands (their responses leave together)
 * Usage: npm run bench -- card-persist [commands per loop, default 400]
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCommand } from '../src/apdu/command.ts';
import { decodeResponse } from '../src/apdu/response.ts';
import { createCard, type SimulatedCard } from '../src/card/index.ts';
import { fromHex } from '../src/core/bytes.ts';
import { DurableFile, writeFileDurablySync } from '../src/device/durable-file.ts';
import { buildPutKey, kcvFor } from '../src/gp/index.ts';
import { openSecureChannel, type HostSecureChannel } from '../src/scp/index.ts';

type Mode = 'memory' | 'before' | 'durable' | 'durable-async' | 'async/10';
type Workload = 'PUT KEY' | 'STORE DATA' | 'GET STATUS';

const K40 = fromHex('404142434445464748494A4B4C4D4E4F');
const KA = fromHex('A0A1A2A3A4A5A6A7A8A9AAABACADAEAF');
const KB = fromHex('B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF');

function setup(mode: Mode, dir: string): { card: SimulatedCard; file?: DurableFile } {
  const card = createCard({ profile: 'scp03' });
  const path = join(dir, `${mode.replace('/', '-')}.json`);
  if (mode === 'before') {
    card.onChange((json) => {
      writeFileSync(`${path}.tmp`, json, { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    });
  } else if (mode !== 'memory') {
    writeFileDurablySync(path, card.serialize());
    const file = new DurableFile(path, { blocking: mode === 'durable' });
    card.attachStorage(file);
    return { card, file };
  }
  return { card };
}

function command(w: Workload, ch: HostSecureChannel, i: number): Uint8Array {
  if (w === 'GET STATUS') return fromHex('80F28002024F00');
  if (w === 'STORE DATA') return fromHex(`80E2900006450400${(i & 0xffffff).toString(16).padStart(6, '0')}`);
  // Rotate between key versions 31 and 32 (the first PUT KEY adds 31 next to 30).
  const from = i === 0 ? 0 : i % 2 === 1 ? 0x31 : 0x32;
  const to = i % 2 === 0 ? 0x31 : 0x32;
  const key = i % 2 === 0 ? KA : KB;
  const c = buildPutKey({ replaceKvn: from, newKvn: to, keyId: 1, keys: [key, key, key].map((value) => ({ components: [{ type: 0x88, value }], kcv: kcvFor(0x88, value) })) }, (p) => ch.encryptKeyData(p));
  return encodeCommand(c);
}

async function run(mode: Mode, w: Workload, n: number, dir: string): Promise<{ perSecond: number; writes: number }> {
  const { card, file } = setup(mode, dir);
  card.powerOn();
  const batch = mode === 'async/10' ? 10 : 1;
  const barrier = file !== undefined;
  const transmit = async (a: Uint8Array) => {
    const r = card.process(a);
    if (barrier) await card.sync();
    return r;
  };
  const ch = await openSecureChannel(transmit, { keys: { enc: K40, mac: K40, dek: K40 }, kvn: 0x30, level: 0x33, scp: 3 });
  const start = performance.now();
  for (let i = 0; i < n; ) {
    for (let j = 0; j < batch && i < n; j++, i++) {
      const r = decodeResponse(ch.unwrapResponse(card.process(ch.wrapCommand(command(w, ch, i)))));
      if (r.sw !== 0x9000) throw new Error(`${w} #${i} answered ${r.sw.toString(16)}`);
    }
    if (barrier) await card.sync();
  }
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: n / seconds, writes: file?.writes ?? 0 };
}

export default async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 400);
  if (!Number.isInteger(n) || n < 10) throw new RangeError('commands per loop: an integer ≥ 10');
  const dir = mkdtempSync(join(tmpdir(), 'opentsm-bench-persist-'));
  try {
    const modes: Mode[] = ['memory', 'before', 'durable', 'durable-async', 'async/10'];
    const loads: Workload[] = ['PUT KEY', 'STORE DATA', 'GET STATUS'];
    process.stdout.write(`card-persist: ${n} secured APDUs (SCP03 level 33) per cell, APDUs/s (durable writes)\n`);
    process.stdout.write(`${'workload'.padEnd(12)}${modes.map((m) => m.padStart(18)).join('')}\n`);
    for (const w of loads) {
      let line = w.padEnd(12);
      for (const m of modes) {
        await run(m, w, Math.min(50, n), dir); // warm-up
        const r = await run(m, w, n, dir);
        line += `${r.perSecond.toFixed(0)}${m !== 'memory' && m !== 'before' ? ` (${r.writes})` : ''}`.padStart(18);
      }
      process.stdout.write(`${line}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
