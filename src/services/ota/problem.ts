/**
 * RFC 9457 problem+json bodies of the OTA server's two HTTP faces (the RAM endpoint and the admin API),
 * in the platform's one shape (src/platform/errors.ts): `{ type, title, status, detail, instance, code }`.
 */
import { STATUS_CODES } from 'node:http';
import { PROBLEM_CONTENT_TYPE, problemType } from '../../platform/errors.ts';

export type OtaProblemCode =
  | 'BAD_PROTOCOL'
  | 'BAD_AGENT_ID'
  | 'AGENT_MISMATCH'
  | 'BAD_HEADER'
  | 'UNEXPECTED_BODY'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BAD_SCRIPT'
  | 'UNKNOWN_SESSION'
  | 'UNKNOWN_SCRIPT'
  | 'DUPLICATE_RESPONSE'
  | 'RESUME_MISMATCH'
  | 'SUPERSEDED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
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
