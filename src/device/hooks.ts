/**
 * Extension points of the phone for later issues; empty for now. Each is optional on `Device`.
 */

/** Service Provider Selector: the user's choice of provider (docs/architecture.md §4 flows 1–2). */
export interface SpsHook {}

/** NFC controller: routes contactless APDUs from a POS to the SE (card emulation). */
export interface NfcHook {}

/** Trusted commerce subsystem: e-bills, identity and payment tokens (§4 flow 7). */
export interface CommerceHook {}

export interface DeviceHooks {
  readonly sps?: SpsHook;
  readonly nfc?: NfcHook;
  readonly commerce?: CommerceHook;
}
