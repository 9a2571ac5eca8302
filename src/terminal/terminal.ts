/**
 * The business terminal (docs/architecture.md §1 `terminal`): a contact/contactless reader at a provider's
 * counter, connected to the provider over mutual TLS with the certificate `terminal.<id>` from the
 * internal CA. It relays the platforms' APDUs to the card in the reader (`TerminalAgent`: RAM over HTTP,
 * long poll, resume) and lets the user ask for an application (`requestService`): the terminal reads the
 * card's ICCID, POSTs the request, and follows its progress until the provider is done.
 *
 * The reader is any `CardChannel` (an `InProcessChannel` over a simulated card, a `PcscChannel`); its use
 * is serialised so that the terminal's own commands never interleave with a script.
 */
import type { Agent } from 'node:https';
import type { CardChannel } from '../apdu/channel.ts';
import { PlatformClient, RemoteProblemError } from '../platform/http/client.ts';
import { mutualTlsAgent } from '../platform/tls/options.ts';
import type { TlsIdentity } from '../platform/tls/issue.ts';
import type { PrivilegeName } from '../gp/privileges.ts';
import { RELAY_PATHS, terminalAgentId, terminalCommonName, type ServiceRequestView } from '../services/provider/client.ts';
import { readCardId } from './card-id.ts';
import { TerminalError } from './errors.ts';
import { TerminalAgent } from './ram-agent.ts';

export interface TerminalOptions {
  /** Letters and digits; the certificate's CN must be `terminal.<id>`. */
  readonly id: string;
  readonly reader: CardChannel;
  /** The provider's base URL, `https://provider.example:7102`. */
  readonly providerUrl: string;
  /** The terminal's key and certificate from the internal CA. */
  readonly identity: TlsIdentity;
  /** CA certificates to trust for the provider (default the identity's CA). */
  readonly trust?: readonly string[];
  /** Per-request time limit of the RAM leg; must exceed the provider's hold time (default 60 000 ms). */
  readonly requestTimeoutMs?: number;
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
}

export interface ServiceRequestOptions {
  /** Called with the request whenever its state or step changes. */
  readonly onProgress?: (request: ServiceRequestView) => void;
  /** Poll interval (default 100 ms). */
  readonly pollMs?: number;
  /** Give up following the request after this long (default 120 000 ms); the provider's flow goes on. */
  readonly timeoutMs?: number;
}

export class Terminal {
  readonly id: string;
  readonly agent: TerminalAgent;
  readonly #reader: CardChannel;
  readonly #https: Agent;
  readonly #client: PlatformClient;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(options: TerminalOptions) {
    const cn = terminalCommonName(options.id);
    if (options.identity.commonName !== cn) throw new TypeError(`the terminal's certificate must have CN ${cn}, has ${options.identity.commonName}`);
    this.id = options.id;
    this.#reader = options.reader;
    this.#https = mutualTlsAgent(options.identity, options.trust);
    const base = new URL(options.providerUrl);
    if (base.protocol !== 'https:') throw new TypeError('providerUrl must be https');
    this.#client = new PlatformClient({ baseUrl: base.href, agent: this.#https });
    this.agent = new TerminalAgent({
      url: new URL(RELAY_PATHS.ram, base).href,
      agent: this.#https,
      agentId: terminalAgentId(options.id),
      withReader: (fn) => this.withReader(fn),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(options.maxRetryDelayMs !== undefined ? { maxRetryDelayMs: options.maxRetryDelayMs } : {}),
    });
  }

  /** Connect to the provider and serve its scripts until `stop()`. */
  start(): void {
    this.agent.start();
  }

  async stop(): Promise<void> {
    const stopping = this.agent.stop();
    this.#https.destroy(); // ends a held poll
    await stopping;
  }

  /** Run `fn` with the reader to itself. */
  withReader<T>(fn: (reader: CardChannel) => Promise<T>): Promise<T> {
    const run = this.#lock.then(() => fn(this.#reader));
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** ICCID of the card in the reader. */
  cardId(): Promise<string> {
    return this.withReader((reader) => readCardId(reader));
  }

  /**
   * The user asks for an application at the counter: read the card's ICCID, ask the provider, follow the
   * request to its end. Resolves with the finished request; a failed one rejects with
   * TerminalError('REQUEST_FAILED') (`problemCode` = the provider's error code).
   */
  async requestService(req: { aid: string; privileges: readonly PrivilegeName[] }, options: ServiceRequestOptions = {}): Promise<ServiceRequestView> {
    const cardId = await this.cardId();
    let view: ServiceRequestView;
    try {
      view = (await this.#client.post<ServiceRequestView>(RELAY_PATHS.requests, { body: { cardId, aid: req.aid.toUpperCase(), privileges: [...req.privileges] } })).body;
    } catch (e) {
      throw remote(e);
    }
    options.onProgress?.(view);
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    while (view.state === 'open') {
      if (Date.now() > deadline) throw new TerminalError('TIMEOUT', `service request ${view.id} is still at ${view.step}`);
      await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
      let next: ServiceRequestView;
      try {
        next = (await this.#client.get<ServiceRequestView>(RELAY_PATHS.request(view.id))).body;
      } catch (e) {
        if (e instanceof RemoteProblemError && (e.code === 'REMOTE_UNREACHABLE' || e.code === 'REMOTE_TIMEOUT')) continue; // try again
        throw remote(e);
      }
      if (next.state !== view.state || next.step !== view.step) options.onProgress?.(next);
      view = next;
    }
    if (view.state === 'failed') {
      throw new TerminalError('REQUEST_FAILED', `the provider could not complete the request: ${view.error?.code}: ${view.error?.detail}`, {
        ...(view.error ? { problemCode: view.error.code } : {}),
      });
    }
    return view;
  }
}

function remote(e: unknown): unknown {
  if (!(e instanceof RemoteProblemError)) return e;
  if (e.code === 'REMOTE_PROBLEM') {
    return new TerminalError('REFUSED', e.message, { cause: e, status: e.status, ...(e.problem?.code ? { problemCode: e.problem.code } : {}) });
  }
  return new TerminalError('CONNECTION_FAILED', e.message, { cause: e });
}
