/**
 * The provider's terminal relay, without HTTP: the business terminals' admin sessions (one `RamEndpoint`
 * session per terminal — the same RAM over HTTP state machine as the OTA server's, with its resume and
 * no-double-execution rules), the service requests made at the terminals, and the one gate every script
 * goes through (`transmitScript`), which decides who may reach which card:
 *
 * - the issuer: only while the terminal has an open service request for that very card;
 * - the provider itself: the card must be the one the terminal last reported (its latest request).
 *
 * One card, one conversation (issue 8 §2): the card in a terminal is held by one conversation at a time
 * (services/common/card-conversations.ts, keyed by terminal): `openConversation` waits its turn (FIFO, bounded:
 * CARD_BUSY), scripts naming it run, `closeConversation` gives the card to the next; a script without one is a
 * conversation of its own.
 *
 * The HTTP faces are routes-terminal.ts and routes-issuer.ts; plugin.ts mounts them.
 */
import { OpentsmError } from '../../../core/errors.ts';
import type { RandomSource } from '../../../crypto/random.ts';
import { STATUS_CODES } from 'node:http';
import { problemType } from '../../../platform/errors.ts';
import { RamServerError as OtaError } from '../../../transport/ram-http/server-errors.ts';
import { RamEndpoint } from '../../../transport/ram-http/server-session.ts';
import { CardConversations, ConversationError, type CardConversationsOptions } from '../../common/card-conversations.ts';
import { RELAY_PATHS, TERMINAL_ID, type ServiceRequestBody, type ServiceRequestView } from '../../common/relay-api.ts';
import { RelayError, type RelayErrorCode } from '../../common/relay-errors.ts';
import { ServiceRequests, viewOf, type ServiceRequest } from './requests.ts';

/**
 * The provider's work for a request (typically: start the take-over flow for the card in the terminal and
 * run it through `terminalCardAccess`). Resolves with facts to show the user (AIDs, key versions, KCVs);
 * rejects when the request fails (an `OpentsmError`'s code becomes the request's error code).
 */
export type ServiceRequestHandler = (
  request: ServiceRequestView,
  progress: (step: string) => void,
) => Promise<Readonly<Record<string, unknown>> | void>;

export interface TerminalRelayOptions {
  readonly onServiceRequest: ServiceRequestHandler;
  /** Certificate CNs of the issuer(s) allowed on the issuer-facing route (default ['issuer']). */
  readonly issuerPeers?: readonly string[];
  /** Terminal ids allowed to connect; default every terminal with a certificate from the CA. */
  readonly terminals?: readonly string[];
  /** Time limit of one script, from queueing to R-APDUs (default 30 000 ms). */
  readonly scriptTimeoutMs?: number;
  /** How long a terminal's poll is held when nothing is queued (default 20 000 ms). */
  readonly lingerMs?: number;
  readonly random?: RandomSource;
  readonly now?: () => Date;
  /** Called when a request reaches an end (logging, tests). */
  readonly onRequestFinished?: (request: ServiceRequestView) => void;
  /** Conversations with the card in a terminal: longest wait, idle time limit, timers. */
  readonly conversations?: CardConversationsOptions;
}

function relayErrorOf(e: unknown, terminalId: string): unknown {
  if (!(e instanceof ConversationError)) return e;
  if (e.code === 'BUSY') return new RelayError('CARD_BUSY', e.message, { terminalId });
  if (e.code === 'NOT_HELD') return new RelayError('CONVERSATION_NOT_HELD', e.message, { terminalId });
  return new RelayError('CLOSED', e.message, { terminalId });
}

export type RelayCaller = 'provider' | 'issuer';

const OTA_TO_RELAY: Partial<Record<string, RelayErrorCode>> = {
  TIMEOUT: 'TERMINAL_TIMEOUT',
  SESSION_LOST: 'SESSION_LOST',
  SCRIPT_STATUS: 'SCRIPT_STATUS',
  BAD_FORMAT: 'BAD_FORMAT',
  CLOSED: 'CLOSED',
};

const CODE_FORMAT = /^[A-Z][A-Z0-9_]{1,63}$/;

export class TerminalRelay {
  readonly endpoint: RamEndpoint;
  readonly requests: ServiceRequests;
  readonly conversations: CardConversations;
  readonly issuerPeers: readonly string[];
  readonly #terminals: ReadonlySet<string> | undefined;
  readonly #handler: ServiceRequestHandler;
  readonly #onFinished: TerminalRelayOptions['onRequestFinished'];
  readonly #timeoutMs: number;
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  constructor(options: TerminalRelayOptions) {
    if (typeof options.onServiceRequest !== 'function') throw new TypeError('onServiceRequest is required');
    this.issuerPeers = Object.freeze([...(options.issuerPeers ?? ['issuer'])]);
    if (this.issuerPeers.length === 0) throw new TypeError('issuerPeers must name at least one issuer');
    for (const t of options.terminals ?? []) if (!TERMINAL_ID.test(t)) throw new TypeError(`terminal id must match ${TERMINAL_ID}, got '${t}'`);
    this.#terminals = options.terminals === undefined ? undefined : new Set(options.terminals);
    this.#handler = options.onServiceRequest;
    this.#onFinished = options.onRequestFinished;
    this.#timeoutMs = options.scriptTimeoutMs ?? 30_000;
    this.conversations = new CardConversations(options.conversations);
    this.endpoint = new RamEndpoint({
      basePath: RELAY_PATHS.ram,
      lingerMs: options.lingerMs ?? 20_000,
      // Terminals keep a poll open at all times: nothing to wake up.
      trigger: () => {},
      problem: (status, code, detail, instance) => ({ type: problemType(code), title: STATUS_CODES[status] ?? 'Error', status, detail, instance, code }),
      ...(options.random !== undefined ? { random: options.random } : {}),
    });
    this.requests = new ServiceRequests({
      ...(options.random !== undefined ? { random: options.random } : {}),
      ...(options.now !== undefined ? { now: options.now } : {}),
    });
  }

