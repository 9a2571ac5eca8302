/**
 * The device side of long-poll push: keep one `GET /push?wait=<ms>` open on the OTA server's PSK-TLS port
 * and hand every trigger to `onTrigger`. One open connection per polling device — for many simulated phones
 * in one process use the in-process push instead.
 */
import { parseTrigger, type PushTrigger } from '../transport/ram-http/trigger.ts';
import { PskHttpsClient } from './psk-https.ts';

export interface LongPollPushClientOptions {
  /** Server base URL, e.g. https://127.0.0.1:8443. */
  readonly url: string;
  readonly pskIdentity: string;
  readonly psk: Uint8Array;
  readonly onTrigger: (t: PushTrigger) => void;
  /** Wait per poll (default 25 000 ms). */
  readonly waitMs?: number;
  /** Pause after a failed poll (default 1000 ms). */
  readonly errorDelayMs?: number;
}

export class LongPollPushClient {
  readonly #o: LongPollPushClientOptions;
  readonly #http: PskHttpsClient;
  #stopped = true;
  #loop: Promise<void> | undefined;
  received = 0;
  errors = 0;

  constructor(options: LongPollPushClientOptions) {
    this.#o = options;
    this.#http = new PskHttpsClient({ url: options.url, identity: options.pskIdentity, key: options.psk, timeoutMs: (options.waitMs ?? 25_000) + 10_000 });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#http.reset();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const wait = this.#o.waitMs ?? 25_000;
    while (!this.#stopped) {
      try {
        const r = await this.#http.request('GET', `/push?wait=${wait}`, {});
        if (r.status === 200) {
          const t = parseTrigger(new TextDecoder().decode(r.body));
          this.received++;
          this.#o.onTrigger(t);
        } else if (r.status !== 204) {
          throw new Error(`push poll answered ${r.status}`);
        }
      } catch {
        if (this.#stopped) break;
        this.errors++;
        await new Promise((res) => setTimeout(res, this.#o.errorDelayMs ?? 1000));
      }
    }
  }
}
