/**
 * A small JSON client for service-to-service calls (node:https with a mutual-TLS agent, or plain http).
 * Problem answers (status ≥ 400) reject with `RemoteProblemError` carrying the remote problem body.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent } from 'node:https';
import { OpentsmError } from '../../core/errors.ts';
import type { ProblemBody } from '../errors.ts';
import { IDEMPOTENCY_KEY_HEADER } from '../idempotency/plugin.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';

export interface ClientOptions {
  /** `https://127.0.0.1:7101` */
  readonly baseUrl: string;
  /** For https: an agent presenting this platform's certificate (`mutualTlsAgent(identity)`). */
  readonly agent?: Agent;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  readonly body?: unknown;
  readonly idempotencyKey?: string;
  readonly requestId?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ClientResponse<T> {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: T;
}

export type RemoteErrorCode = 'REMOTE_PROBLEM' | 'REMOTE_UNREADABLE' | 'REMOTE_UNREACHABLE' | 'REMOTE_TIMEOUT';

/** The other service answered with a problem (its `code` is in `problem.code`), or could not be reached. */
export class RemoteProblemError extends OpentsmError {
  declare readonly code: RemoteErrorCode;
  readonly status: number;
  readonly problem: ProblemBody | undefined;
  constructor(code: RemoteErrorCode, message: string, status: number, problem?: ProblemBody, options?: ErrorOptions) {
    super(code, message, options);
    this.status = status;
    this.problem = problem;
  }
}

export class PlatformClient {
  readonly #base: URL;
  readonly #agent: Agent | undefined;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.#base = new URL(options.baseUrl);
    if (this.#base.protocol !== 'https:' && this.#base.protocol !== 'http:') throw new TypeError(`baseUrl must be http(s), got ${options.baseUrl}`);
    this.#agent = options.agent;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  get<T>(path: string, options?: CallOptions): Promise<ClientResponse<T>> {
    return this.call<T>('GET', path, options);
  }
  post<T>(path: string, options?: CallOptions): Promise<ClientResponse<T>> {
    return this.call<T>('POST', path, options);
  }

  call<T>(method: string, path: string, options: CallOptions = {}): Promise<ClientResponse<T>> {
    const url = new URL(path, this.#base);
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...options.headers };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey !== undefined) headers[IDEMPOTENCY_KEY_HEADER] = options.idempotencyKey;
    if (options.requestId !== undefined) headers[REQUEST_ID_HEADER] = options.requestId;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, ...(this.#agent === undefined ? {} : { agent: this.#agent }) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new RemoteProblemError('REMOTE_UNREACHABLE', `${method} ${url.pathname}: ${err.message}`, 0, undefined, { cause: err })));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = undefined;
          if (text !== '') {
            try {
              body = JSON.parse(text);
            } catch (err) {
              reject(new RemoteProblemError('REMOTE_UNREADABLE', `${method} ${url.pathname}: answer ${status} is not JSON`, status, undefined, { cause: err }));
              return;
            }
          }
          if (status >= 400) {
            const problem = body as ProblemBody | undefined;
            const detail = typeof problem?.code === 'string' ? `${problem.code}: ${problem.detail}` : `status ${status}`;
            reject(new RemoteProblemError('REMOTE_PROBLEM', `${method} ${url.pathname}: ${detail}`, status, problem));
            return;
          }
          resolve({ status, headers: res.headers, body: body as T });
        });
      });
      req.setTimeout(this.#timeoutMs, () => req.destroy(new RemoteProblemError('REMOTE_TIMEOUT', `${method} ${url.pathname}: no answer in ${this.#timeoutMs} ms`, 0)));
      req.on('error', (err) => {
        reject(err instanceof RemoteProblemError ? err : new RemoteProblemError('REMOTE_UNREACHABLE', `${method} ${url.pathname}: ${err.message}`, 0, undefined, { cause: err }));
      });
      req.end(payload);
    });
  }
}
