/**
 * The admin agent (GlobalPlatform Amendment B §3): the phone's RAM over HTTP client. On a push trigger it
 * connects to the OTA server over PSK-TLS, POSTs (first with no body and `X-Admin-From`), runs every
 * command script it gets on the card (through the card's `process`), POSTs the Response Scripting template
 * to `X-Admin-Next-URI`, and goes on until the server answers 204.
 *
 * Lost connections: the agent repeats its last POST with `X-Admin-Resume: true` on a new connection
 * (up to `maxRetries` times). It never runs a script twice: it remembers the Next-URI of the last script
 * it ran and, should the same script come again, repeats the stored response instead of running it.
 */
import { toHex, fromHex } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import type { CardPort } from '../transport/card-port.ts';
import {
  ADMIN_HEADER,
  ADMIN_PROTOCOL,
  CONTENT_TYPE_RESPONSE,
  parseContentType,
  parseNextUri,
  parseTargetedApplication,
  type ScriptStatus,
} from '../transport/ram-http/headers.ts';
import { executeScript } from '../transport/ram-http/execute.ts';
import type { PushTrigger } from '../transport/ram-http/trigger.ts';
import { DeviceError } from './errors.ts';
import { PskHttpsClient, type HttpReply } from './psk-https.ts';

export interface AdminAgentOptions {
  readonly card: CardPort;
  /** URL of the first POST, e.g. https://ota.example:8443/ram. */
  readonly serverUrl: string;
  readonly pskIdentity: string;
  /** The SCP81 PSK of the security domain. */
  readonly psk: Uint8Array;
  /** `X-Admin-From`, e.g. //se-id/eid/<EID>;//aa-id/aid/<RID>/<PIX>. */
  readonly agentId: string;
  readonly ciphers?: string;
  /** Attempts to resume after a broken connection before the session fails (default 5). */
  readonly maxRetries?: number;
  /** Delay before the first resume attempt, doubled each time (default 10 ms). */
  readonly retryDelayMs?: number;
}

export interface SessionSummary {
  /** Scripts run on the card in this session. */
  readonly scripts: number;
  /** C-APDUs handed to the card. */
  readonly commands: number;
  /** Requests repeated with X-Admin-Resume. */
  readonly resumes: number;
}

interface Post {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_CLOSED']);

function isNetworkError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || (e instanceof Error && /socket hang up/i.test(e.message));
}

export class AdminAgent {
  readonly #o: AdminAgentOptions;
  readonly #http: PskHttpsClient;
  readonly #initialPath: string;
  #running: Promise<void> | undefined;
  #again = false;
  /** AID (hex) of the application targeted by the last script, while the script stream keeps targeting it. */
  #target: string | undefined;
  /** Last trigger id seen. */
  lastTriggerId = 0;
  readonly stats = { sessions: 0, scripts: 0, commands: 0, resumes: 0, failures: 0 };
  /** Error of the last failed session, if any. */
  lastError: Error | undefined;

