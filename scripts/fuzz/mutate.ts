/**
 * Mutations of command APDUs: on the decoded command (class and channel, P1/P2, Le, data, lengths inside
 * the data) and on the encoded bytes (bit flips, truncation, extension, Lc/Le corruption). Each returns a new
 * value; the description names what was done, for the finding report.
 */
import { encodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { concat } from '../../src/core/bytes.ts';
import { claOn } from './apdus.ts';
import type { Prng } from './prng.ts';

/** Offsets of length bytes inside a data field, by the structure GP gives it (BER-TLV, LV fields, PUT KEY). */
export function lengthOffsets(ins: number, d: Uint8Array): number[] {
  const out: number[] = [];
  if (ins === 0xe6) {
    for (let o = 0; o < d.length; o += 1 + d[o]!) out.push(o);
    return out;
  }
  if (ins === 0xd8) {
    let o = 1;
    while (o + 1 < d.length) {
      out.push(o + 1);
      const end = o + 2 + d[o + 1]!;
      if (end >= d.length) break;
      out.push(end);
      o = end + 1 + d[end]!;
    }
    return out;
  }
  let o = 0;
  while (o < d.length) {
    const first = d[o++]!;
    if ((first & 0x1f) === 0x1f) while (o < d.length && d[o++]! & 0x80);
    if (o >= d.length) break;
    out.push(o);
    const l = d[o]!;
    if (l >= 0x80) break;
    if ((first & 0x20) !== 0) o += 1; // constructed: look inside too
    else o += 1 + l;
  }
  return out;
}

function flipBit(b: Uint8Array, rng: Prng, from = 0): Uint8Array {
  const out = b.slice();
  if (out.length <= from) return out;
  const i = rng.range(from, out.length - 1);
  out[i] = out[i]! ^ (1 << rng.int(8));
  return out;
}

/** One mutation of the decoded command; `keepClass` leaves CLA alone (secure channel plaintexts). */
export function mutateCommand(c: CommandApdu, rng: Prng, keepClass = false): { command: CommandApdu; what: string } {
  const choices: [number, () => { command: CommandApdu; what: string }][] = [
    [3, () => ({ command: { ...c, p1: rng.byte() }, what: 'random P1' })],
    [3, () => ({ command: { ...c, p2: rng.byte() }, what: 'random P2' })],
    [2, () => {
      const le = rng.pick([undefined, 1, 2, 4, 16, 255, 256, rng.range(1, 256)]);
      const { le: _drop, ...rest } = c;
      return { command: le === undefined ? rest : { ...rest, le }, what: `Le ${le ?? 'absent'}` };
    }],
    [3, () => ({ command: { ...c, data: flipBit(c.data, rng) }, what: 'bit flip in data' })],
    [2, () => ({ command: { ...c, data: c.data.slice(0, rng.int(c.data.length + 1)) }, what: 'data truncated' })],
    [2, () => ({ command: { ...c, data: concat(c.data, rng.bytes(rng.range(1, 24))) }, what: 'data extended' })],
    [1, () => ({ command: { ...c, data: rng.bytes(rng.range(0, 64)) }, what: 'random data' })],
    [4, () => {
      const offs = lengthOffsets(c.ins, c.data);
      if (offs.length === 0) return { command: { ...c, data: flipBit(c.data, rng) }, what: 'bit flip in data' };
      const at = rng.pick(offs);
      const data = c.data.slice();
      const v = rng.chance(0.5) ? (data[at]! + rng.range(1, 12)) & 0xff : rng.chance(0.5) ? Math.max(0, data[at]! - rng.range(1, 4)) : rng.byte();
      data[at] = v;
      return { command: { ...c, data }, what: `length byte at data offset ${at} set to ${v}` };
    }],
  ];
  if (!keepClass) {
    choices.push(
      [3, () => {
        const ch = rng.range(0, 19);
        return { command: { ...c, cla: claOn(c.cla, ch) }, what: `logical channel ${ch}` };
      }],
      [2, () => {
        const cla = rng.pick([0xff, rng.range(0x20, 0x3f), rng.range(0xa0, 0xbf), c.cla ^ 0x80, c.cla | 0x10, c.cla | 0x04, c.cla | 0x0c, rng.byte()]);
        return { command: { ...c, cla }, what: `CLA ${cla.toString(16)}` };
      }],
      [1, () => ({ command: { ...c, ins: rng.byte() }, what: 'random INS' })],
    );
  }
  return rng.weighted(choices)();
}

/** One mutation of encoded bytes (may break the ISO 7816 length coding). */
export function mutateBytes(b: Uint8Array, rng: Prng): { bytes: Uint8Array; what: string } {
  return rng.weighted<() => { bytes: Uint8Array; what: string }>([
    [4, () => ({ bytes: flipBit(b, rng), what: 'bit flip' })],
    [3, () => ({ bytes: b.slice(0, rng.int(b.length)), what: 'truncated' })],
    [3, () => ({ bytes: concat(b, rng.bytes(rng.range(1, 4))), what: 'extended' })],
    [3, () => {
      const out = b.length > 4 ? b.slice() : concat(b, new Uint8Array(1));
      out[4] = rng.chance(0.5) ? rng.byte() : (out[4]! + rng.pick([1, -1, 2, -2])) & 0xff;
      return { bytes: out, what: 'Lc corrupted' };
    }],
    [2, () => {
      const out = b.slice();
      if (out.length > 5) out[out.length - 1] = rng.byte();
      return { bytes: out, what: 'last byte (Le) corrupted' };
    }],
    [1, () => {
      const at = rng.int(b.length + 1);
      return { bytes: concat(b.slice(0, at), Uint8Array.of(rng.byte()), b.slice(at)), what: `byte inserted at ${at}` };
    }],
    [1, () => ({ bytes: concat(b.slice(0, 4), Uint8Array.of(0), rng.bytes(rng.range(0, 6))), what: 'extended-length prefix' })],
  ])();
}

/** 0–3 mutations: command-level ones first, then maybe one on the bytes. */
export function mutate(c: CommandApdu, rng: Prng): { bytes: Uint8Array; what: string[] } {
  const what: string[] = [];
  let cmd = c;
  const n = rng.weighted([[2, 0], [5, 1], [3, 2]] as const);
  for (let i = 0; i < n; i++) {
    const m = mutateCommand(cmd, rng);
    cmd = m.command;
    what.push(m.what);
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeCommand(cmd);
  } catch {
    bytes = encodeCommand(c);
    what.push('(unencodable, original kept)');
  }
  if (rng.chance(0.3)) {
    const m = mutateBytes(bytes, rng);
    bytes = m.bytes;
    what.push(m.what);
  }
  return { bytes, what };
}
