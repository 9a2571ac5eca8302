/**
 * Which C-APDUs a caller of the OTA admin API may send to a card (issue 8 §4), sans IO.
 *
 * The issuer owns the card: its scripts pass unchanged. A provider reaches only the applications the issuer
 * granted it on that card (its SSDs, by AID — `grants`), plus one explicitly listed probe its asymmetric flow
 * needs before it has an SSD (provider/asymmetric/flow.ts step `probe`):
 *   - SELECT the ISD (A000000151000000), then only GET DATA '5A' (the ICCID) to it;
 *   - SELECT of any other AID, answered with its status word only (does an application with this AID exist?) —
 *     nothing may be sent to an application selected that way.
 * Every command after a SELECT goes to the selected application: it is allowed when that application was
 * granted. Across scripts the selection on the basic logical channel is tracked per card from what the card
 * answered (`SelectionTracker`); a script that starts without a SELECT goes to the tracked application, and an
 * unknown selection (a failed SELECT, a script that broke off, a script with a targeted application) allows
 * nothing but a new SELECT. Refused for providers: logical channels other than the basic one, MANAGE CHANNEL,
 * SELECT by anything but the full AID (P1 ≠ '04', next occurrence, a partial or empty AID), a targeted
 * application (X-Admin-Targeted-Application) — every other way to reach an application.
 * ISO/IEC 7816-4 §5.1.1 (CLA and logical channels), §11.1.1 (SELECT); GP Card Spec 2.3.1 §11.9 (SELECT).
 */
import { toHex } from '../../core/bytes.ts';
import { decodeCommand } from '../../apdu/command.ts';

export const PROBE_ISD_AID = 'A000000151000000';
const INS_SELECT = 0xa4;
const INS_MANAGE_CHANNEL = 0x70;
const INS_GET_DATA = 0xca;

/** What the card has selected on the basic channel: an AID (upper-case hex), or unknown. */
export type Selection = { readonly kind: 'aid'; readonly aid: string } | { readonly kind: 'unknown' };
export const UNKNOWN: Selection = Object.freeze({ kind: 'unknown' });

export interface ScopeRefusal {
  /** Index of the refused command in the script. */
  readonly index: number;
  readonly reason: string;
}

export interface ScopeDecision {
  /** The first refused command, or undefined when the whole script may be sent. */
  readonly refusal?: ScopeRefusal;
  /** Indices of SELECTs answered with their status word only (existence probes). */
  readonly probes: readonly number[];
}

/** The logical channel a CLA byte addresses (ISO/IEC 7816-4 §5.1.1), or -1 for an invalid/proprietary CLA. */
export function logicalChannelOf(cla: number): number {
  if (cla === 0xff) return -1;
  return (cla & 0x40) === 0 ? cla & 0x03 : 4 + (cla & 0x0f);
}

/**
 * Check a provider's script against its grants on the card, with the card's tracked selection before it.
 * Pre-flight: every SELECT is assumed to succeed (a script stops at its first error status word).
 */
export function checkProviderScript(apdus: readonly Uint8Array[], grants: ReadonlySet<string>, before: Selection, targetAid?: Uint8Array): ScopeDecision {
  if (targetAid !== undefined) return { refusal: { index: -1, reason: 'a provider may not target an application (X-Admin-Targeted-Application)' }, probes: [] };
  let selected = before;
  const probes: number[] = [];
  for (const [index, bytes] of apdus.entries()) {
    const c = decodeCommand(bytes);
    const refuse = (reason: string): ScopeDecision => ({ refusal: { index, reason }, probes });
    if (logicalChannelOf(c.cla) !== 0) return refuse(`CLA ${hex1(c.cla)} addresses another logical channel than the basic one`);
    if (c.ins === INS_MANAGE_CHANNEL) return refuse('MANAGE CHANNEL is not allowed');
    if (c.ins === INS_SELECT) {
      if (c.p1 !== 0x04) return refuse(`SELECT with P1 ${hex1(c.p1)}: only SELECT by the full AID (P1 '04') is allowed`);
      if ((c.p2 & 0x03) !== 0) return refuse(`SELECT with P2 ${hex1(c.p2)}: only the first occurrence is allowed`);
      if (c.data.length < 5 || c.data.length > 16) return refuse('SELECT without a full AID (5 to 16 bytes)');
      const aid = toHex(c.data).toUpperCase();
      selected = { kind: 'aid', aid };
      if (!grants.has(aid)) probes.push(index);
      continue;
    }
    if (selected.kind === 'unknown') return refuse('no application of this provider is selected: the script must SELECT one first');
    if (grants.has(selected.aid)) continue;
    if (selected.aid === PROBE_ISD_AID && isGetDataIccid(c)) continue;
    return refuse(`application ${selected.aid} is not this provider's on this card`);
  }
  return { probes };
}