  /** Whether terminal `terminalId` may connect at all. */
  admits(terminalId: string): boolean {
    return TERMINAL_ID.test(terminalId) && (this.#terminals === undefined || this.#terminals.has(terminalId));
  }

  /**
   * Run `apdus` as one script on the card in `terminalId`, for `caller`, who names the card it means.
   * Refusals (RelayError NO_OPEN_REQUEST, CARD_NOT_PRESENT) queue nothing.
   */
  async transmitScript(terminalId: string, cardId: string, apdus: readonly Uint8Array[], caller: RelayCaller, conversationId?: string): Promise<Uint8Array[]> {
    this.#admit(terminalId, cardId, caller);
    const submit = async () => {
      try {
        return await this.endpoint.submit(terminalId, apdus, { timeoutMs: this.#timeoutMs });
      } catch (e) {
        const code = e instanceof OtaError ? OTA_TO_RELAY[e.code] : undefined;
        if (code === undefined) throw e;
        throw new RelayError(code, (e as Error).message.replace(/^device /, 'terminal '), { terminalId, cause: e });
      }
    };
    try {
      if (conversationId === undefined) return await this.conversations.once(terminalId, submit);
      return await this.conversations.held(terminalId, conversationId).run(submit);
    } catch (e) {
      throw relayErrorOf(e, terminalId);
    }
  }

  /** Wait for the card in `terminalId` (FIFO; CARD_BUSY after the longest wait) and hold it: a conversation. */
  async openConversation(terminalId: string, cardId: string, caller: RelayCaller): Promise<{ conversationId: string; idleTimeoutMs: number }> {
    this.#admit(terminalId, cardId, caller);
    try {
      const c = await this.conversations.open(terminalId);
      return { conversationId: c.id, idleTimeoutMs: this.conversations.idleMs };
    } catch (e) {
      throw relayErrorOf(e, terminalId);
    }
  }

  /** Give the card in `terminalId` to the next in line; CONVERSATION_NOT_HELD when `conversationId` does not hold it. */
  closeConversation(terminalId: string, conversationId: string): void {
    try {
      this.conversations.held(terminalId, conversationId).close();
    } catch (e) {
      throw relayErrorOf(e, terminalId);
    }
  }

  /** Who may reach which card: refusals (NO_OPEN_REQUEST, CARD_NOT_PRESENT) queue nothing. */
  #admit(terminalId: string, cardId: string, caller: RelayCaller): void {
    if (this.#closed) throw new RelayError('CLOSED', 'the terminal relay is closed', { terminalId });
    const card = cardId.toUpperCase();
    if (caller === 'issuer') {
      const open = this.requests.open(terminalId);
      if (!open || open.cardId !== card) {
        throw new RelayError('NO_OPEN_REQUEST', `terminal ${terminalId} has no open service request for card ${card}`, { terminalId });
      }
    } else {
      const latest = this.requests.latest(terminalId);
      if (!latest || latest.cardId !== card) throw new RelayError('CARD_NOT_PRESENT', `card ${card} is not the card in terminal ${terminalId}`, { terminalId });
    }
  }

  /**
   * A service request from `terminalId`. A repeated request (same card and AID while it is open) returns
   * the open one; a different one while a request is open is refused (REQUEST_OPEN).
   */
  requestService(terminalId: string, body: ServiceRequestBody): ServiceRequestView {
    if (this.#closed) throw new RelayError('CLOSED', 'the terminal relay is closed', { terminalId });
    const open = this.requests.open(terminalId);
    if (open) {
      if (open.cardId === body.cardId.toUpperCase() && open.aid === body.aid.toUpperCase()) return viewOf(open);
      throw new RelayError('REQUEST_OPEN', `terminal ${terminalId} already has an open request (${open.id})`, { terminalId });
    }
    const r = this.requests.create({ terminalId, cardId: body.cardId, aid: body.aid, privileges: body.privileges });
    const view = viewOf(r);
    const run = this.#run(r).finally(() => this.#running.delete(run));
    this.#running.add(run);
    return view;
  }

  /** A request of `terminalId` (a terminal sees only its own). */
  request(terminalId: string, id: string): ServiceRequestView {
    const r = this.requests.get(id);
    if (!r || r.terminalId !== terminalId) throw new RelayError('UNKNOWN_REQUEST', 'no such service request at this terminal', { terminalId });
    return viewOf(r);
  }

  async #run(r: ServiceRequest): Promise<void> {
    try {
      const result = await this.#handler(viewOf(r), (step) => this.requests.progress(r, String(step).slice(0, 64)));
      this.requests.finish(r, { result: result ?? {} });
    } catch (e) {
      const known = e instanceof OpentsmError && CODE_FORMAT.test(e.code);
      this.requests.finish(r, {
        error: known ? { code: e.code, detail: e.message.slice(0, 300) } : { code: 'INTERNAL', detail: 'the provider could not complete the request' },
      });
    }
    this.#onFinished?.(viewOf(r));
  }

  /**
   * Fail every queued and outstanding script, answer held polls with 204, and give running requests up to
   * `waitMs` (default 5000) to end (their flows are persisted and resume after a restart).
   */
  async close(waitMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.conversations.closeAll();
    this.endpoint.closeAll(new OtaError('CLOSED', 'the terminal relay is closed'));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.allSettled([...this.#running]), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }
}
