/**
 * Errors of the `platform` layer and the one error body shape every service answers with:
 * RFC 9457 "Problem Details for HTTP APIs" (`application/problem+json`).
 *
 * Body: `{ type, title, status, detail, instance, code, ...extensions }`.
 * - `code` is a stable, machine-readable string (`SCREAMING_SNAKE_CASE`); clients branch on it.
 * - `type` is `https://opentsm.dev/problems/<code>` (e.g. `…/problems/NOT_FOUND`) — one URI per code, stable forever, derived from the code
 *   (RFC 9457 §3.1.1: a URI reference that identifies the problem type). It is an identifier; it need not resolve.
 * - `title` is a short summary of the problem type (the HTTP reason phrase unless a code gives its own).
 * - `detail` explains this occurrence; it never contains secrets or internals.
 * - `instance` is the request path (without query) of this occurrence; `requestId` identifies it in the logs.
 */
import { STATUS_CODES } from 'node:http';
import { OpentsmError } from '../core/errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://opentsm.dev/problems/';

/** Codes the platform itself answers with; services add their own (same format). */
export type PlatformProblemCode =
  | 'VALIDATION'
  | 'MALFORMED_JSON'
  | 'BAD_REQUEST'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'IDEMPOTENCY_KEY_REQUIRED'
  | 'IDEMPOTENCY_KEY_INVALID'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** RFC 9457 members plus the stable `code`; extension members are allowed. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly code: string;
  readonly [extension: string]: unknown;
}

const CODE_FORMAT = /^[A-Z][A-Z0-9_]{1,63}$/;
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'code']);

/** The stable `type` URI of a code. */
export function problemType(code: string): string {
  return PROBLEM_TYPE_BASE + code;
}

export interface ProblemInit<C extends string = string> {
  readonly status: number;
  readonly code: C;
  readonly detail: string;
  /** Defaults to the HTTP reason phrase of `status`. */
  readonly title?: string;
  /** Extension members (RFC 9457 §3.2); must not reuse a standard member name. */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Response headers that belong to the problem (e.g. `Allow` on 405, `Retry-After` on 409/503). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/**
 * An error a route throws to answer with a problem+json body. The one error handler turns it into the
 * response; any other error becomes 500 INTERNAL with nothing of its message leaked.
 */
export class ProblemError<C extends string = string> extends OpentsmError {
  declare readonly code: C;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly extra: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(init: ProblemInit<C>) {
    if (!Number.isInteger(init.status) || init.status < 400 || init.status > 599) {
      throw new RangeError(`problem status must be 400..599, got ${init.status}`);
    }
    if (!CODE_FORMAT.test(init.code)) throw new TypeError(`problem code must match ${CODE_FORMAT}, got '${init.code}'`);
    const extra = init.extra ?? {};
    for (const name of Object.keys(extra)) {
      if (RESERVED.has(name)) throw new TypeError(`problem extension member '${name}' is reserved`);
    }
    super(init.code, init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.title = init.title ?? STATUS_CODES[init.status] ?? 'Error';
    this.detail = init.detail;
    this.extra = Object.freeze({ ...extra });
    this.headers = Object.freeze({ ...init.headers });
  }

  /** The response body for this occurrence. */
  toBody(instance: string, more?: Readonly<Record<string, unknown>>): ProblemBody {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      detail: this.detail,
      instance,
      code: this.code,
      ...this.extra,
      ...more,
    };
  }
}

type Extra = Readonly<Record<string, unknown>>;

/** 400 with a caller-chosen code (default BAD_REQUEST). */
export function badRequest(detail: string, code: string = 'BAD_REQUEST', extra?: Extra): ProblemError {
  return new ProblemError({ status: 400, code, detail, extra });
}
/** 401: no (valid) peer identity or credential. */
export function unauthenticated(detail: string, code: string = 'UNAUTHENTICATED', extra?: Extra): ProblemError {
  return new ProblemError({ status: 401, code, detail, extra });
}
/** 403: identified, but not allowed. */
export function forbidden(detail: string, code: string = 'FORBIDDEN', extra?: Extra): ProblemError {
  return new ProblemError({ status: 403, code, detail, extra });
}
export function notFound(detail: string, code: string = 'NOT_FOUND', extra?: Extra): ProblemError {
  return new ProblemError({ status: 404, code, detail, extra });
}
export function conflict(detail: string, code: string = 'CONFLICT', extra?: Extra): ProblemError {
  return new ProblemError({ status: 409, code, detail, extra });
}
/** 422: well-formed, but the request cannot be processed in the current state. */
export function unprocessable(detail: string, code: string, extra?: Extra): ProblemError {
  return new ProblemError({ status: 422, code, detail, extra });
}
export function unavailable(detail: string, code: string = 'UNAVAILABLE', extra?: Extra): ProblemError {
  return new ProblemError({ status: 503, code, detail, extra });
}

export function isProblemError(e: unknown): e is ProblemError {
  return e instanceof ProblemError;
}

/** JSON Schema of a problem body (OpenAPI `components.schemas.Problem`). */
export const problemSchema = Object.freeze({
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'instance', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]+$' },
    requestId: { type: 'string' },
  },
  additionalProperties: true,
});

/**
 * Configuration errors: `issues` lists every bad field (path and message), the message shows them all.
 */
export type PlatformErrorCode = 'INVALID_CONFIG' | 'TLS_MATERIAL' | 'ROUTE_SCHEMA';

export class PlatformError extends OpentsmError {
  declare readonly code: PlatformErrorCode;
  constructor(code: PlatformErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends PlatformError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super('INVALID_CONFIG', `invalid configuration:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`);
    this.issues = Object.freeze([...issues]);
  }
}
