/**
 * HTTPS over TLS 1.2 with a pre-shared key (SCP81, ETSI TS 102 225): the admin agent's side of the
 * connection. The connection is opened lazily on the first request, kept alive for the following ones,
 * and dropped with `reset()` (end of a session, or after a broken connection).
 */
import https from 'node:https';

export const AGENT_PSK_CIPHERS = 'PSK-AES128-GCM-SHA256:PSK-AES128-CBC-SHA256';

export interface PskHttpsOptions {
  /** Base URL of the server, e.g. https://127.0.0.1:8443 (path ignored). */
  readonly url: string;
  readonly identity: string;
  readonly key: Uint8Array;
  readonly ciphers?: string;
  /** Per-request time limit (default 60 000 ms). */
  readonly timeoutMs?: number;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

export class PskHttpsClient {
  readonly #o: PskHttpsOptions;
  readonly #host: string;
  readonly #port: number;
  readonly #key: Buffer;
  #agent: https.Agent | undefined;

  constructor(options: PskHttpsOptions) {
    const u = new URL(options.url);
    if (u.protocol !== 'https:') throw new RangeError('PSK-TLS needs an https: URL');
    this.#o = options;
    this.#host = u.hostname;
    this.#port = Number(u.port || 443);
    this.#key = Buffer.from(options.key);
  }

  #getAgent(): https.Agent {
    if (!this.#agent) {
      this.#agent = new https.Agent({
        keepAlive: true,
        maxSockets: 1,
        maxCachedSessions: 0,
        pskCallback: () => ({ psk: this.#key, identity: this.#o.identity }),
        ciphers: this.#o.ciphers ?? AGENT_PSK_CIPHERS,
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        // PSK suites carry no certificate; the PSK authenticates the server.
        checkServerIdentity: () => undefined,
      });
    }
    return this.#agent;
  }

  request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: Uint8Array = new Uint8Array(0)): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: this.#host,
          port: this.#port,
          method,
          path,
          agent: this.#getAgent(),
          headers: { ...headers, 'content-length': String(body.length) },
          timeout: this.#o.timeoutMs ?? 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const h: Record<string, string | undefined> = {};
            for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(',') : v;
            resolve({ status: res.statusCode ?? 0, headers: h, body: new Uint8Array(Buffer.concat(chunks)) });
          });
          res.on('error', reject);
          res.on('aborted', () => reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Drop the connection (the next request opens a new one). */
  reset(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }
}
