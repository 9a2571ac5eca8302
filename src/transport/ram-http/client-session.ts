/**
 * The client (admin agent) side of a RAM over HTTP administration session (GlobalPlatform Card Spec v2.2
 * Amendment B §3), shared by every agent whatever carries it (the phone's PSK-TLS, a terminal's mutual TLS):
 *
 * - the first POST carries no body, `X-Admin-Protocol` and `X-Admin-From`;
 * - a 200 with a `card-content-mgt` script and an `X-Admin-Next-URI` is run, and its Response Scripting
 *   template is POSTed to that URI with `X-Admin-Script-Status`; a 204 ends the session;
 * - `X-Admin-Targeted-Application` makes the agent SELECT that application first (only when the previous
 *   script did not already target it); a malformed or unselectable one is answered `unknown-application`
 *   without running anything;
 * - a lost connection repeats the last POST with `X-Admin-Resume: true` (with a doubling delay), and a script
 *   never runs twice: when the script just run comes again (same Next-URI), its stored response is repeated.
 *
 * `RamClientSession` is the sans-IO state machine (requests out, replies in, no sockets, no clock);
 * `runRamClientSession` drives it with an injected HTTP exchange, script executor, sleep and retry policy.
 * Bad answers from the server end the session with a `RamClientError` (REFUSED, PROTOCOL); a connection that
 * cannot be resumed with CONNECTION_FAILED; a stop request with STOPPED.
 */
import { CodecError } from '../../core/errors.ts';
import { RemoteError } from '../errors.ts';
import { toHex } from '../../core/bytes.ts';
import {
  ADMIN_HEADER,
  ADMIN_PROTOCOL,
  CONTENT_TYPE_RESPONSE,
  SCRIPT_STATUSES,
  parseContentType,
  parseNextUri,
  parseTargetedApplication,
  type ScriptStatus,
} from './headers.ts';

