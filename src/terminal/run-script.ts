/**
 * Run a RAM over HTTP command script (ETSI TS 102 226 §5.2.1) on a reader: the asynchronous counterpart of
 * `executeScript` (src/transport/ram-http/execute.ts) for any `CardChannel` (in-process, PC/SC). Same rules:
 * C-APDUs one after the other, stop after the first status word that ends a script, the response in the
 * script's length form; a malformed script runs nothing and is answered with the Bad Format TLV.
 *
 * A reader that fails in the middle (card pulled, reader gone) ends the script: the failed command is
 * reported as executed with status '6F00' (no precise diagnosis), so the platform reconciles by asking
 * the card later.
 */
import { CodecError } from '../core/errors.ts';
import type { CardChannel } from '../apdu/channel.ts';
import { decodeCommandScript, encodeResponseScript } from '../transport/ram-http/script.ts';
import { continuesScript, executeScript, type ExecutedScript } from '../transport/ram-http/execute.ts';

export const SW_NO_DIAGNOSIS = Uint8Array.of(0x6f, 0x00);

export interface ReaderRun extends ExecutedScript {
  /** The reader failed during the script (its error). */
  readonly readerError?: Error;
}

export async function runScript(script: Uint8Array, reader: CardChannel): Promise<ReaderRun> {
  let parsed;
  try {
    parsed = decodeCommandScript(script);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    // executeScript answers a malformed script with Bad Format without running anything.
    return executeScript(script, () => {
      throw new Error('a malformed script runs nothing');
    });
  }
  const responses: Uint8Array[] = [];
  let readerError: Error | undefined;
  for (const item of parsed.items) {
    if (item.kind !== 'c-apdu') continue; // immediate/error actions and chaining are not supported
    let r: Uint8Array;
    try {
      r = await reader.transmit(item.apdu);
    } catch (e) {
      readerError = e as Error;
      responses.push(SW_NO_DIAGNOSIS.slice());
      break;
    }
    responses.push(r);
    const sw = r.length >= 2 ? (r[r.length - 2]! << 8) | r[r.length - 1]! : 0x6f00;
    if (r.length < 2 || !continuesScript(sw)) break;
  }
  const response = { executed: responses.length, responses };
  return { body: encodeResponseScript(response, parsed.form), response, executed: responses.length, ...(readerError ? { readerError } : {}) };
}
