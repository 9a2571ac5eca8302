/**
 * What a card offers a reader: contacts for power and reset (ISO/IEC 7816-3 §6: cold and warm
 * reset, answer-to-reset) and APDU exchange. The simulator in `src/card` implements this
 * structurally; transports drive it (in-process, vpcd). Nothing here imports the simulator.
 */
export interface CardPort {
  /** Cold reset: power the card on; returns the ATR. */
  powerOn(): Uint8Array;
  /** Warm reset; returns the ATR. */
  reset(): Uint8Array;
  /** Deactivate the contacts; the card forgets its volatile state. */
  powerOff(): void;
  /** One C-APDU in, one R-APDU (data ‖ SW1 SW2) out. */
  process(command: Uint8Array): Uint8Array;
  /**
   * Durability barrier (a card that keeps its state in a file: the simulator's `sync()`): resolves when
   * every change of state made by the commands processed so far is durable. A transport awaits it before a
   * response leaves — after each APDU over vpcd or a reader, once per script for RAM over HTTP, whose
   * responses leave together. It rejects when the change could not be kept; the response must then not go out.
   */
  sync?(): Promise<void>;
}
