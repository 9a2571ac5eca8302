/**
 * The admin agent (GlobalPlatform Amendment B §3): the phone's RAM over HTTP client. On a push trigger it
 * connects to the OTA server over PSK-TLS, POSTs (first with no body and `X-Admin-From`), runs every
 * command script it gets on the card (through the card's `process`), POSTs the Response Scripting template
 * to `X-Admin-Next-URI`, and goes on until the server answers 204.
 *
 * Lost connections: the agent repeats its last POST with `X-Admin-Resume: true` on a new connection
 * (up to `maxRetries` times). It never runs a script twice: it remembers the Next-URI of the last script
 * it ran and, should the same script come again, repeats the stored response instead of running it.
 * The session itself (headers, resume, never-twice, targeted application) is the shared RAM over HTTP
 * client in src/transport/ram-http/client-session.ts; this file adds the PSK-TLS connection, the card and
 * the push triggers.
 */
import type { CardPort } from '../transport/card-port.ts';
import { executeScript } from '../transport/ram-http/execute.ts';
import { RamClientError, runRamClientSession, runTargetedScript, type RamSessionSummary } from '../transport/ram-http/client-session.ts';
import type { PushTrigger } from '../transport/ram-http/trigger.ts';
import { DeviceError } from './errors.ts';
import { PskHttpsClient } from './psk-https.ts';

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

/** scripts run, C-APDUs handed to the card, requests repeated with X-Admin-Resume, stored responses sent again. */
export type SessionSummary = RamSessionSummary;

export class AdminAgent {
  readonly #o: AdminAgentOptions;
  readonly #http: PskHttpsClient;
  readonly #initialPath: string;
  #running: Promise<void> | undefined;
  #again = false;
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

  /** Resolves when no session runs (at once when none does): tests wait for it instead of polling `busy`. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running.catch(() => {});
  }

  /** Whether a session is running. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Run one administration session to its 204; throws DeviceError when it cannot. */
  async runSession(): Promise<SessionSummary> {
    this.stats.sessions++;
    const card = this.#o.card;
    const http = this.#http;
    try {
      return await runRamClientSession({
        initialPath: this.#initialPath,
        agentId: this.#o.agentId,
        peer: 'OTA server',
        exchange: async (post) => {
          try {
            return await http.request('POST', post.path, { ...post.headers }, post.body);
          } catch (e) {
            http.reset(); // a new connection for the resume
            throw e;
          }
        },
        execute: async (script) => {
          const done = await runTargetedScript(
            script,
            async (capdu) => card.process(capdu),
            async (body) => executeScript(body, (capdu) => card.process(capdu)),
          );
          // The script's responses leave the phone together: one durability barrier for all of them.
          await card.sync?.();
          return done;
        },
        retry: { maxRetries: this.#o.maxRetries ?? 5, delayMs: this.#o.retryDelayMs ?? 10 },
        onEvent: (e) => {
          if (e.type === 'resume') this.stats.resumes++;
          else if (e.type === 'script' && e.status === 'ok') {
            this.stats.scripts++;
            this.stats.commands += e.executed;
          }
        },
      });
    } catch (e) {
      if (!(e instanceof RamClientError) || e.code === 'STOPPED') throw e;
      throw new DeviceError(e.code, e.message, { cause: e.cause ?? e, status: e.status, problemCode: e.problemCode });
    } finally {
      http.reset();
    }
  }
}
