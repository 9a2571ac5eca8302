/**
 * The terminal's admin agent: RAM over HTTP (GP Amendment B §3) to the provider over mutual TLS, acting for
 * the card in the reader. It keeps one request open at the provider at all times (the provider holds the
 * first POST of a session until it has a script: long poll), runs every script it gets on the reader,
 * POSTs the Response Scripting template to `X-Admin-Next-URI`, and starts a new session after each 204.
 *
 * Lost connections: the agent repeats its last POST with `X-Admin-Resume: true` on a new connection until
 * it gets an answer (or is stopped); the provider then answers as it did the first time. It never runs a
 * script twice: should the script it just ran come again (same Next-URI), it repeats the stored response.
 * A refused resume (the provider restarted) ends the session; the next one starts fresh.
 * The session itself is the shared RAM over HTTP client (src/transport/ram-http/client-session.ts); this
 * file adds the mutual-TLS exchange, the reader, the long-poll loop and stopping.
 */
import type { Agent } from 'node:https';
import type { CardChannel } from '../apdu/channel.ts';
import { RamClientError, runRamClientSession, runTargetedScript } from '../transport/ram-http/client-session.ts';
import { TerminalError } from './errors.ts';
import { binaryRequest, isNetworkError } from './mtls-http.ts';
import { runScript } from './run-script.ts';

export interface TerminalAgentOptions {
  /** URL of the first POST: `https://provider:port/v1/terminal/ram`. */
  readonly url: string;
  /** An agent presenting the terminal's certificate (`mutualTlsAgent(identity)`). */
  readonly agent: Agent;
  /** `X-Admin-From`. */
  readonly agentId: string;
  /** Run `fn` with the reader to itself (the terminal serialises reader use). */
  readonly withReader: <T>(fn: (reader: CardChannel) => Promise<T>) => Promise<T>;
  /** Per-request time limit; must exceed the provider's hold time (default 60 000 ms). */
  readonly requestTimeoutMs?: number;
  /** First delay before a retry, doubled up to `maxRetryDelayMs` (defaults 20 ms, 2000 ms). */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
}

export class TerminalAgent {
  readonly #o: TerminalAgentOptions;
  readonly #base: URL;
  readonly #initialPath: string;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly stats = { sessions: 0, scripts: 0, commands: 0, resumes: 0, replayedResponses: 0, failures: 0 };
  lastError: Error | undefined;

  constructor(options: TerminalAgentOptions) {
    this.#o = options;
    this.#base = new URL(options.url);
    if (this.#base.protocol !== 'https:') throw new TypeError('the terminal reaches its provider over https only');
    this.#initialPath = this.#base.pathname + this.#base.search;
  }

  get running(): boolean {
    return !this.#stopped;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Stop after the current request (the caller destroys the https agent to cut a held poll short). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let delay = this.#o.retryDelayMs ?? 20;
    while (!this.#stopped) {
      try {
        await this.runSession();
        delay = this.#o.retryDelayMs ?? 20;
      } catch (e) {
        if (this.#stopped) break;
        this.stats.failures++;
        this.lastError = e as Error;
        await this.#sleep(delay);
        delay = Math.min(delay * 2, this.#o.maxRetryDelayMs ?? 2000);
      }
    }
  }

  /** One administration session, to its 204. */
  async runSession(): Promise<void> {
    this.stats.sessions++;
    const timeout = this.#o.requestTimeoutMs ?? 60_000;
    try {
      await runRamClientSession({
        initialPath: this.#initialPath,
        agentId: this.#o.agentId,
        peer: 'provider',
        exchange: (post) => binaryRequest(this.#o.agent, new URL(post.path, this.#base), 'POST', post.headers, post.body, timeout),
        // SELECT and script under one hold of the reader, so nobody changes the selection in between.
        execute: (script) => this.#o.withReader((reader) => runTargetedScript(script, (capdu) => reader.transmit(capdu), (body) => runScript(body, reader))),
        retry: { delayMs: this.#o.retryDelayMs ?? 20, maxDelayMs: this.#o.maxRetryDelayMs ?? 2000 },
        isRetryable: isNetworkError,
        isStopped: () => this.#stopped,
        sleep: (ms) => this.#sleep(ms),
        onEvent: (e) => {
          if (e.type === 'resume') this.stats.resumes++;
          else if (e.type === 'replay') this.stats.replayedResponses++;
          else if (e.status === 'ok') {
            this.stats.scripts++;
            this.stats.commands += e.executed;
          }
        },
      });
    } catch (e) {
      if (!(e instanceof RamClientError)) throw e;
      throw new TerminalError(e.code, e.message, { cause: e.cause ?? e, status: e.status, problemCode: e.problemCode });
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}
