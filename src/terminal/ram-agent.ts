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
 */
import type { Agent } from 'node:https';
import { fromHex, toHex } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import type { CardChannel } from '../apdu/channel.ts';
import {
  ADMIN_HEADER,
  ADMIN_PROTOCOL,
  CONTENT_TYPE_RESPONSE,
  parseContentType,
  parseNextUri,
  parseTargetedApplication,
  type ScriptStatus,
} from '../transport/ram-http/headers.ts';
import { TerminalError } from './errors.ts';
import { binaryRequest, isNetworkError, type BinaryReply } from './mtls-http.ts';
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

interface Post {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

export class TerminalAgent {
  readonly #o: TerminalAgentOptions;
  readonly #base: URL;
  readonly #initialPath: string;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** AID (hex) targeted by the last script, while the script stream keeps targeting it. */
  #target: string | undefined;
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
    const base = { [ADMIN_HEADER.protocol]: ADMIN_PROTOCOL, [ADMIN_HEADER.from]: this.#o.agentId };
    let post: Post = { path: this.#initialPath, headers: { ...base }, body: new Uint8Array(0) };
    let lastRunUri: string | undefined;
    let lastRunPost: Post | undefined;
    this.#target = undefined;
    for (;;) {
      const reply = await this.#postResuming(post);
      if (reply.status === 204) return;
      if (reply.status !== 200) {
        let problemCode: string | undefined;
        try {
          problemCode = (JSON.parse(new TextDecoder().decode(reply.body)) as { code?: string }).code;
        } catch {
          problemCode = undefined;
        }
        throw new TerminalError('REFUSED', `provider answered ${reply.status}${problemCode ? ` ${problemCode}` : ''}`, {
          status: reply.status,
          ...(problemCode !== undefined ? { problemCode } : {}),
        });
      }
      let nextUri: string;
      try {
        if (parseContentType(reply.headers['content-type'] ?? '') !== 'script') throw new CodecError('BAD_VALUE', 'not a script', 0);
        nextUri = parseNextUri(reply.headers[ADMIN_HEADER.nextUri] ?? '');
      } catch (e) {
        throw new TerminalError('PROTOCOL', `provider reply is not a RAM over HTTP script: ${(e as Error).message}`);
      }
      if (nextUri === lastRunUri && lastRunPost) {
        // The script we ran already came again: repeat its response, never run it twice.
        this.stats.replayedResponses++;
        post = lastRunPost;
        continue;
      }
      post = await this.#o.withReader((reader) => this.#execute(reader, reply, nextUri, base));
      lastRunUri = nextUri;
      lastRunPost = post;
    }
  }

  async #execute(reader: CardChannel, reply: BinaryReply, nextUri: string, base: Record<string, string>): Promise<Post> {
    const report = (status: ScriptStatus): Post => ({ path: nextUri, headers: { ...base, [ADMIN_HEADER.scriptStatus]: status }, body: new Uint8Array(0) });
    const targetHeader = reply.headers[ADMIN_HEADER.targetedApplication];
    if (targetHeader !== undefined) {
      let aid: Uint8Array;
      try {
        aid = parseTargetedApplication(targetHeader);
      } catch {
        return report('unknown-application');
      }
      const hex = toHex(aid).toUpperCase();
      if (this.#target !== hex) {
        let ok = false;
        try {
          const r = await reader.transmit(fromHex(`00A40400${aid.length.toString(16).padStart(2, '0')}${hex}00`));
          ok = r.length >= 2 && r[r.length - 2] === 0x90 && r[r.length - 1] === 0x00;
        } catch {
          ok = false;
        }
        if (!ok) {
          this.#target = undefined;
          return report('unknown-application');
        }
        this.#target = hex;
      }
    } else {
      this.#target = undefined;
    }
    const done = await runScript(reply.body, reader);
    this.stats.scripts++;
    this.stats.commands += done.executed;
    return { path: nextUri, headers: { ...base, [ADMIN_HEADER.scriptStatus]: 'ok', 'content-type': CONTENT_TYPE_RESPONSE }, body: done.body };
  }

  /** POST; on a lost connection, repeat it with X-Admin-Resume: true until answered or stopped. */
  async #postResuming(post: Post): Promise<BinaryReply> {
    let delay = this.#o.retryDelayMs ?? 20;
    const timeout = this.#o.requestTimeoutMs ?? 60_000;
    for (let attempt = 0; ; attempt++) {
      if (this.#stopped) throw new TerminalError('STOPPED', 'the terminal was stopped');
      const headers = attempt === 0 ? post.headers : { ...post.headers, [ADMIN_HEADER.resume]: 'true' };
      try {
        return await binaryRequest(this.#o.agent, new URL(post.path, this.#base), 'POST', headers, post.body, timeout);
      } catch (e) {
        if (this.#stopped) throw new TerminalError('STOPPED', 'the terminal was stopped', { cause: e });
        if (!isNetworkError(e)) throw new TerminalError('CONNECTION_FAILED', `RAM over HTTP request failed: ${(e as Error).message}`, { cause: e });
        this.stats.resumes++;
        await this.#sleep(delay);
        delay = Math.min(delay * 2, this.#o.maxRetryDelayMs ?? 2000);
      }
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
