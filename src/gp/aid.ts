/**
 * Application identifiers (ISO/IEC 7816-4 §8.2.1.2; GP Card Specification 2.3.1 §11.1: AIDs are 5–16 bytes)
 * and the AIDs GlobalPlatform and Java Card assign.
 */
import { fromHex, toHex, equalBytes } from '../core/bytes.ts';
import { GpError } from './errors.ts';

/** GlobalPlatform Issuer Security Domain (GP 2.3.1 §7.1.1, default ISD AID). */
export const ISD_AID: Uint8Array = fromHex('A000000151000000');
/** Same as `ISD_AID`. */
export const GP_ISD_AID: Uint8Array = ISD_AID;
/** Open Platform 2.0.1 / Visa card manager AID, still found on older cards. */
export const OP_ISD_AID: Uint8Array = fromHex('A000000003000000');
/** Executable Load File of the GlobalPlatform Security Domain ("SSD package"). */
export const SSD_PACKAGE_AID: Uint8Array = fromHex('A0000001515350');
/** Executable Module of the Security Domain in `SSD_PACKAGE_AID` ("SSD module"). */
export const SSD_MODULE_AID: Uint8Array = fromHex('A000000151535041');
/** Executable Module of an Authorized Management security domain found in the same package on many cards. */
export const AMSD_MODULE_AID: Uint8Array = fromHex('A000000151535043');
/** Java Card `java.lang` package. */
export const JAVA_LANG_AID: Uint8Array = fromHex('A0000000620001');
/** Java Card `javacard.framework` package. */
export const JAVACARD_FRAMEWORK_AID: Uint8Array = fromHex('A0000000620101');

/** Names of well-known AIDs, keyed by upper-case hex. */
export const WELL_KNOWN_AIDS: Readonly<Record<string, string>> = Object.freeze({
  A000000151000000: 'GlobalPlatform ISD',
  A000000003000000: 'Visa/OP card manager',
  A0000001515350: 'GlobalPlatform SSD package',
  A000000151535041: 'GlobalPlatform SSD module',
  A000000151535043: 'GlobalPlatform AMSD module',
  A0000000620001: 'java.lang',
  A0000000620002: 'java.io',
  A0000000620003: 'java.rmi',
  A0000000620101: 'javacard.framework',
  A000000062010101: 'javacard.framework.service',
  A0000000620102: 'javacard.security',
  A0000000620201: 'javacardx.crypto',
  A0000000620202: 'javacardx.biometry',
  A0000000620203: 'javacardx.external',
  A0000000620209: 'javacardx.apdu',
  A00000015100: 'org.globalplatform',
});

export const AID_MIN = 5;
export const AID_MAX = 16;

/** True when `aid` has 5–16 bytes. */
export function isValidAid(aid: Uint8Array): boolean {
  return aid instanceof Uint8Array && aid.length >= AID_MIN && aid.length <= AID_MAX;
}

/** Check a caller-supplied AID (a caller's mistake throws `RangeError`/`TypeError`) and return it. */
export function assertAid(aid: unknown, name = 'aid'): Uint8Array {
  if (!(aid instanceof Uint8Array)) throw new TypeError(`${name}: expected a Uint8Array`);
  if (!isValidAid(aid)) throw new RangeError(`${name}: an AID has 5..16 bytes, got ${aid.length}`);
  return aid;
}

/** Check an AID that came from outside: throws `GpError('BAD_AID')` (6A80). */
export function checkAid(aid: Uint8Array, name = 'AID'): Uint8Array {
  if (!isValidAid(aid)) throw new GpError('BAD_AID', `${name}: an AID has 5..16 bytes, got ${aid.length}`);
  return aid;
}

/** Parse a hex AID (from configuration or a CLI); throws `GpError('BAD_AID')` when not 5–16 bytes. */
export function aidFromHex(hex: string): Uint8Array {
  return checkAid(fromHex(hex));
}

/** Upper-case hex of an AID. */
export function aidToHex(aid: Uint8Array): string {
  return toHex(aid);
}

/** Well-known name of an AID, or `undefined`. */
export function aidName(aid: Uint8Array): string | undefined {
  return WELL_KNOWN_AIDS[toHex(aid)];
}

/** Byte equality of two AIDs. */
export function aidEquals(a: Uint8Array, b: Uint8Array): boolean {
  return equalBytes(a, b);
}

/**
 * GET STATUS / SELECT partial match (GP 2.3.1 §11.4.2.3: "all occurrences with the same RID"):
 * true when `aid` starts with `prefix`; an empty prefix matches everything.
 */
export function aidMatches(aid: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > aid.length) return false;
  for (let i = 0; i < prefix.length; i++) if (aid[i] !== prefix[i]) return false;
  return true;
}
