/**
 * Typed errors of the `core` layer.
 *
 * Every layer root has one `errors.ts` with a base class and a literal-union `code`.
 * A caller's mistake throws `TypeError`/`RangeError`; bad input from outside throws
 * a typed error such as `CodecError` and changes nothing.
 */

/** Base class of every typed opentsm error. */
export class OpentsmError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export type CodecErrorCode =
  | 'TRUNCATED'
  | 'OVERLONG'
  | 'BAD_TAG'
  | 'BAD_LENGTH'
  | 'TRAILING_DATA'
  | 'BAD_VALUE'
  | 'BAD_HEX';

/** Malformed bytes from outside; `offset` is where parsing stopped. */
export class CodecError extends OpentsmError {
  declare readonly code: CodecErrorCode;
  readonly offset: number;
  constructor(code: CodecErrorCode, message: string, offset: number) {
    super(code, `${message} (at offset ${offset})`);
    this.offset = offset;
  }
}
