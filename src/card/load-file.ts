/**
 * The Load File Data Block format of the simulator (the content of tag 'C4' in a Load File, GPCS 2.3.1
 * Table 11-58). GlobalPlatform leaves the format to the runtime environment (§11.6.1; on Java Card it is a
 * CAP file). Ours is a small CAP-like BER-TLV sequence:
 *
 *   '4F' 5–16   Executable Load File AID                       mandatory, first
 *   'CE' 2      version (major, minor)                           optional
 *   '84' 5–16   Executable Module AID                           one or more
 *   'C1' n      opaque code image (ignored; lets tests load big files)  optional
 *
 * The code itself is TypeScript: a module AID is linked to the class registered in the applet catalogue
 * for that load-file AID. The Load File Data Block Hash (INSTALL [for load]) is computed over this block —
 * the value of 'C4', without tag and length (Appendix C.2).
 */
import { concat, toHex } from '../core/bytes.ts';
import { encodeTlv, parseTlvs } from '../core/tlv.ts';
import { SW, SwError } from './errors.ts';

export interface LoadFileDataBlock {
  readonly elf: Uint8Array;
  readonly version?: Uint8Array;
  readonly modules: readonly Uint8Array[];
  readonly code?: Uint8Array;
}

/** Encode a Load File Data Block (host side, tests, tools). */
export function encodeLoadFileDataBlock(b: LoadFileDataBlock): Uint8Array {
  if (b.modules.length === 0) throw new RangeError('a load file needs at least one module');
  return concat(
    encodeTlv(0x4f, b.elf),
    ...(b.version ? [encodeTlv(0xce, b.version)] : []),
    ...b.modules.map((m) => encodeTlv(0x84, m)),
    ...(b.code ? [encodeTlv(0xc1, b.code)] : []),
  );
}

const aidOk = (v: Uint8Array) => v.length >= 5 && v.length <= 16;

/** Card side: parse a Load File Data Block; anything malformed is 6A80. */
export function parseLoadFileDataBlock(bytes: Uint8Array): { elf: string; version: string; modules: string[] } {
  let tlvs;
  try {
    tlvs = parseTlvs(bytes);
  } catch {
    throw new SwError(SW.INCORRECT_DATA, 'Load File Data Block is not BER-TLV');
  }
  const first = tlvs[0];
  if (!first || first.tag !== 0x4f || !aidOk(first.value)) throw new SwError(SW.INCORRECT_DATA, "Load File Data Block must start with '4F'");
  let version = '';
  const modules: string[] = [];
  for (const t of tlvs.slice(1)) {
    if (t.tag === 0xce && t.value.length === 2 && version === '' && modules.length === 0) version = toHex(t.value);
    else if (t.tag === 0x84 && aidOk(t.value) && !modules.includes(toHex(t.value))) modules.push(toHex(t.value));
    else if (t.tag === 0xc1) continue;
    else throw new SwError(SW.INCORRECT_DATA, `unexpected object ${t.tag.toString(16)} in Load File Data Block`);
  }
  if (modules.length === 0) throw new SwError(SW.INCORRECT_DATA, 'Load File Data Block without modules');
  return { elf: toHex(first.value), version, modules };
}