  constructor(options: AdminAgentOptions) {
    this.#o = options;
    const u = new URL(options.serverUrl);
    this.#initialPath = u.pathname + u.search;
    this.#http = new PskHttpsClient({
      url: options.serverUrl,
      identity: options.pskIdentity,
      key: options.psk,
      ...(options.ciphers !== undefined ? { ciphers: options.ciphers } : {}),
    });
  }

  /** React to a push: start a session, or run one more after the current one. Resolves when idle again. */
  trigger(t?: PushTrigger): Promise<void> {
    if (t) this.lastTriggerId = Math.max(this.lastTriggerId, t.id);
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          try {
            await this.runSession();
          } catch (e) {
            this.stats.failures++;
            this.lastError = e as Error;
          }
        } while (this.#again);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Whether a session is running. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Run one administration session to its 204; throws DeviceError when it cannot. */
  async runSession(): Promise<SessionSummary> {
    this.stats.sessions++;
    const base = { [ADMIN_HEADER.protocol]: ADMIN_PROTOCOL, [ADMIN_HEADER.from]: this.#o.agentId };
    let post: Post = { path: this.#initialPath, headers: { ...base }, body: new Uint8Array(0) };
    let lastRunUri: string | undefined;
    let lastRunPost: Post | undefined;
    let scripts = 0;
    let commands = 0;
    let resumes = 0;
    try {
      for (;;) {
        const sent = await this.#postResuming(post);
        resumes += sent.resumes;
        const reply = sent.reply;
        if (reply.status === 204) return { scripts, commands, resumes };
        if (reply.status !== 200) {
          let problemCode: string | undefined;
          try {
            problemCode = (JSON.parse(new TextDecoder().decode(reply.body)) as { code?: string }).code;
          } catch {
            problemCode = undefined;
          }
          throw new DeviceError('REFUSED', `OTA server answered ${reply.status}${problemCode ? ` ${problemCode}` : ''}`, {
            status: reply.status,
            ...(problemCode !== undefined ? { problemCode } : {}),
          });
        }
        let nextUri: string;
        try {
          if (parseContentType(reply.headers['content-type'] ?? '') !== 'script') throw new CodecError('BAD_VALUE', 'not a script', 0);
          nextUri = parseNextUri(reply.headers[ADMIN_HEADER.nextUri] ?? '');
        } catch (e) {
          throw new DeviceError('PROTOCOL', `OTA server reply is not a RAM over HTTP script: ${(e as Error).message}`);
        }
        if (nextUri === lastRunUri && lastRunPost) {
          // The same script again: it ran already; repeat its response instead of running it twice.
          post = lastRunPost;
          continue;
        }
        const ran = this.#run(reply, nextUri, base);
        post = ran.post;
        if (ran.executed !== undefined) {
          scripts++;
          commands += ran.executed;
          this.stats.scripts++;
          this.stats.commands += ran.executed;
        }
        lastRunUri = nextUri;
        lastRunPost = post;
      }
    } finally {
      this.#http.reset();
    }
  }

  /** Run one script on the card; returns the POST that reports it (and the commands run, when it ran). */
  #run(reply: HttpReply, nextUri: string, base: Record<string, string>): { post: Post; executed?: number } {
    const card = this.#o.card;
    const targetHeader = reply.headers[ADMIN_HEADER.targetedApplication];
    const report = (status: ScriptStatus) => ({ post: { path: nextUri, headers: { ...base, [ADMIN_HEADER.scriptStatus]: status }, body: new Uint8Array(0) } });
    if (targetHeader !== undefined) {
      let aid: Uint8Array;
      try {
        aid = parseTargetedApplication(targetHeader);
      } catch {
        return report('unknown-application');
      }
      const hex = toHex(aid).toUpperCase();
      if (this.#target !== hex) {
        const select = fromHex(`00A40400${aid.length.toString(16).padStart(2, '0')}${hex}00`);
        const r = card.process(select);
        const sw = (r[r.length - 2]! << 8) | r[r.length - 1]!;
        if (sw !== 0x9000) {
          this.#target = undefined;
          return report('unknown-application');
        }
        this.#target = hex;
      }
    } else {
      this.#target = undefined;
    }
    const done = executeScript(reply.body, (capdu) => card.process(capdu));
    return {
      post: { path: nextUri, headers: { ...base, [ADMIN_HEADER.scriptStatus]: 'ok', 'content-type': CONTENT_TYPE_RESPONSE }, body: done.body },
      executed: done.executed,
    };
  }

  /** POST; on a broken connection, repeat it with X-Admin-Resume: true on a new connection. */
  async #postResuming(post: Post): Promise<{ reply: HttpReply; resumes: number }> {
    const max = this.#o.maxRetries ?? 5;
    let delay = this.#o.retryDelayMs ?? 10;
    for (let attempt = 0; ; attempt++) {
      const headers = attempt === 0 ? post.headers : { ...post.headers, [ADMIN_HEADER.resume]: 'true' };
      try {
        const reply = await this.#http.request('POST', post.path, headers, post.body);
        return { reply, resumes: attempt };
      } catch (e) {
        this.#http.reset();
        if (!isNetworkError(e) || attempt >= max) {
          throw new DeviceError('CONNECTION_FAILED', `RAM over HTTP request failed: ${(e as Error).message}`, { cause: e });
        }
        this.stats.resumes++;
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }
}
