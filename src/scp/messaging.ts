/**
 * Class byte and APDU helpers shared by SCP02 and SCP03 secure messaging.
 * CLA coding: GPCS 2.3.1 §11.1.4 (first interindustry '0x'/'8x': b3 = GP secure messaging, b2b1 = channel 0–3;
 * further interindustry '4x'–'7x'/'Cx'–'Fx': b6 = secure messaging, b4–b1 = channel 4–19; b5 = command chaining).
 * The MAC never covers the logical channel: GPCS 2.2.1 E.4.4 and Amendment D §6.2.4 compute it with
 * channel zero and the GP secure messaging bit set, i.e. CLA '84' for a '8x'/'Cx' command.
 */
import { decodeCommand, encodeCommand, type CommandApdu } from '../apdu/command.ts';
import { CodecError } from '../core/errors.ts';
import { SecureChannelError, SW } from './errors.ts';
import { claForChannel as moveToChannel } from '../apdu/logical-channel.ts';

/** Logical channel number (0–19) coded in a class byte (the apdu layer's reading of CLA). */
export { channelFromCla as logicalChannelOf, hasSecureMessaging } from '../apdu/logical-channel.ts';

/** Class byte with proprietary bit `0x80` (or not, for ISO commands) on `channel`. */
export function claForChannel(proprietary: boolean, channel: number, secureMessaging = false): number {
  const cla = moveToChannel(proprietary ? 0x80 : 0x00, channel);
  return secureMessaging ? withSecureMessaging(cla) : cla;
}

/** Set the GP secure messaging indication, keeping the logical channel. */
export function withSecureMessaging(cla: number): number {
  return cla & 0x40 ? cla | 0x20 : cla | 0x04;
}

/** Clear any secure messaging indication, keeping the logical channel. */
export function withoutSecureMessaging(cla: number): number {
  return cla & 0x40 ? cla & ~0x20 & 0xff : cla & ~0x0c & 0xff;
}

/** Class byte as covered by a C-MAC: channel zero, GP secure messaging bit set, chaining bit kept. */
export function macCla(cla: number): number {
  return (cla & 0x90) | 0x04;
}

/** Class byte of the "stripped" command (SCP02 R-MAC, E.4.5): channel zero, no secure messaging. */
export function strippedCla(cla: number): number {
  return cla & 0x90;
}

/** Lc as it is encoded on the wire: one byte in short form, `00 hi lo` in extended form. */
export function lcBytes(nc: number, extended: boolean): Uint8Array {
  if (nc === 0) return new Uint8Array(0);
  return extended ? Uint8Array.of(0, nc >> 8, nc & 0xff) : Uint8Array.of(nc);
}

/** Will a command with `nc` data bytes be encoded in extended form, given the plain command's form? */
export function isExtended(plain: CommandApdu, nc: number): boolean {
  return plain.extended === true || nc > 255 || (plain.le !== undefined && plain.le > 256);
}

/**
 * Encode the protected form of `plain` with a new class byte and data field, keeping Le and the
 * length form of the plain command. A short plain command whose protected data no longer fits a
 * short APDU is a caller's mistake (RangeError): the caller must send it in extended form or shorter.
 */
export function encodeProtected(plain: CommandApdu, cla: number, data: Uint8Array): Uint8Array {
  const plainExtended = isExtended(plain, plain.data.length);
  if (!plainExtended && data.length > 255) {
    throw new RangeError(
      `protected command data (${data.length} bytes) no longer fits a short APDU; send ${plain.data.length} bytes in extended form or fewer bytes`,
    );
  }
  return encodeCommand({
    cla,
    ins: plain.ins,
    p1: plain.p1,
    p2: plain.p2,
    data,
    ...(plain.le === undefined ? {} : { le: plain.le }),
    ...(plainExtended ? { extended: true } : {}),
  });
}

/** Split a response APDU into data and SW without copying; throws RangeError when shorter than 2 bytes. */
export function splitResponse(rapdu: Uint8Array): { data: Uint8Array; sw: number } {
  if (rapdu.length < 2) throw new RangeError('response APDU shorter than SW1 SW2');
  return { data: rapdu.subarray(0, rapdu.length - 2), sw: (rapdu[rapdu.length - 2]! << 8) | rapdu[rapdu.length - 1]! };
}

/** Concatenate data and a status word into a response APDU. */
export function joinResponse(data: Uint8Array, sw: number, extra?: Uint8Array): Uint8Array {
  const extraLength = extra === undefined ? 0 : extra.length;
  const out = new Uint8Array(data.length + extraLength + 2);
  out.set(data);
  if (extra !== undefined) out.set(extra, data.length);
  out[out.length - 2] = (sw >> 8) & 0xff;
  out[out.length - 1] = sw & 0xff;
  return out;
}

/** A status word alone, as a response APDU. */
export function swOnly(sw: number): Uint8Array {
  return Uint8Array.of((sw >> 8) & 0xff, sw & 0xff);
}

/** Card side: decode a protected command; a malformed one is a secure messaging error with SW 6700. */
export function decodeProtectedCommand(bytes: Uint8Array): CommandApdu {
  try {
    return decodeCommand(bytes);
  } catch (e) {
    if (e instanceof CodecError) throw new SecureChannelError('BAD_COMMAND', e.message, SW.WRONG_LENGTH, { cause: e });
    throw e;
  }
}
