/**
 * Logical channel number in the class byte: ISO/IEC 7816-4 §5.4.1 (Table 2 first interindustry
 * class, channels 0–3; Table 3 further interindustry class, channels 4–19) and the GlobalPlatform
 * Card Specification 2.3.1 §11.1.4 (Tables 11-11 and 11-12: the same layouts with b8 = 1).
 *
 * First interindustry:   b8 (GP) 0 0 b5=chaining b4b3=SM b2b1=channel
 * Further interindustry: b8 (GP) 1 b6=SM b5=chaining b4..b1=channel-4
 */
import { CodecError } from '../core/errors.ts';

/** b5: command chaining, "not the last command of a chain" (both class layouts). */
export const CLA_CHAINING = 0x10;

function isRfu(cla: number): boolean {
  // 001x xxxx is reserved for future use; FF is invalid (it is the PPS byte).
  return cla === 0xff || (cla & 0xe0) === 0x20;
}

/** True when `cla` uses the further interindustry layout (channels 4–19). */
export function isFurtherInterindustry(cla: number): boolean {
  return (cla & 0x40) !== 0;
}

/** True when the class byte carries a secure messaging indication. */
export function hasSecureMessaging(cla: number): boolean {
  return isFurtherInterindustry(cla) ? (cla & 0x20) !== 0 : (cla & 0x0c) !== 0;
}

/**
 * The logical channel (0–19) a class byte addresses.
 * Throws `CodecError('BAD_VALUE')` for the reserved classes 20–3F and FF (bytes from outside).
 * Proprietary classes (80–FE) are read with the same layouts, as GlobalPlatform does.
 */
export function channelFromCla(cla: number): number {
  if (!Number.isInteger(cla) || cla < 0 || cla > 0xff) throw new RangeError(`cla: ${cla} is not a byte`);
  if (isRfu(cla)) throw new CodecError('BAD_VALUE', `class byte ${cla.toString(16).toUpperCase().padStart(2, '0')} is reserved`, 0);
  return isFurtherInterindustry(cla) ? (cla & 0x0f) + 4 : cla & 0x03;
}

/**
 * The class byte `cla` moved to logical channel `channel` (0–19), keeping its proprietary bit (b8),
 * chaining bit (b5) and secure messaging indication. Moving between layouts maps SM as:
 * any first-layout SM (b4b3 ≠ 00) ↔ further-layout b6 = 1, which maps back to b4b3 = 01
 * (GlobalPlatform proprietary SM) for a proprietary class and 10 (ISO SM) for an interindustry one.
 */
export function claForChannel(cla: number, channel: number): number {
  if (!Number.isInteger(cla) || cla < 0 || cla > 0xff) throw new RangeError(`cla: ${cla} is not a byte`);
  if (!Number.isInteger(channel) || channel < 0 || channel > 19) throw new RangeError(`channel: ${channel} not in 0..19`);
  if (isRfu(cla)) throw new RangeError(`cla: ${cla.toString(16)} is a reserved class`);
  const proprietary = cla & 0x80;
  const chaining = cla & CLA_CHAINING;
  const further = isFurtherInterindustry(cla);
  if (channel < 4) {
    let sm = further ? 0 : cla & 0x0c;
    if (further && (cla & 0x20) !== 0) sm = proprietary !== 0 ? 0x04 : 0x08;
    return proprietary | chaining | sm | channel;
  }
  const sm = hasSecureMessaging(cla) ? 0x20 : 0;
  const out = proprietary | 0x40 | sm | chaining | (channel - 4);
  // A proprietary class with SM and chaining on channel 19 would be FF, which is not a class.
  if (out === 0xff) throw new RangeError('cla: a chained proprietary SM command cannot use channel 19 (CLA FF)');
  return out;
}
