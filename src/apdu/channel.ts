/**
 * The transport-neutral card channel every layer above `apdu` talks to
 * (ISO/IEC 7816-3 §12: one command APDU in, one response APDU out).
 * In-process simulator, vpcd/pcscd, PC/SC readers and OTA all implement it.
 */

export interface CardChannel {
  /** Send one C-APDU and return the R-APDU (data followed by SW1 SW2) as raw bytes. */
  transmit(command: Uint8Array): Promise<Uint8Array>;
  /** Release the card or the connection; idempotent where implemented. */
  close?(): Promise<void>;
}
