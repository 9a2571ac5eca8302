/**
 * The card's non-volatile memory, as a port (GPCS 2.3.1 §6.5: the Registry and key sets live in persistent
 * memory). A real card writes its EEPROM before it returns 9000; the simulator stages every committed change
 * here and the transport that carries its answers calls `SimulatedCard.sync()` — the durability barrier —
 * before any response leaves the card. Changes staged between two barriers (the commands of one RAM script,
 * whose responses leave together) may be made durable together; a change no response has acknowledged yet
 * may be lost in a crash, an acknowledged one never.
 *
 * No I/O here: an implementation on node:fs lives outside the card (src/device/durable-file.ts), so the
 * simulator stays a library without files. Transports see this structurally (`CardPort.sync`).
 */

export interface CardStorage {
  /**
   * A committed change: `stateJson` is the whole new persistent state (`serializeState`). Called
   * synchronously inside `process()`; must not throw for I/O reasons (it only records what to write).
   */
  stage(stateJson: string): void;
  /**
   * Resolves once everything staged so far is durable (written and flushed to stable storage); rejects
   * when it cannot be. A later call tries again to write what a failed one could not.
   */
  sync(): Promise<void>;
}
