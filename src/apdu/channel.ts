/**
 * The transport-neutral card channel every layer above `apdu` talks to
 * (ISO/IEC 7816-3 §12: one command APDU in, one response APDU out).
 * In-process simulator, vpcd/pcscd, PC/SC readers and OTA all implement it.
 */

export interface CardChannel {
  /** Send one C-APDU and return the R-APDU (data followed by SW1 SW2) as raw bytes. */
  transmit(command: Uint8Array): Promise<Uint8Array>;
  /**
   * Send several C-APDUs as one script (one OTA exchange, one terminal round trip) where the transport can.
   * Same meaning as `transmitScript` below: executed in order, stopping after the first R-APDU whose status
   * word ends a script; returns the R-APDUs of the commands executed.
   */
  transmitScript?(commands: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** Release the card or the connection; idempotent where implemented. */
  close?(): Promise<void>;
}

/**
 * Does a script go on after a command answered `sw`? (ETSI TS 102 226 §5.2.1 as used by GlobalPlatform
 * Amendment B: processing stops at the first error; 9xxx, 61xx and the warnings 62xx/63xx continue, except
 * 62F1 "more data available and proactive command pending".)
 */
export function continuesScript(sw: number): boolean {
  if (sw === 0x62f1) return false;
  const sw1 = sw >> 8;
  return sw1 === 0x90 || sw1 === 0x91 || sw1 === 0x92 || sw1 === 0x61 || sw1 === 0x62 || sw1 === 0x63;
}

/** Send `commands` as one script through `channel` (its own `transmitScript`, or one by one with the same stop rule). */
export async function transmitScript(channel: CardChannel, commands: readonly Uint8Array[]): Promise<Uint8Array[]> {
  if (channel.transmitScript !== undefined) return channel.transmitScript(commands);
  const out: Uint8Array[] = [];
  for (const c of commands) {
    const r = await channel.transmit(c);
    out.push(r);
    if (r.length < 2 || !continuesScript((r[r.length - 2]! << 8) | r[r.length - 1]!)) break;
  }
  return out;
}
