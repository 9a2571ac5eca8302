/**
 * Errors of platform flows (docs/architecture.md §5): a decision of a flow step — a business rule, a conflict with
 * what exists, a card that refused or holds unknown keys. `step` tells where the flow stopped. Every FlowError
 * is final for the flow runner (runner.ts): asking again gets the same answer.
 */
import { OpentsmError } from '../../core/errors.ts';

export type FlowErrorCode =
  | 'KEYS_UNKNOWN' // the card holds none of the key sets the platform knows: never expected, needs an operator
  | 'CARD_REFUSED' // the card answered an error status word to a step
  | 'NOT_PERMITTED' // a business rule refused the request
  | 'CONFLICT' // the request contradicts what exists
  | 'NOT_FOUND'
  | 'BAD_REQUEST' // well-formed but meaningless request (e.g. an RSA trust point for SCP11)
  | 'WRONG_STATE';

export class FlowError extends OpentsmError {
  declare readonly code: FlowErrorCode;
  readonly step: string | undefined;
  constructor(code: FlowErrorCode, message: string, step?: string, options?: ErrorOptions) {
    super(code, message, options);
    this.step = step;
  }
}
