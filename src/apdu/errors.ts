/**
 * Typed errors of the `apdu` layer: a status word the caller did not accept (ISO/IEC 7816-4 §5.6),
 * and failures of the GET RESPONSE / chaining helpers.
 */
import { OpentsmError } from '../core/errors.ts';
import type { ResponseApdu } from './response.ts';
import { SW, swName } from './sw.ts';

export type ApduErrorCode =
  /** The card answered with a status word the caller did not accept. */
  | 'STATUS'
  /** More 61xx rounds than the GET RESPONSE limit allows. */
  | 'GET_RESPONSE_LIMIT';

/** A status word the caller did not expect; `sw` and the command's `ins` are kept for callers. */
export class ApduError extends OpentsmError {
  declare readonly code: ApduErrorCode;
  readonly sw: number;
  /** INS of the command that got this answer, when known. */
  readonly ins: number | undefined;
  constructor(code: ApduErrorCode, sw: number, ins: number | undefined, message?: string) {
    const where = ins === undefined ? '' : ` (INS ${ins.toString(16).toUpperCase().padStart(2, '0')})`;
    super(code, message ?? `card answered ${swName(sw)}${where}`);
    this.sw = sw;
    this.ins = ins;
  }
}

/**
 * Return the response when its status word is accepted (by default only 9000), else throw
 * `ApduError('STATUS')` carrying the status word and `ins`.
 */
export function expectSuccess(resp: ResponseApdu, ins?: number, accepted: readonly number[] = [SW.NO_ERROR]): ResponseApdu {
  if (!accepted.includes(resp.sw)) throw new ApduError('STATUS', resp.sw, ins);
  return resp;
}
