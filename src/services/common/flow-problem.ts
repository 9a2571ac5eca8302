/**
 * One mapping from what a flow can throw to the problem+json a client sees (stable codes):
 *
 *   FlowError NOT_FOUND            404 NOT_FOUND
 *   FlowError BAD_REQUEST          400 BAD_REQUEST
 *   FlowError NOT_PERMITTED        403 NOT_PERMITTED
 *   FlowError CONFLICT             409 CONFLICT
 *   FlowError WRONG_STATE          409 WRONG_STATE
 *   FlowError KEYS_UNKNOWN         500 KEYS_UNKNOWN        the card holds no key set we know: an operator must look
 *   FlowError CARD_REFUSED,
 *   ApduError (status word)        409 CARD_REFUSED        `sw` says what the card answered
 *   SecureChannelError             502 SECURE_CHANNEL      the card did not authenticate with the keys held
 *   OtaError BUSY                  503 CARD_BUSY           `Retry-After`: another conversation held the card too long
 *   TransportError, RemoteError
 *   (OtaError),
 *   CardAccessError, unreachable
 *   remote OTA                     503 CARD_UNREACHABLE    `Retry-After`; `flowId` — retrying the request resumes it
 *   RemoteProblemError (another
 *   platform answered a problem)   its status and code, `remote: true`
 *   RemoteProblemError unreachable 503 PEER_UNREACHABLE
 * Every problem about a flow carries `flowId` (and `step` when known).
 */
import { ApduError } from '../../apdu/errors.ts';
import { ProblemError } from '../../platform/errors.ts';
import { RemoteProblemError } from '../../platform/http/client.ts';
import { SecureChannelError } from '../../scp/errors.ts';
import { RemoteError, TransportError } from '../../transport/errors.ts';
import { RamServerError } from '../../transport/ram-http/server-errors.ts';
import { CardAccessError } from './card-access.ts';
import { FlowError } from './flow-error.ts';

export interface ProblemContext {
  readonly flowId?: string;
}

function hex4(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** The problem for `e`, or undefined when `e` is not an error a flow is expected to throw (→ 500 INTERNAL). */
export function flowProblem(e: unknown, context: ProblemContext = {}): ProblemError | undefined {
  if (e instanceof ProblemError) return e;
  const base = context.flowId === undefined ? {} : { flowId: context.flowId };
  if (e instanceof FlowError) {
    const extra = { ...base, ...(e.step === undefined ? {} : { step: e.step }) };
    switch (e.code) {
      case 'NOT_FOUND':
        return new ProblemError({ status: 404, code: 'NOT_FOUND', detail: e.message, extra });
      case 'BAD_REQUEST':
        return new ProblemError({ status: 400, code: 'BAD_REQUEST', detail: e.message, extra });
      case 'NOT_PERMITTED':
        return new ProblemError({ status: 403, code: 'NOT_PERMITTED', detail: e.message, extra });
      case 'CONFLICT':
        return new ProblemError({ status: 409, code: 'CONFLICT', detail: e.message, extra });
      case 'WRONG_STATE':
        return new ProblemError({ status: 409, code: 'WRONG_STATE', detail: e.message, extra });
      case 'KEYS_UNKNOWN':
        return new ProblemError({ status: 500, code: 'KEYS_UNKNOWN', detail: `${e.message}; an operator must reconcile this card`, extra });
      case 'CARD_REFUSED':
        return new ProblemError({ status: 409, code: 'CARD_REFUSED', detail: e.message, extra });
    }
  }
  if (e instanceof ApduError) {
    return new ProblemError({ status: 409, code: 'CARD_REFUSED', detail: e.message, extra: { ...base, sw: hex4(e.sw) } });
  }
  if (e instanceof SecureChannelError) {
    return new ProblemError({ status: 502, code: 'SECURE_CHANNEL', detail: `secure channel failed: ${e.code}`, extra: base });
  }
  if (e instanceof RamServerError && e.code === 'BUSY') {
    return new ProblemError({
      status: 503,
      code: 'CARD_BUSY',
      detail: 'the card is busy with another conversation; retry the request to resume',
      extra: base,
      headers: { 'retry-after': String(e.retryAfterSeconds ?? 2) },
    });
  }
  if (e instanceof TransportError || e instanceof RemoteError || e instanceof CardAccessError) {
    return new ProblemError({
      status: 503,
      code: 'CARD_UNREACHABLE',
      detail: `the card could not be reached (${e.code}); retry the request to resume`,
      extra: base,
      headers: { 'retry-after': '5' },
    });
  }
  if (e instanceof RemoteProblemError) {
    const p = e.problem;
    if (e.code === 'REMOTE_PROBLEM' && p !== undefined && typeof p.code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(p.code) && e.status >= 400 && e.status <= 599) {
      const headers: Record<string, string> = e.status === 503 || e.status === 409 ? { 'retry-after': '5' } : {};
      return new ProblemError({ status: e.status, code: p.code, detail: `remote platform: ${String(p.detail ?? '')}`, extra: { ...base, remote: true }, headers });
    }
    return new ProblemError({ status: 503, code: 'PEER_UNREACHABLE', detail: e.message, extra: base, headers: { 'retry-after': '5' } });
  }
  return undefined;
}

/** Run `fn`; a flow error leaves as its problem (others unchanged, → 500 INTERNAL by the error handler). */
export async function asProblem<T>(fn: () => Promise<T>, context: ProblemContext | (() => ProblemContext) = {}): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw flowProblem(e, typeof context === 'function' ? context() : context) ?? e;
  }
}
