/**
 * The RAM over HTTP endpoint on the wire: HTTP/1.1 over TLS 1.2 with pre-shared keys (SCP81, ETSI
 * TS 102 225 / GP Amendment B §2.3; PSK-AES128-GCM-SHA256 and PSK-AES128-CBC-SHA256). The PSK identity
 * the agent presents selects the key and thereby the device; requests are handed to `RamEndpoint`.
 * `GET /push?wait=<ms>` serves long-poll push triggers when the push gateway supports polling.
 */
import https from 'node:https';
import { constants as cryptoConstants } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { encodeTrigger } from '../../transport/ram-http/trigger.ts';
import { RAM_MAX_BODY_BYTES } from '../../transport/ram-http/headers.ts';
import { requestTimeoutOptions } from '../../platform/http/service.ts';
import type { PskStore } from './psk-store.ts';
import type { RamEndpoint, RamReply } from '../../transport/ram-http/server-session.ts';
import type { PollablePushGateway } from './push-long-poll.ts';
import { PROBLEM_CONTENT_TYPE, problem } from './problem.ts';

export const PSK_CIPHERS = 'PSK-AES128-GCM-SHA256:PSK-AES128-CBC-SHA256';

/** Test hooks to cut the connection at chosen points (fault tests); never set in production. */
export interface RamFaults {
  /** Called before a request is processed; 'drop' destroys the connection as if the request was lost. */
  onRequest?(info: { deviceId: string; path: string }): 'process' | 'drop';
  /** Called after a request was processed; 'drop' destroys the connection instead of sending the reply. */
  onReply?(info: { deviceId: string; path: string; status: number }): 'send' | 'drop';
}

export interface RamServerOptions {
  readonly endpoint: RamEndpoint;
  readonly pskStore: PskStore;
  readonly identityHint?: string;
  readonly ciphers?: string;
  readonly maxBodyBytes?: number;
  readonly poll?: PollablePushGateway;
  readonly faults?: RamFaults;
  /** Longest time an agent may take to send a whole request (default 30 s; then 408 and the connection closes). */
  readonly requestTimeoutMs?: number;
  /** Keep-alive time of an idle agent connection (default 5000 ms). */
  readonly keepAliveMs?: number;
}

export class RamServer {
  readonly server: https.Server;
  readonly #identities = new WeakMap<object, string>();
  readonly #o: RamServerOptions;
  readonly #maxBody: number;

  constructor(options: RamServerOptions) {
    this.#o = options;
    this.#maxBody = options.maxBodyBytes ?? RAM_MAX_BODY_BYTES;
    this.server = https.createServer(
      {
        pskCallback: (socket: TLSSocket, identity: string) => {
          const rec = options.pskStore.byIdentity(identity);
          if (!rec) return null;
          this.#identities.set(socket, identity);
          return Buffer.from(rec.key);
        },
        ...requestTimeoutOptions(options.requestTimeoutMs),
        pskIdentityHint: options.identityHint ?? 'opentsm-ota',
        ciphers: options.ciphers ?? PSK_CIPHERS,
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        // No session tickets: every connection runs the PSK handshake, which is where the identity (and so
        // the device) is learnt. PSK handshakes involve no public-key operations, so this costs little.
        secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
        keepAliveTimeout: options.keepAliveMs ?? 5000,
      },
      (req, res) => {
        this.#onRequest(req, res).catch(() => {
          if (!res.headersSent) this.#send(res, { status: 500, headers: { 'content-type': PROBLEM_CONTENT_TYPE }, body: json(problem(500, 'INTERNAL', 'internal error', '/')) });
          else res.destroy();
        });
      },
    );
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<{ port: number; host: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address() as AddressInfo;
    return { port: a.port, host };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const identity = this.#identities.get(req.socket);
    const rec = identity === undefined ? undefined : this.#o.pskStore.byIdentity(identity);
    const path = req.url ?? '/';
    if (!rec) {
      // The PSK was removed since the handshake.
      req.resume();
      this.#send(res, problemReply(401, 'UNAUTHENTICATED', 'PSK identity no longer registered', path));
      return;
    }
    const body = await readBody(req, this.#maxBody);
    if (body === undefined) {
      this.#send(res, problemReply(413, 'BODY_TOO_LARGE', `request body over ${this.#maxBody} bytes`, path), true);
      return;
    }
    const info = { deviceId: rec.deviceId, path };
    if (this.#o.faults?.onRequest?.(info) === 'drop') {
      req.socket.destroy();
      return;
    }
    let reply: RamReply;
    if (path.split('?')[0] === '/push' && this.#o.poll) {
      reply = await this.#poll(rec.deviceId, req, path);
    } else {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
      reply = await this.#o.endpoint.handle({
        deviceId: rec.deviceId,
        ...(rec.agentId !== undefined ? { expectedAgentId: rec.agentId } : {}),
        method: req.method ?? 'GET',
        path,
        headers,
        body,
      });
    }
    if (this.#o.faults?.onReply?.({ ...info, status: reply.status }) === 'drop') {
      req.socket.destroy();
      return;
    }
    this.#send(res, reply);
  }

  async #poll(deviceId: string, req: IncomingMessage, path: string): Promise<RamReply> {
    if (req.method !== 'GET') return problemReply(405, 'METHOD_NOT_ALLOWED', 'GET /push?wait=<ms>', '/push');
    const wait = Number(new URL(path, 'https://x').searchParams.get('wait') ?? '25000');
    if (!Number.isInteger(wait) || wait < 0 || wait > 600_000) return problemReply(400, 'BAD_HEADER', 'wait must be 0 to 600000 ms', '/push');
    let gone = false;
    const onClose = () => (gone = true);
    req.socket.once('close', onClose);
    const t = await this.#o.poll!.poll(deviceId, wait);
    req.socket.off('close', onClose);
    if (t && gone) this.#o.poll!.push(t); // keep it for the next poll
    if (!t) return { status: 204, headers: {}, body: new Uint8Array(0) };
    return { status: 200, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(encodeTrigger(t)) };
  }

  #send(res: ServerResponse, reply: RamReply, close = false): void {
    const headers: Record<string, string | number> = { ...reply.headers, 'content-length': reply.body.length };
    if (close) headers.connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  }
}

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

function problemReply(status: number, code: Parameters<typeof problem>[1], detail: string, path: string): RamReply {
  return { status, headers: { 'content-type': PROBLEM_CONTENT_TYPE }, body: json(problem(status, code, detail, path.split('?')[0]!)), code };
}

function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}