export interface RamRequest {
  /** Absolute path (with query) of the POST. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface RamReply {
  readonly status: number;
  /** Lower-case names, single values. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

/** One HTTP POST on the agent's connection; rejects when the connection is lost before an answer. */
export type RamExchange = (request: RamRequest) => Promise<RamReply>;

/** A script the server sent, to be run on the card. */
export interface ReceivedScript {
  readonly nextUri: string;
  /** The command script ('AA' or 'AE' template) as received. */
  readonly body: Uint8Array;
  /** AID of `X-Admin-Targeted-Application`, when the server named one. */
  readonly targetedApplication: Uint8Array | undefined;
  /** Whether `targetedApplication` must be SELECTed before the script (the previous script did not target it). */
  readonly select: boolean;
}

export interface ScriptOutcome {
  /** `ok` when the script ran; any other status reports it was not run (its body is then not sent). */
  readonly status: ScriptStatus;
  /** The Response Scripting template ('AB'/'AF'). */
  readonly body: Uint8Array;
  /** C-APDUs handed to the card. */
  readonly executed?: number;
}

export type ScriptExecutor = (script: ReceivedScript) => Promise<ScriptOutcome>;

export type RamClientErrorCode =
  /** The server answered neither 200 nor 204; `status` and `problemCode` (RFC 9457 `code`) tell why. */
  | 'REFUSED'
  /** The server answered 200 with something that is not a RAM over HTTP script. */
  | 'PROTOCOL'
  /** The connection failed with a non-retryable error, or kept breaking beyond the retry limit. */
  | 'CONNECTION_FAILED'
  /** The owner stopped the agent while it was (re)trying. */
  | 'STOPPED';

export class RamClientError extends RemoteError {
  declare readonly code: RamClientErrorCode;
  constructor(code: RamClientErrorCode, message: string, options?: ErrorOptions & { status?: number; problemCode?: string }) {
    super(code, message, options);
  }
}

export type SessionStep =
  /** The server answered 204: the session is over. */
  | { readonly kind: 'end' }
  /** Run this script, then hand its outcome to `executed()`. */
  | { readonly kind: 'run'; readonly script: ReceivedScript }
  /** Send `request` without running anything: the stored response of a script that came again (`replayed`),
   *  or `unknown-application` for a malformed X-Admin-Targeted-Application. */
  | { readonly kind: 'send'; readonly request: RamRequest; readonly replayed: boolean };

export interface RamClientSessionOptions {
  /** Path (with query) of the first POST. */
  readonly initialPath: string;
  /** `X-Admin-From`. */
  readonly agentId: string;
  /** How error messages name the server (default 'server'): 'OTA server', 'provider'. */
  readonly peer?: string;
}

const EMPTY = new Uint8Array(0);

/** The request again, flagged `X-Admin-Resume: true` (Amendment B: repeated after a lost connection). */
export function resumeRequest(request: RamRequest): RamRequest {
  return { ...request, headers: { ...request.headers, [ADMIN_HEADER.resume]: 'true' } };
}

function problemCodeOf(body: Uint8Array): string | undefined {
  try {
    const code = (JSON.parse(new TextDecoder().decode(body)) as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One administration session, sans-IO. Send `request`; give the answer to `receive()`; when it says `run`,
 * run the script and give the outcome to `executed()`, which returns the next request. The only state is the
 * current request, the last script run (its Next-URI and response) and the application it left selected.
 */
export class RamClientSession {
  readonly #base: Readonly<Record<string, string>>;
  readonly #peer: string;
  #request: RamRequest;
  #state: 'waiting' | 'running' | 'ended' = 'waiting';
  #pending: { readonly nextUri: string; readonly aid: Uint8Array | undefined } | undefined;
  #lastRunUri: string | undefined;
  #lastRunRequest: RamRequest | undefined;
  /** AID (upper-case hex) selected for the last script, while the script stream keeps targeting it. */
  #selected: string | undefined;

  constructor(options: RamClientSessionOptions) {
    if (typeof options.initialPath !== 'string' || !options.initialPath.startsWith('/')) throw new TypeError('initialPath must be an absolute path');
    if (typeof options.agentId !== 'string' || options.agentId.length === 0) throw new TypeError('agentId (X-Admin-From) is required');
    this.#base = { [ADMIN_HEADER.protocol]: ADMIN_PROTOCOL, [ADMIN_HEADER.from]: options.agentId };
    this.#peer = options.peer ?? 'server';
    this.#request = { path: options.initialPath, headers: { ...this.#base }, body: EMPTY };
  }

  /** The request to send now (the first POST, then whatever `receive()`/`executed()` produced). */
  get request(): RamRequest {
    return this.#request;
  }

  get ended(): boolean {
    return this.#state === 'ended';
  }

  /** The server's answer to `request`. Throws `RamClientError` (REFUSED, PROTOCOL) and ends the session. */
  receive(reply: RamReply): SessionStep {
    if (this.#state !== 'waiting') throw new TypeError(this.#state === 'ended' ? 'the session has ended' : 'the last script has no outcome yet');
    if (reply.status === 204) {
      this.#state = 'ended';
      return { kind: 'end' };
    }
    if (reply.status !== 200) {
      this.#state = 'ended';
      const problemCode = problemCodeOf(reply.body);
      throw new RamClientError('REFUSED', `${this.#peer} answered ${reply.status}${problemCode ? ` ${problemCode}` : ''}`, {
        status: reply.status,
        ...(problemCode !== undefined ? { problemCode } : {}),
      });
    }
    let nextUri: string;
    try {
      if (parseContentType(reply.headers['content-type'] ?? '') !== 'script') throw new CodecError('BAD_VALUE', 'not a script', 0);
      nextUri = parseNextUri(reply.headers[ADMIN_HEADER.nextUri] ?? '');
    } catch (e) {
      this.#state = 'ended';
      throw new RamClientError('PROTOCOL', `${this.#peer} reply is not a RAM over HTTP script: ${(e as Error).message}`, { cause: e });
    }
    if (nextUri === this.#lastRunUri && this.#lastRunRequest) {
      // The script just run came again (its response was lost): repeat the response, never run it twice.
      this.#request = this.#lastRunRequest;
      return { kind: 'send', request: this.#request, replayed: true };
    }
    const header = reply.headers[ADMIN_HEADER.targetedApplication];
    let aid: Uint8Array | undefined;
    if (header !== undefined) {
      try {
        aid = parseTargetedApplication(header);
      } catch {
        return { kind: 'send', request: this.#report(nextUri, 'unknown-application', EMPTY), replayed: false };
      }
    }
    this.#state = 'running';
    this.#pending = { nextUri, aid };
    const select = aid !== undefined && toHex(aid).toUpperCase() !== this.#selected;
    return { kind: 'run', script: { nextUri, body: reply.body, targetedApplication: aid, select } };
  }

  /** How the script of the last `run` step went; returns the POST that reports it. */
  executed(outcome: ScriptOutcome): RamRequest {
    const pending = this.#pending;
    if (this.#state !== 'running' || pending === undefined) throw new TypeError('no script is running');
    if (!SCRIPT_STATUSES.includes(outcome.status)) throw new TypeError(`unknown script status ${String(outcome.status)}`);
    if (outcome.status === 'ok' && !(outcome.body instanceof Uint8Array)) throw new TypeError('the outcome of a script that ran needs its response body');
    this.#selected = pending.aid !== undefined && outcome.status === 'ok' ? toHex(pending.aid).toUpperCase() : undefined;
    this.#pending = undefined;
    this.#state = 'waiting';
    return this.#report(pending.nextUri, outcome.status, outcome.body);
  }

  #report(nextUri: string, status: ScriptStatus, body: Uint8Array): RamRequest {
    const request: RamRequest =
      status === 'ok'
        ? { path: nextUri, headers: { ...this.#base, [ADMIN_HEADER.scriptStatus]: 'ok', 'content-type': CONTENT_TYPE_RESPONSE }, body }
        : { path: nextUri, headers: { ...this.#base, [ADMIN_HEADER.scriptStatus]: status }, body: EMPTY };
    this.#lastRunUri = nextUri;
    this.#lastRunRequest = request;
    this.#request = request;
    return request;
  }
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_CLOSED']);

/** A lost or refused connection (node:net/tls error codes, "socket hang up"): the POST may be repeated. */
export function isConnectionLost(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || (e instanceof Error && /socket hang up/i.test(e.message));
}

export interface RamRetryPolicy {
  /** Resumes allowed per request before the session fails (default: no limit). */
  readonly maxRetries?: number;
  /** Delay before the first resume, doubled each time (default 10 ms). */
  readonly delayMs?: number;
  /** Upper bound of the delay (default: none). */
  readonly maxDelayMs?: number;
}

export type RamClientEvent =
  /** A POST is about to be repeated with X-Admin-Resume after `delayMs`. */
  | { readonly type: 'resume'; readonly attempt: number; readonly delayMs: number; readonly error: unknown }
  /** A script was handed to the executor (`status` 'ok': it ran). */
  | { readonly type: 'script'; readonly nextUri: string; readonly status: ScriptStatus; readonly executed: number }
  /** A script that ran already came again; its stored response is sent again. */
  | { readonly type: 'replay'; readonly nextUri: string };

export interface RamClientOptions extends RamClientSessionOptions {
  readonly exchange: RamExchange;
  readonly execute: ScriptExecutor;
  readonly retry?: RamRetryPolicy;
  /** Whether a failed exchange may be resumed (default `isConnectionLost`). */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Checked before each attempt and after each failure; true ends the session with STOPPED. */
  readonly isStopped?: () => boolean;
  /** Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Progress, as it happens (counters, logs). */
  readonly onEvent?: (event: RamClientEvent) => void;
}

export interface RamSessionSummary {
  /** Scripts run on the card. */
  readonly scripts: number;
  /** C-APDUs handed to the card. */
  readonly commands: number;
  /** Requests repeated with X-Admin-Resume. */
  readonly resumes: number;
  /** Stored responses sent again for a script that came twice. */
  readonly replays: number;
}

const timer = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Run one administration session to its 204. Executor errors propagate as they are. */
export async function runRamClientSession(options: RamClientOptions): Promise<RamSessionSummary> {
  const session = new RamClientSession(options);
  const summary = { scripts: 0, commands: 0, resumes: 0, replays: 0 };
  let request = session.request;
  for (;;) {
    const reply = await exchangeResuming(request, options, summary);
    const step = session.receive(reply);
    if (step.kind === 'end') return summary;
    if (step.kind === 'send') {
      if (step.replayed) {
        summary.replays++;
        options.onEvent?.({ type: 'replay', nextUri: step.request.path });
      }
      request = step.request;
      continue;
    }
    const outcome = await options.execute(step.script);
    request = session.executed(outcome);
    const executed = outcome.status === 'ok' ? (outcome.executed ?? 0) : 0;
    if (outcome.status === 'ok') {
      summary.scripts++;
      summary.commands += executed;
    }
    options.onEvent?.({ type: 'script', nextUri: step.script.nextUri, status: outcome.status, executed });
  }
}

/** POST; on a lost connection repeat it with X-Admin-Resume: true, with a doubling delay. */
async function exchangeResuming(request: RamRequest, o: RamClientOptions, summary: { resumes: number }): Promise<RamReply> {
  const max = o.retry?.maxRetries ?? Infinity;
  const maxDelay = o.retry?.maxDelayMs ?? Infinity;
  const retryable = o.isRetryable ?? isConnectionLost;
  const sleep = o.sleep ?? timer;
  let delay = o.retry?.delayMs ?? 10;
  for (let attempt = 0; ; attempt++) {
    if (o.isStopped?.()) throw new RamClientError('STOPPED', 'the agent was stopped');
    try {
      return await o.exchange(attempt === 0 ? request : resumeRequest(request));
    } catch (e) {
      if (o.isStopped?.()) throw new RamClientError('STOPPED', 'the agent was stopped', { cause: e });
      if (!retryable(e) || attempt >= max) {
        throw new RamClientError('CONNECTION_FAILED', `RAM over HTTP request failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      summary.resumes++;
      o.onEvent?.({ type: 'resume', attempt: attempt + 1, delayMs: delay, error: e });
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

/** SELECT by AID ('00A40400' Lc AID '00'); true on '9000'. A failing transmit counts as not selected. */
export async function selectApplication(aid: Uint8Array, transmit: (capdu: Uint8Array) => Promise<Uint8Array>): Promise<boolean> {
  try {
    const r = await transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, 0x00));
    return r.length >= 2 && r[r.length - 2] === 0x90 && r[r.length - 1] === 0x00;
  } catch {
    return false;
  }
}

/**
 * The usual executor body: SELECT the targeted application when the session asks for it (answering
 * `unknown-application` without running anything when that fails), then run the script with `run`.
 */
export async function runTargetedScript(
  script: ReceivedScript,
  transmit: (capdu: Uint8Array) => Promise<Uint8Array>,
  run: (body: Uint8Array) => Promise<{ readonly body: Uint8Array; readonly executed: number }>,
): Promise<ScriptOutcome> {
  if (script.select && script.targetedApplication !== undefined && !(await selectApplication(script.targetedApplication, transmit))) {
    return { status: 'unknown-application', body: EMPTY, executed: 0 };
  }
  const done = await run(script.body);
  return { status: 'ok', body: done.body, executed: done.executed };
}
