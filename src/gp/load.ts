/**
 * LOAD (GP Card Specification 2.3.1 §11.6): the Load File structure (Table 11-58: DAP blocks 'E2', then
 * 'C4' Load File Data Block or 'D4' ciphered with optional 'D3' ICV), split into blocks with P1 b8 = last
 * block (Table 11-57) and P2 = block number 00..FF (§11.6.2.2); the card reassembles and parses it.
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { concat } from '../core/bytes.ts';
import { encodeTlv, findTag, parseTlvs } from '../core/tlv.ts';
import { assertAid, checkAid } from './aid.ts';
import { GpError } from './errors.ts';
import { byteOf } from './reader.ts';

/** A DAP block ('E2'): the verifying Security Domain and its signature of the Load File Data Block. */
export interface DapBlock {
  readonly sdAid: Uint8Array;
  readonly signature: Uint8Array;
}

/** A Load File (Table 11-58). */
export interface LoadFile {
  readonly dapBlocks?: readonly DapBlock[];
  /** Load File Data Block (e.g. the CAP components); sent in 'C4', or in 'D4' when `ciphered`. */
  readonly loadFileDataBlock: Uint8Array;
  readonly ciphered?: boolean;
  /** 'D3' ICV of a ciphered block. */
  readonly icv?: Uint8Array;
}

/** Default LOAD block size: fits a short APDU with room for an 8-byte C-MAC (and padding under C-DECRYPTION). */
export const DEFAULT_LOAD_BLOCK_SIZE = 239;

/** Encode a Load File: `[E2 {4F sdAid, C3 signature}]* (C4 lfdb | [D3 icv] D4 lfdb)`. */
export function encodeLoadFile(f: LoadFile): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const d of f.dapBlocks ?? []) {
    parts.push(encodeTlv(0xe2, concat(encodeTlv(0x4f, assertAid(d.sdAid, 'dap.sdAid')), encodeTlv(0xc3, d.signature))));
  }
  if (f.ciphered) {
    if (f.icv) parts.push(encodeTlv(0xd3, f.icv));
    parts.push(encodeTlv(0xd4, f.loadFileDataBlock));
  } else {
    if (f.icv) throw new RangeError('an ICV only goes with a ciphered Load File Data Block');
    parts.push(encodeTlv(0xc4, f.loadFileDataBlock));
  }
  return concat(...parts);
}

/**
 * Card side: parse a complete (reassembled) Load File. Throws `GpError('BAD_DATA')`/`CodecError` (6A80)
 * when DAP blocks are malformed, 'C4'/'D4' is missing or doubled, or unknown objects are present.
 */
export function parseLoadFile(bytes: Uint8Array): LoadFile {
  const tlvs = parseTlvs(bytes);
  const dapBlocks: DapBlock[] = [];
  let block: Uint8Array | undefined;
  let ciphered = false;
  let icv: Uint8Array | undefined;
  for (const t of tlvs) {
    if (t.tag === 0xe2) {
      if (block) throw new GpError('BAD_DATA', 'DAP block after the Load File Data Block');
      const aid = findTag(t.children, 0x4f);
      const sig = findTag(t.children, 0xc3);
      if (!aid || !sig) throw new GpError('BAD_DATA', "DAP block needs '4F' and 'C3'");
      dapBlocks.push({ sdAid: checkAid(aid.value, 'DAP block SD AID'), signature: sig.value });
    } else if (t.tag === 0xd3) {
      if (block || icv) throw new GpError('BAD_DATA', "misplaced 'D3' ICV");
      icv = t.value;
    } else if (t.tag === 0xc4 || t.tag === 0xd4) {
      if (block) throw new GpError('BAD_DATA', 'more than one Load File Data Block');
      block = t.value;
      ciphered = t.tag === 0xd4;
    } else {
      throw new GpError('BAD_DATA', `unexpected tag ${t.tag.toString(16)} in Load File`);
    }
  }
  if (!block) throw new GpError('BAD_DATA', "Load File without 'C4' or 'D4'");
  if (icv && !ciphered) throw new GpError('BAD_DATA', "'D3' ICV without a ciphered block");
  return {
    ...(dapBlocks.length ? { dapBlocks } : {}),
    loadFileDataBlock: block,
    ...(ciphered ? { ciphered } : {}),
    ...(icv ? { icv } : {}),
  };
}

/**
 * Split an encoded Load File into LOAD commands: `80 E8 P1 P2 Lc block 00`, P1 '80' on the last, P2 = 0, 1, ….
 * Throws `RangeError` when more than 256 blocks would be needed.
 */
export function buildLoadCommands(loadFile: Uint8Array, blockSize = DEFAULT_LOAD_BLOCK_SIZE, cla = 0x80): CommandApdu[] {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 255) throw new RangeError(`block size ${blockSize} not in 1..255`);
  if (loadFile.length === 0) throw new RangeError('empty Load File');
  const n = Math.ceil(loadFile.length / blockSize);
  if (n > 256) throw new RangeError(`${n} LOAD blocks: P2 counts only to 255`);
  const out: CommandApdu[] = [];
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    out.push(command(byteOf(cla, 'cla'), 0xe8, last ? 0x80 : 0x00, i, loadFile.slice(i * blockSize, (i + 1) * blockSize), 256));
  }
  return out;
}

/** One LOAD command as the card sees it. */
export interface LoadBlock {
  readonly last: boolean;
  readonly blockNumber: number;
  readonly data: Uint8Array;
}

/** Card side: parse one LOAD command; RFU bits in P1 or an empty data field throw. */
export function parseLoadCommand(cmd: CommandApdu): LoadBlock {
  if ((cmd.p1 & 0x7f) !== 0) throw new GpError('BAD_P1P2', `LOAD P1 ${cmd.p1.toString(16)} has RFU bits set`);
  if (cmd.data.length === 0) throw new GpError('WRONG_LENGTH', 'LOAD without data');
  return { last: (cmd.p1 & 0x80) !== 0, blockNumber: cmd.p2, data: cmd.data };
}

/** Reassembly state kept by the card between LOAD commands (immutable; each step returns a new one). */
export interface LoadReassembly {
  /** Block number expected next. */
  readonly nextBlock: number;
  readonly received: readonly Uint8Array[];
  /** True after the last block: `loadFile` then holds the whole Load File. */
  readonly complete: boolean;
  readonly loadFile?: Uint8Array;
}

/**
 * Card side: add a block. The first block must be '00' and each next one the previous plus one
 * (§11.6.1); anything else throws `GpError('BAD_SEQUENCE')` (6A86) and the card should drop the state.
 */
export function appendLoadBlock(state: LoadReassembly | undefined, block: LoadBlock): LoadReassembly {
  const expected = state?.nextBlock ?? 0;
  if (state?.complete) throw new GpError('BAD_SEQUENCE', 'LOAD after the last block');
  if (block.blockNumber !== expected) {
    throw new GpError('BAD_SEQUENCE', `LOAD block ${block.blockNumber} where ${expected} was expected`);
  }
  const received = [...(state?.received ?? []), block.data];
  if (block.last) return { nextBlock: expected + 1, received, complete: true, loadFile: concat(...received) };
  if (expected === 0xff) throw new GpError('BAD_SEQUENCE', 'block 255 must be the last');
  return { nextBlock: expected + 1, received, complete: false };
}
