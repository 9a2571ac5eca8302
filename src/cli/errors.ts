/** Errors the CLI reports as a readable message and a non-zero exit status, without a stack trace. */
import { OpentsmError } from '../core/errors.ts';

export type UsageErrorCode = 'UNKNOWN_OPTION' | 'MISSING_VALUE' | 'BAD_VALUE' | 'MISSING_ARGUMENT' | 'UNKNOWN_COMMAND' | 'CONFLICT';

/** The user typed something the command does not accept (exit status 2). */
export class UsageError extends OpentsmError {
  declare readonly code: UsageErrorCode;
  constructor(code: UsageErrorCode, message: string) {
    super(code, message);
  }
}
