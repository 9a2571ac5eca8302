/**
 * Status words SW1 SW2: ISO/IEC 7816-4 §5.6 (Tables 5 and 6) and the GlobalPlatform
 * Card Specification 2.3.1 §11.1.3 (general error conditions) and the response tables of §11.
 * Pure data and naming, no I/O.
 */

/** Named status words. Values are `SW1 << 8 | SW2`. */
export const SW = Object.freeze({
  /** 9000 Normal processing: no further qualification. */
  NO_ERROR: 0x9000,
  /** 6200 Warning, state of non-volatile memory unchanged: no information given. */
  WARNING_NO_INFORMATION: 0x6200,
  /** 6281 Part of returned data may be corrupted. */
  PART_OF_DATA_CORRUPTED: 0x6281,
  /** 6282 End of file or record reached before reading Ne bytes. */
  END_OF_FILE: 0x6282,
  /**
   * 6283 Selected file invalidated (ISO); GlobalPlatform SELECT: the card life cycle state is
   * CARD_LOCKED or the application is locked.
   */
  SELECTED_FILE_INVALIDATED: 0x6283,
  /** 6300 Warning, non-volatile memory changed (ISO); GlobalPlatform EXTERNAL AUTHENTICATE: host cryptogram rejected. */
  AUTHENTICATION_FAILED: 0x6300,
  /** 6310 More data available (GlobalPlatform GET STATUS / GET DATA: issue the command again with P2 'next'). */
  MORE_DATA_AVAILABLE: 0x6310,
  /** 6400 Execution error, state of non-volatile memory unchanged: no information given. */
  EXECUTION_ERROR: 0x6400,
  /** 6581 Memory failure. */
  MEMORY_FAILURE: 0x6581,
  /** 6700 Wrong length; no further indication. */
  WRONG_LENGTH: 0x6700,
  /** 6881 Logical channel not supported (or not open). */
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  /** 6882 Secure messaging not supported. */
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  /** 6883 Last command of the chain expected. */
  LAST_COMMAND_OF_CHAIN_EXPECTED: 0x6883,
  /** 6884 Command chaining not supported. */
  COMMAND_CHAINING_NOT_SUPPORTED: 0x6884,
  /** 6982 Security status not satisfied. */
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  /** 6983 Authentication method blocked. */
  AUTHENTICATION_METHOD_BLOCKED: 0x6983,
  /** 6984 Reference data not usable. */
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  /** 6985 Conditions of use not satisfied. */
  CONDITIONS_NOT_SATISFIED: 0x6985,
  /** 6986 Command not allowed (no current EF). */
  COMMAND_NOT_ALLOWED: 0x6986,
  /** 6987 Expected secure messaging data objects missing. */
  SM_DATA_OBJECTS_MISSING: 0x6987,
  /** 6988 Incorrect secure messaging data objects. */
  SM_DATA_OBJECTS_INCORRECT: 0x6988,
  /** 6999 Applet selection failed (Java Card `ISO7816.SW_APPLET_SELECT_FAILED`). */
  APPLET_SELECT_FAILED: 0x6999,
  /** 6A80 Incorrect parameters in the command data field. */
  WRONG_DATA: 0x6a80,
  /** 6A81 Function not supported. */
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  /** 6A82 File or application not found. */
  FILE_NOT_FOUND: 0x6a82,
  /** 6A83 Record not found. */
  RECORD_NOT_FOUND: 0x6a83,
  /** 6A84 Not enough memory space in the file. */
  NOT_ENOUGH_MEMORY: 0x6a84,
  /** 6A85 Nc inconsistent with TLV structure. */
  NC_INCONSISTENT_WITH_TLV: 0x6a85,
  /** 6A86 Incorrect parameters P1-P2. */
  INCORRECT_P1P2: 0x6a86,
  /** 6A87 Nc inconsistent with parameters P1-P2. */
  NC_INCONSISTENT_WITH_P1P2: 0x6a87,
  /** 6A88 Referenced data or reference data not found. */
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  /** 6A89 File already exists. */
  FILE_ALREADY_EXISTS: 0x6a89,
  /** 6A8A DF name already exists. */
  DF_NAME_ALREADY_EXISTS: 0x6a8a,
  /** 6B00 Wrong parameters P1-P2. */
  WRONG_P1P2: 0x6b00,
  /** 6D00 Instruction code not supported or invalid. */
  INS_NOT_SUPPORTED: 0x6d00,
  /** 6E00 Class not supported. */
  CLA_NOT_SUPPORTED: 0x6e00,
  /** 6F00 No precise diagnosis. */
  NO_PRECISE_DIAGNOSIS: 0x6f00,
  /** 9484 GlobalPlatform: algorithm not supported. */
  ALGORITHM_NOT_SUPPORTED: 0x9484,
  /** 9485 GlobalPlatform: invalid key check value. */
  INVALID_KEY_CHECK_VALUE: 0x9485,
} as const);

export type SwName = keyof typeof SW;

