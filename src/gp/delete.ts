/**
 * DELETE (GP Card Specification 2.3.1 §11.2): card content (Table 11-23: '4F' AID, optional 'B6' CRT and '9E'
 * token; P2 b8 = delete related objects, Table 11-22) and keys (Table 11-24: 'D0' key id and/or 'D2' KVN).
 * Response: see `encodeConfirmationResponse` in install.ts (Table 11-25).
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { concat } from '../core/bytes.ts';
import { encodeTlv, parseTlvs } from '../core/tlv.ts';
import { assertAid, checkAid } from './aid.ts';
import { GpError } from './errors.ts';
import { byteOf } from './reader.ts';

/** DELETE [card content]. */
export interface DeleteCardContent {
  readonly kind: 'content';
  readonly aid: Uint8Array;
  /** P2 '80': the Executable Load File and its Applications. */
  readonly related: boolean;
  /** 'B6' CRT value bytes. */
  readonly tokenCrt?: Uint8Array;
  /** '9E' Delete Token. */
  readonly token?: Uint8Array;
}

/** DELETE [key]: both = one key, one of them = all keys with that id or version. */
export interface DeleteKey {
  readonly kind: 'key';
  readonly keyId?: number;
  readonly kvn?: number;
}

export type DeleteRequest = DeleteCardContent | DeleteKey;

/** Build DELETE [card content]: `80 E4 00 00|80 Lc 4F len aid [B6 ..] [9E ..] 00`. */
export function buildDeleteCardContent(
  aid: Uint8Array,
  options: { related?: boolean; tokenCrt?: Uint8Array; token?: Uint8Array; cla?: number } = {},
): CommandApdu {
  const parts = [encodeTlv(0x4f, assertAid(aid, 'aid'))];
  if (options.tokenCrt) parts.push(encodeTlv(0xb6, options.tokenCrt));
  if (options.token) parts.push(encodeTlv(0x9e, options.token));
  return command(byteOf(options.cla ?? 0x80, 'cla'), 0xe4, 0x00, options.related ? 0x80 : 0x00, concat(...parts), 256);
}

/** Build DELETE [key]: `80 E4 00 00 Lc [D0 01 id] [D2 01 kvn] 00`. */
export function buildDeleteKey(key: { keyId?: number; kvn?: number }, cla = 0x80): CommandApdu {
  if (key.keyId === undefined && key.kvn === undefined) throw new RangeError('DELETE [key] needs a key id or a KVN');
  const parts: Uint8Array[] = [];
  if (key.keyId !== undefined) parts.push(encodeTlv(0xd0, Uint8Array.of(byteOf(key.keyId, 'keyId'))));
  if (key.kvn !== undefined) parts.push(encodeTlv(0xd2, Uint8Array.of(byteOf(key.kvn, 'kvn'))));
  return command(byteOf(cla, 'cla'), 0xe4, 0x00, 0x00, concat(...parts), 256);
}

/**
 * Card side: parse DELETE. P1 other than 00/80 (b8 = more commands) or P2 other than 00/80 throws
 * `GpError('BAD_P1P2')`; mixed or repeated objects, a bad AID or 'D0'/'D2' not one byte throw 6A80.
 */
export function parseDeleteCommand(cmd: CommandApdu): DeleteRequest {
  if ((cmd.p1 & 0x7f) !== 0) throw new GpError('BAD_P1P2', `DELETE P1 ${cmd.p1.toString(16)}`);
  if ((cmd.p2 & 0x7f) !== 0) throw new GpError('BAD_P1P2', `DELETE P2 ${cmd.p2.toString(16)}`);
  const tlvs = parseTlvs(cmd.data);
  if (tlvs.length === 0) throw new GpError('BAD_DATA', 'DELETE without data');
  const seen = new Set<number>();
  for (const t of tlvs) {
    if (seen.has(t.tag)) throw new GpError('BAD_DATA', `repeated tag ${t.tag.toString(16)} in DELETE`);
    seen.add(t.tag);
  }
  if (tlvs[0]!.tag === 0x4f) {
    let tokenCrt: Uint8Array | undefined;
    let token: Uint8Array | undefined;
    for (const t of tlvs.slice(1)) {
      if (t.tag === 0xb6) tokenCrt = t.value;
      else if (t.tag === 0x9e) token = t.value;
      else throw new GpError('BAD_DATA', `unexpected tag ${t.tag.toString(16)} in DELETE [card content]`);
    }
    return {
      kind: 'content',
      aid: checkAid(tlvs[0]!.value),
      related: (cmd.p2 & 0x80) !== 0,
      ...(tokenCrt ? { tokenCrt } : {}),
      ...(token ? { token } : {}),
    };
  }
  let keyId: number | undefined;
  let kvn: number | undefined;
  for (const t of tlvs) {
    if (t.tag !== 0xd0 && t.tag !== 0xd2) throw new GpError('BAD_DATA', `unexpected tag ${t.tag.toString(16)} in DELETE`);
    if (t.value.length !== 1) throw new GpError('BAD_DATA', `'${t.tag.toString(16).toUpperCase()}' must be one byte`);
    if (t.tag === 0xd0) keyId = t.value[0]!;
    else kvn = t.value[0]!;
  }
  return { kind: 'key', ...(keyId !== undefined ? { keyId } : {}), ...(kvn !== undefined ? { kvn } : {}) };
}
