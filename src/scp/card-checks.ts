/**
 * The command checks both protocols' card side share before any cryptography: decoding, and the
 * EXTERNAL AUTHENTICATE header rules (GPCS 2.2.1 E.5.2 Table E-12; Amendment D §7.2 Table 7-7).
 */
import { CodecError } from '../core/errors.ts';
import { decodeCommand, type CommandApdu } from '../apdu/command.ts';
import { SW } from './errors.ts';
import { isLevelSupportedByI } from './level.ts';
import { hasSecureMessaging } from './messaging.ts';

/** Decode a command from outside; `null` when its lengths are inconsistent (the card answers 6700). */
export function decodeOrNull(bytes: Uint8Array): CommandApdu | null {
  try {
    return decodeCommand(bytes);
  } catch (e) {
    if (e instanceof CodecError) return null;
    throw e;
  }
}

/**
 * Check an EXTERNAL AUTHENTICATE before its MAC and cryptogram: single use of the pending handshake (6985),
 * length (6700), proprietary class (6E00), INS (6D00), data of `dataLength` bytes (6700), P2 00 and a level
 * the protocol and "i" allow (6A86), secure messaging indicated (6982). Returns the command, or the SW to answer.
 */
export function checkExternalAuthenticate(
  pending: { used: boolean; readonly i: number },
  bytes: Uint8Array,
  scp: 2 | 3,
  dataLength: number,
): CommandApdu | number {
  if (pending.used) return SW.CONDITIONS_NOT_SATISFIED;
  pending.used = true;
  const cmd = decodeOrNull(bytes);
  if (cmd === null) return SW.WRONG_LENGTH;
  if (!(cmd.cla & 0x80)) return SW.CLA_NOT_SUPPORTED;
  if (cmd.ins !== 0x82) return SW.INS_NOT_SUPPORTED;
  if (cmd.data.length !== dataLength) return SW.WRONG_LENGTH;
  if (cmd.p2 !== 0x00 || !isLevelSupportedByI(scp, cmd.p1, pending.i)) return SW.INCORRECT_P1P2;
  if (!hasSecureMessaging(cmd.cla)) return SW.SECURITY_NOT_SATISFIED;
  return cmd;
}
