/**
 * RFC 9457 problem+json bodies of the OTA server's two HTTP faces (the RAM endpoint and the admin API),
 * in the platform's one shape (src/platform/errors.ts): `{ type, title, status, detail, instance, code }`.
 */
import { STATUS_CODES } from 'node:http';
import { PROBLEM_CONTENT_TYPE, problemType } from '../../platform/errors.ts';
import type { RamProblemCode } from '../../transport/ram-http/server-session.ts';

/** The RAM endpoint's own refusals (transport/ram-http/server-session.ts) and the OTA's HTTP faces'. */
export type OtaProblemCode =
  | RamProblemCode
  | 'BODY_TOO_LARGE'
  | 'UNAUTHENTICATED'
  | 'VALIDATION'
  | 'MALFORMED_JSON'
  | 'UNKNOWN_DEVICE'
  | 'DEVICE_TIMEOUT'
  | 'SESSION_LOST'
  | 'SCRIPT_STATUS'
  | 'BAD_FORMAT'
  | 'UNAVAILABLE'
  | 'CARD_BUSY'
  | 'CONVERSATION_NOT_HELD'
  | 'INTERNAL';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly code: OtaProblemCode;
  readonly [extension: string]: unknown;
}

export { PROBLEM_CONTENT_TYPE };

export function problem(status: number, code: OtaProblemCode, detail: string, instance: string, extra: Record<string, unknown> = {}): Problem {
  return { ...extra, type: problemType(code), title: STATUS_CODES[status] ?? 'Error', status, detail, instance, code };
}
