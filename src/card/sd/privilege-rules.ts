/**
 * Which privileges an application or Security Domain may be given (GPCS 2.3.1 §6.6.1, §6.6.2, Tables 11-7 to
 * 11-9): Security Domain-only privileges, the mutually exclusive pairs, and the two privileges that exactly one
 * entry holds at a time — Card Reset and Final Application — which the ISD holds by default, gives away only
 * while it holds them, and takes back when their holder is deleted or loses them.
 */
import { decodePrivileges, encodePrivileges, type PrivilegeName } from '../../gp/index.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { SW, SwError } from '../errors.ts';
import { isd } from '../registry.ts';
import type { CardState } from '../state.ts';

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
  // §6.6.2: "Token Verification and Delegated Management privileges are mutually exclusive", and so are
  // Receipt Generation and Delegated Management.
  if (set.has('DelegatedManagement') && (set.has('TokenVerification') || set.has('ReceiptGeneration'))) {
    throw new SwError(SW.INCORRECT_DATA, 'Delegated Management excludes Token Verification and Receipt Generation');
  }
  const hex = toHex(encodePrivileges(set, 3));
  return { hex, set };
}

/** Privileges held by exactly one entry at a time, with their byte index and bit (Tables 11-7, 11-8). */
const UNIQUE: ReadonlyArray<readonly [PrivilegeName, number, number]> = [
  ['CardReset', 0, 0x04],
  ['FinalApplication', 1, 0x02],
];

function setBit(state: CardState, aid: string, byte: number, bit: number, on: boolean): void {
  const app = state.apps.find((a) => a.aid === aid);
  if (!app) return;
  const b = fromHex(app.privileges);
  b[byte] = on ? b[byte]! | bit : b[byte]! & ~bit;
  app.privileges = toHex(b);
}

/**
 * Give `aid` the unique privileges (Card Reset, Final Application) of `wanted` that it does not hold yet
 * (§6.6.2): allowed only while the ISD holds the privilege — it then loses it; when another application holds
 * it, the privilege must first be freed (deletion or revocation) and the command is refused with 6985.
 * Call before changing anything else, so that a refusal leaves the draft untouched.
 */
export function claimUniquePrivileges(state: CardState, aid: string, wanted: ReadonlySet<PrivilegeName>): void {
  for (const [name, byte, bit] of UNIQUE) {
    if (!wanted.has(name)) continue;
    const holder = state.apps.find((a) => a.aid !== aid && (fromHex(a.privileges)[byte]! & bit) !== 0);
    if (holder && holder.aid !== state.isd) {
      throw new SwError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, `${name} is held by ${holder.aid}`);
    }
    if (holder) setBit(state, holder.aid, byte, bit, false);
  }
}

/** After a deletion or a revocation: whichever unique privilege nobody holds goes back to the ISD (§6.6.2, §7.1.1). */
export function restoreUniquePrivileges(state: CardState): void {
  for (const [, byte, bit] of UNIQUE) {
    if (!state.apps.some((a) => (fromHex(a.privileges)[byte]! & bit) !== 0)) setBit(state, isd(state).aid, byte, bit, true);
  }
}
