/**
 * Which privileges an application or Security Domain may be given (GPCS 2.3.1 §6.6.1, §6.6.2, Tables 11-7 to
 * 11-9): Security Domain-only privileges, Authorized vs Delegated Management, Card Reset on INSTALL.
 */
import { decodePrivileges, encodePrivileges, type PrivilegeName } from '../../gp/index.ts';
import { toHex } from '../../core/bytes.ts';
import { SW, SwError } from '../errors.ts';

/** Privileges that only a Security Domain can hold. */
const SD_ONLY: readonly PrivilegeName[] = [
  'DAPVerification',
  'DelegatedManagement',
  'MandatedDAPVerification',
  'TrustedPath',
  'AuthorizedManagement',
  'TokenVerification',
  'ReceiptGeneration',
  'CipheredLoadFileDataBlock',
];

/**
 * Decode privileges from an INSTALL command (1 or 3 bytes; the one-byte form gets zero bytes 2 and 3,
 * §11.5.2.3.2 note) and check them against what is being installed. Returns the 3-byte hex form.
 * Throws `SwError(6A80)` for a combination the card refuses.
 */
export function checkedPrivileges(bytes: Uint8Array, isSecurityDomain: boolean): { hex: string; set: Set<PrivilegeName> } {
  let set: Set<PrivilegeName>;
  try {
    set = decodePrivileges(bytes);
  } catch {
    throw new SwError(SW.INCORRECT_DATA, 'bad privileges');
  }
  if (set.has('SecurityDomain') !== isSecurityDomain) {
    throw new SwError(SW.INCORRECT_DATA, isSecurityDomain ? 'a Security Domain needs the Security Domain privilege' : 'an application cannot hold the Security Domain privilege');
  }
  if (!isSecurityDomain && SD_ONLY.some((p) => set.has(p))) throw new SwError(SW.INCORRECT_DATA, 'privilege reserved to Security Domains');
  if (set.has('AuthorizedManagement') && set.has('DelegatedManagement')) {
    throw new SwError(SW.INCORRECT_DATA, 'Authorized and Delegated Management exclude each other');
  }
  const hex = toHex(encodePrivileges(set, 3));
  return { hex, set };
}
