/**
 * Privileges (GP Card Specification 2.3.1 §6.6 and §11.1.2, Tables 11-7, 11-8, 11-9).
 *
 * Three bytes; the one-byte form of older cards is byte 1 alone (§11.5.2.3.2 note: the card assigns
 * defaults to the other bytes). In byte 1 some privileges share bits: DAP Verification is b8+b7 with b1=0,
 * Mandated DAP Verification is b8+b7+b1, Delegated Management is b8+b6 — all imply Security Domain (b8).
 */
import { GpError } from './errors.ts';

export type PrivilegeName =
  | 'SecurityDomain'
  | 'DAPVerification'
  | 'DelegatedManagement'
  | 'CardLock'
  | 'CardTerminate'
  | 'CardReset'
  | 'CVMManagement'
  | 'MandatedDAPVerification'
  | 'TrustedPath'
  | 'AuthorizedManagement'
  | 'TokenVerification'
  | 'GlobalDelete'
  | 'GlobalLock'
  | 'GlobalRegistry'
  | 'FinalApplication'
  | 'GlobalService'
  | 'ReceiptGeneration'
  | 'CipheredLoadFileDataBlock'
  | 'ContactlessActivation'
  | 'ContactlessSelfActivation';

/** A set of privileges. */
export type Privileges = ReadonlySet<PrivilegeName>;

export interface PrivilegeInfo {
  readonly name: PrivilegeName;
  /** Privilege number (Tables 11-7..11-9). */
  readonly number: number;
  /** Short name for command lines, e.g. `sd`, `am`. */
  readonly short: string;
  /** Byte index 0..2. */
  readonly byte: 0 | 1 | 2;
  /** Bits that are set when this privilege is granted. */
  readonly bits: number;
  /** Human-readable name as in the spec. */
  readonly title: string;
}

/** All privileges in privilege-number order. */
export const PRIVILEGES: readonly PrivilegeInfo[] = Object.freeze([
  { name: 'SecurityDomain', number: 0, short: 'sd', byte: 0, bits: 0x80, title: 'Security Domain' },
  { name: 'DAPVerification', number: 1, short: 'dap', byte: 0, bits: 0xc0, title: 'DAP Verification' },
  { name: 'DelegatedManagement', number: 2, short: 'dm', byte: 0, bits: 0xa0, title: 'Delegated Management' },
  { name: 'CardLock', number: 3, short: 'cl', byte: 0, bits: 0x10, title: 'Card Lock' },
  { name: 'CardTerminate', number: 4, short: 'ct', byte: 0, bits: 0x08, title: 'Card Terminate' },
  { name: 'CardReset', number: 5, short: 'cr', byte: 0, bits: 0x04, title: 'Card Reset' },
  { name: 'CVMManagement', number: 6, short: 'cm', byte: 0, bits: 0x02, title: 'CVM Management' },
  { name: 'MandatedDAPVerification', number: 7, short: 'mdap', byte: 0, bits: 0xc1, title: 'Mandated DAP Verification' },
  { name: 'TrustedPath', number: 8, short: 'tp', byte: 1, bits: 0x80, title: 'Trusted Path' },
  { name: 'AuthorizedManagement', number: 9, short: 'am', byte: 1, bits: 0x40, title: 'Authorized Management' },
  { name: 'TokenVerification', number: 10, short: 'tv', byte: 1, bits: 0x20, title: 'Token Verification' },
  { name: 'GlobalDelete', number: 11, short: 'gd', byte: 1, bits: 0x10, title: 'Global Delete' },
  { name: 'GlobalLock', number: 12, short: 'gl', byte: 1, bits: 0x08, title: 'Global Lock' },
  { name: 'GlobalRegistry', number: 13, short: 'gr', byte: 1, bits: 0x04, title: 'Global Registry' },
  { name: 'FinalApplication', number: 14, short: 'fa', byte: 1, bits: 0x02, title: 'Final Application' },
  { name: 'GlobalService', number: 15, short: 'gs', byte: 1, bits: 0x01, title: 'Global Service' },
  { name: 'ReceiptGeneration', number: 16, short: 'rg', byte: 2, bits: 0x80, title: 'Receipt Generation' },
  { name: 'CipheredLoadFileDataBlock', number: 17, short: 'clfdb', byte: 2, bits: 0x40, title: 'Ciphered Load File Data Block' },
  { name: 'ContactlessActivation', number: 18, short: 'ca', byte: 2, bits: 0x20, title: 'Contactless Activation' },
  { name: 'ContactlessSelfActivation', number: 19, short: 'csa', byte: 2, bits: 0x10, title: 'Contactless Self-Activation' },
] satisfies PrivilegeInfo[]);

const BY_NAME = new Map<string, PrivilegeInfo>();
for (const p of PRIVILEGES) {
  BY_NAME.set(p.name.toLowerCase(), p);
  BY_NAME.set(p.short, p);
}