function isGetDataIccid(c: { cla: number; ins: number; p1: number; p2: number; data: Uint8Array }): boolean {
  return (c.cla === 0x00 || c.cla === 0x80) && c.ins === INS_GET_DATA && c.p1 === 0x00 && c.p2 === 0x5a && c.data.length === 0;
}

function hex1(b: number): string {
  return `'${b.toString(16).toUpperCase().padStart(2, '0')}'`;
}

function swOf(r: Uint8Array | undefined): number {
  return r === undefined || r.length < 2 ? -1 : (r[r.length - 2]! << 8) | r[r.length - 1]!;
}

/** The DF name (tag '84') of a SELECT answer's FCI ('6F'), upper-case hex, or undefined. */
function dfNameOf(r: Uint8Array): string | undefined {
  if (r.length < 4 || r[0] !== 0x6f) return undefined;
  let i = r[1]! & 0x80 ? 2 + (r[1]! & 0x7f) : 2;
  const end = r.length - 2;
  while (i + 2 <= end) {
    const tag = r[i]!;
    const len = r[i + 1]!;
    if (len & 0x80) return undefined;
    if (tag === 0x84) return i + 2 + len <= end ? toHex(r.subarray(i + 2, i + 2 + len)).toUpperCase() : undefined;
    i += 2 + len;
  }
  return undefined;
}

/** The selection on the card after `apdus` were answered with `responses` (issuer and provider scripts alike). */
export function selectionAfter(before: Selection, apdus: readonly Uint8Array[], responses: readonly Uint8Array[], targeted: boolean): Selection {
  let selected = targeted ? UNKNOWN : before;
  for (const [n, bytes] of apdus.entries()) {
    const r = responses[n];
    if (r === undefined) return UNKNOWN; // not executed: the script broke off
    let c;
    try {
      c = decodeCommand(bytes);
    } catch {
      return UNKNOWN;
    }
    if (logicalChannelOf(c.cla) !== 0 && c.ins !== INS_SELECT) continue;
    if (c.ins === INS_MANAGE_CHANNEL || (c.ins === INS_SELECT && logicalChannelOf(c.cla) !== 0)) continue; // other channels
    if (c.ins !== INS_SELECT) continue;
    const sw = swOf(r);
    if (c.p1 !== 0x04 || (c.p2 & 0x03) !== 0 || (sw !== 0x9000 && sw !== 0x6283)) {
      selected = UNKNOWN;
      continue;
    }
    const asked = toHex(c.data).toUpperCase();
    const named = dfNameOf(r);
    // A partial AID could select another application: trust only an FCI naming the AID asked for.
    selected = named === undefined || named === asked ? { kind: 'aid', aid: asked } : UNKNOWN;
  }
  return selected;
}

/** The tracked selection of each card, as seen by the OTA admin API. */
export class SelectionTracker {
  readonly #byDevice = new Map<string, Selection>();

  get(deviceId: string): Selection {
    return this.#byDevice.get(deviceId) ?? UNKNOWN;
  }

  /** After a script came back: what the card now has selected. */
  answered(deviceId: string, apdus: readonly Uint8Array[], responses: readonly Uint8Array[], targeted: boolean): void {
    this.#byDevice.set(deviceId, selectionAfter(this.get(deviceId), apdus, responses, targeted));
  }

  /** A script whose outcome is unknown (timeout, lost session): nothing is known of the selection. */
  lost(deviceId: string): void {
    this.#byDevice.set(deviceId, UNKNOWN);
  }
}