const NAMES: ReadonlyMap<number, string> = new Map([
  [SW.NO_ERROR, 'success'],
  [SW.WARNING_NO_INFORMATION, 'warning: no information given'],
  [SW.PART_OF_DATA_CORRUPTED, 'warning: part of returned data may be corrupted'],
  [SW.END_OF_FILE, 'warning: end of file or record reached before reading Ne bytes'],
  [SW.SELECTED_FILE_INVALIDATED, 'warning: selected file invalidated or card locked'],
  [SW.AUTHENTICATION_FAILED, 'warning: authentication failed, no information given'],
  [SW.MORE_DATA_AVAILABLE, 'more data available'],
  [SW.EXECUTION_ERROR, 'execution error, no information given'],
  [SW.MEMORY_FAILURE, 'memory failure'],
  [SW.WRONG_LENGTH, 'wrong length'],
  [SW.LOGICAL_CHANNEL_NOT_SUPPORTED, 'logical channel not supported'],
  [SW.SECURE_MESSAGING_NOT_SUPPORTED, 'secure messaging not supported'],
  [SW.LAST_COMMAND_OF_CHAIN_EXPECTED, 'last command of the chain expected'],
  [SW.COMMAND_CHAINING_NOT_SUPPORTED, 'command chaining not supported'],
  [SW.SECURITY_STATUS_NOT_SATISFIED, 'security status not satisfied'],
  [SW.AUTHENTICATION_METHOD_BLOCKED, 'authentication method blocked'],
  [SW.REFERENCE_DATA_NOT_USABLE, 'reference data not usable'],
  [SW.CONDITIONS_NOT_SATISFIED, 'conditions of use not satisfied'],
  [SW.COMMAND_NOT_ALLOWED, 'command not allowed'],
  [SW.SM_DATA_OBJECTS_MISSING, 'expected secure messaging data objects missing'],
  [SW.SM_DATA_OBJECTS_INCORRECT, 'incorrect secure messaging data objects'],
  [SW.APPLET_SELECT_FAILED, 'applet selection failed'],
  [SW.WRONG_DATA, 'incorrect parameters in the command data field'],
  [SW.FUNCTION_NOT_SUPPORTED, 'function not supported'],
  [SW.FILE_NOT_FOUND, 'file or application not found'],
  [SW.RECORD_NOT_FOUND, 'record not found'],
  [SW.NOT_ENOUGH_MEMORY, 'not enough memory space'],
  [SW.NC_INCONSISTENT_WITH_TLV, 'Nc inconsistent with TLV structure'],
  [SW.INCORRECT_P1P2, 'incorrect parameters P1-P2'],
  [SW.NC_INCONSISTENT_WITH_P1P2, 'Nc inconsistent with parameters P1-P2'],
  [SW.REFERENCED_DATA_NOT_FOUND, 'referenced data not found'],
  [SW.FILE_ALREADY_EXISTS, 'file already exists'],
  [SW.DF_NAME_ALREADY_EXISTS, 'DF name already exists'],
  [SW.WRONG_P1P2, 'wrong parameters P1-P2'],
  [SW.INS_NOT_SUPPORTED, 'instruction not supported'],
  [SW.CLA_NOT_SUPPORTED, 'class not supported'],
  [SW.NO_PRECISE_DIAGNOSIS, 'no precise diagnosis'],
  [SW.ALGORITHM_NOT_SUPPORTED, 'algorithm not supported'],
  [SW.INVALID_KEY_CHECK_VALUE, 'invalid key check value'],
]);

function hex4(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** SW1 of a status word. */
export function sw1(sw: number): number {
  return (sw >> 8) & 0xff;
}

/** SW2 of a status word. */
export function sw2(sw: number): number {
  return sw & 0xff;
}

/** 9000 only. */
export function isSuccess(sw: number): boolean {
  return sw === SW.NO_ERROR;
}

/** Warning processing (SW1 62 or 63): the command was processed, with a qualification. */
export function isWarning(sw: number): boolean {
  const s1 = sw1(sw);
  return s1 === 0x62 || s1 === 0x63;
}

/**
 * Human-readable name, prefixed with the status word in hex:
 * `swName(0x6a82) === '6A82 file or application not found'`.
 * Parameterised statuses (61xx, 6Cxx, 63Cx) include their value.
 */
export function swName(sw: number): string {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) throw new RangeError(`swName: ${sw} is not a status word`);
  const head = hex4(sw);
  const known = NAMES.get(sw);
  if (known !== undefined) return `${head} ${known}`;
  const s1 = sw1(sw);
  const s2 = sw2(sw);
  if (s1 === 0x61) return `${head} ${s2 === 0 ? 256 : s2} response bytes still available`;
  if (s1 === 0x6c) return `${head} wrong Le, ${s2 === 0 ? 256 : s2} bytes available`;
  if (s1 === 0x63 && (s2 & 0xf0) === 0xc0) return `${head} verification failed, ${s2 & 0x0f} tries left`;
  if (s1 === 0x62 || s1 === 0x63) return `${head} warning`;
  if (s1 === 0x64 || s1 === 0x65) return `${head} execution error`;
  if (s1 === 0x67) return `${head} wrong length`;
  if (s1 === 0x68) return `${head} functions in CLA not supported`;
  if (s1 === 0x69) return `${head} command not allowed`;
  if (s1 === 0x6a) return `${head} wrong parameters P1-P2`;
  return `${head} unknown status`;
}
