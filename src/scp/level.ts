/**
 * Security levels: P1 of EXTERNAL AUTHENTICATE.
 * SCP02: GPCS 2.2.1 Appendix E.5.2.3 Table E-11 (00, 01, 03, 10, 11, 13).
 * SCP03: Amendment D v1.2 §7.1.2.3 Table 7-6 (00, 01, 03, 11, 13, 33).
 * Whether the card supports R-MAC / R-ENCRYPTION at all is told by its "i" parameter
 * (SCP02 Table E-1 b6; SCP03 Table 5-1 b6 b7).
 */

/** No secure messaging expected (the session is AUTHENTICATED only). */
export const NO_SECURITY_LEVEL = 0x00;
export const C_MAC = 0x01;
export const C_DECRYPTION = 0x02;
export const R_MAC = 0x10;
export const R_ENCRYPTION = 0x20;

/** Named combinations (values of EXTERNAL AUTHENTICATE P1). */
export const SecurityLevel = Object.freeze({
  NONE: 0x00,
  C_MAC: 0x01,
  C_DEC_C_MAC: 0x03,
  R_MAC: 0x10,
  C_MAC_R_MAC: 0x11,
  C_DEC_C_MAC_R_MAC: 0x13,
  C_DEC_R_ENC_C_MAC_R_MAC: 0x33,
} as const);

const ALLOWED: Record<2 | 3, readonly number[]> = {
  2: [0x00, 0x01, 0x03, 0x10, 0x11, 0x13],
  3: [0x00, 0x01, 0x03, 0x11, 0x13, 0x33],
};

/** Is `level` one of the values the protocol's EXTERNAL AUTHENTICATE table allows? */
export function isValidSecurityLevel(scp: 2 | 3, level: number): boolean {
  return ALLOWED[scp].includes(level);
}

/** SCP02 "i" b6 (0x20): R-MAC support. SCP03 "i" b6 (0x20): R-MAC, b7 (0x40): R-ENCRYPTION. */
export function isLevelSupportedByI(scp: 2 | 3, level: number, i: number): boolean {
  if (!isValidSecurityLevel(scp, level)) return false;
  if (level & R_MAC && !(i & 0x20)) return false;
  if (scp === 3 && level & R_ENCRYPTION && !(i & 0x40)) return false;
  return true;
}

/** Caller-side check: throws RangeError unless `level` is allowed for the protocol. */
export function assertSecurityLevel(scp: 2 | 3, level: number): number {
  if (!Number.isInteger(level) || !isValidSecurityLevel(scp, level)) {
    throw new RangeError(
      `security level 0x${Number(level).toString(16)} is not allowed for SCP0${scp} (allowed: ${ALLOWED[scp]
        .map((l) => l.toString(16).padStart(2, '0'))
        .join(', ')})`,
    );
  }
  return level;
}

/** Maximum command data length (before protection) that still fits a short APDU at `level`. */
export function maxShortCommandData(scp: 2 | 3, level: number, s16 = false): number {
  const macLength = level & C_MAC ? (scp === 3 && s16 ? 16 : 8) : 0;
  const room = 255 - macLength;
  if (!(level & C_DECRYPTION)) return room;
  const block = scp === 3 ? 16 : 8;
  // Padding always adds at least one byte: the largest n with (floor(n/block)+1)*block <= room.
  return Math.floor(room / block) * block - 1;
}
