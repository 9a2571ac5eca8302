/**
 * The result of processing one command, and mapping of thrown errors to status words.
 */
import { CodecError } from '../core/errors.ts';
import { encodeResponse, type ResponseApdu } from '../apdu/response.ts';
import { GpError } from '../gp/index.ts';
import { SecureChannelError } from '../scp/errors.ts';
import { SW, SwError } from './errors.ts';

export interface Outcome {
  /** Response APDU bytes (data + SW), protected by the secure channel when one is open. */
  readonly response: Uint8Array;
  /** Whether the draft state may be committed (false after any refusal). */
  readonly commit: boolean;
}

/** Status word for anything a handler throws: typed errors carry theirs; anything else is 6F00. */
export function swFor(err: unknown): number {
  if (err instanceof SwError) return err.sw;
  if (err instanceof GpError) return err.sw;
  if (err instanceof SecureChannelError && err.sw !== undefined) return err.sw;
  if (err instanceof CodecError) return SW.INCORRECT_DATA;
  return SW.UNKNOWN;
}

export function swBytes(sw: number): Uint8Array {
  return Uint8Array.of(sw >> 8, sw & 0xff);
}

export function ok(response: ResponseApdu): Outcome {
  return { response: encodeResponse(response), commit: true };
}

export function refused(sw: number): Outcome {
  return { response: swBytes(sw), commit: false };
}