/** Map of short name → privilege name, for help texts. */
export function privilegeShortNames(): Record<string, PrivilegeName> {
  const out: Record<string, PrivilegeName> = {};
  for (const p of PRIVILEGES) out[p.short] = p.name;
  return out;
}

/**
 * Encode privileges to three bytes (default) or to the legacy one-byte form.
 * Throws `RangeError` when DAP Verification and Mandated DAP Verification are both asked for
 * (they share bits, Table 11-7), or when a byte-2/3 privilege is asked for in the one-byte form.
 */
export function encodePrivileges(privileges: Iterable<PrivilegeName>, length: 1 | 3 = 3): Uint8Array {
  const out = new Uint8Array(3);
  const set = new Set(privileges);
  if (set.has('DAPVerification') && set.has('MandatedDAPVerification')) {
    throw new RangeError('DAP Verification and Mandated DAP Verification are exclusive (GP 2.3.1 Table 11-7)');
  }
  for (const name of set) {
    const p = BY_NAME.get(name.toLowerCase());
    if (!p || p.name !== name) throw new RangeError(`unknown privilege ${JSON.stringify(name)}`);
    out[p.byte]! |= p.bits;
  }
  if (length === 1) {
    if (out[1] !== 0 || out[2] !== 0) throw new RangeError('privileges of bytes 2 and 3 do not fit the one-byte form');
    return out.slice(0, 1);
  }
  if (length !== 3) throw new RangeError('privileges are coded on 1 or 3 bytes');
  return out;
}

/**
 * Decode one or three privilege bytes from outside. RFU bits (byte 3 b4..b1) are ignored (§11.1).
 * Throws `GpError('BAD_PRIVILEGES')` for a wrong length or for bits that need b8 (Security Domain)
 * or b7 without them.
 */
export function decodePrivileges(bytes: Uint8Array): Set<PrivilegeName> {
  if (bytes.length !== 1 && bytes.length !== 3) {
    throw new GpError('BAD_PRIVILEGES', `privileges are 1 or 3 bytes, got ${bytes.length}`);
  }
  const b1 = bytes[0]!;
  const b2 = bytes.length === 3 ? bytes[1]! : 0;
  const b3 = bytes.length === 3 ? bytes[2]! : 0;
  const out = new Set<PrivilegeName>();
  const sd = (b1 & 0x80) !== 0;
  if ((b1 & 0x40) !== 0 && !sd) throw new GpError('BAD_PRIVILEGES', 'DAP bit (b7) without Security Domain (b8)');
  if ((b1 & 0x20) !== 0 && !sd) throw new GpError('BAD_PRIVILEGES', 'Delegated Management bit (b6) without Security Domain (b8)');
  if ((b1 & 0x01) !== 0 && (b1 & 0xc0) !== 0xc0) {
    throw new GpError('BAD_PRIVILEGES', 'Mandated DAP bit (b1) without b8 and b7');
  }
  if (sd) out.add('SecurityDomain');
  if ((b1 & 0xc0) === 0xc0) out.add((b1 & 0x01) !== 0 ? 'MandatedDAPVerification' : 'DAPVerification');
  if ((b1 & 0x20) !== 0) out.add('DelegatedManagement');
  for (const p of PRIVILEGES) {
    if (p.byte === 0 && (p.bits & 0x80) === 0 && (b1 & p.bits) !== 0) out.add(p.name);
    if (p.byte === 1 && (b2 & p.bits) !== 0) out.add(p.name);
    if (p.byte === 2 && (b3 & p.bits) !== 0) out.add(p.name);
  }
  return out;
}

/**
 * Parse a command-line list such as `sd,cm,am,dm` (short names or full names, case-insensitive,
 * separated by commas, spaces or `|`). Security Domain is added when a privilege implies it.
 * Unknown names throw `GpError('BAD_PRIVILEGES')` (the list comes from a user).
 */
export function privilegesFromList(list: string): Set<PrivilegeName> {
  const out = new Set<PrivilegeName>();
  for (const word of list.split(/[\s,|]+/)) {
    if (word === '') continue;
    const p = BY_NAME.get(word.toLowerCase());
    if (!p) throw new GpError('BAD_PRIVILEGES', `unknown privilege ${JSON.stringify(word)}`);
    out.add(p.name);
    if (p.byte === 0 && (p.bits & 0x80) !== 0) out.add('SecurityDomain');
  }
  return out;
}

/** Names in privilege-number order, comma separated (for printing). */
export function formatPrivileges(privileges: Privileges, style: 'title' | 'short' | 'name' = 'title'): string {
  return PRIVILEGES.filter((p) => privileges.has(p.name))
    .map((p) => (style === 'title' ? p.title : style === 'short' ? p.short : p.name))
    .join(', ');
}

/** Membership test that reads well at call sites. */
export function hasPrivilege(privileges: Privileges, name: PrivilegeName): boolean {
  return privileges.has(name);
}
