/**
 * vpcd client: connects a `CardPort` to the vpcd reader driver loaded in pcscd (Debian package
 * `vsmartcard-vpcd`, default 127.0.0.1:35963), so that pcscd and every PC/SC tool see the card.
 * Reconnects when the connection drops (pcscd restart). Wire format: see `vpcd-protocol.ts`.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CardPort } from './card-port.ts';
import { TransportError } from './errors.ts';
import { VPCD_DEFAULT_PORT, VpcdFrameReader, VpcdSession, encodeVpcdFrame } from './vpcd-protocol.ts';

export type VpcdState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface VpcdOptions {
  /** Host where pcscd with vpcd runs; default 127.0.0.1. */
  readonly host?: string;
  /** vpcd port; default 35963 (reader 'Virtual PCD 00 00'; 35964 is 'Virtual PCD 00 01'). */
  readonly port?: number;
  /** Connect again after the connection fails or drops; default true. */
  readonly reconnect?: boolean;
  /** Delay before connecting again; default 500 ms. */
  readonly reconnectDelayMs?: number;
  /** Connection state changes; `error` says why a connection ended or failed. */
  readonly onStateChange?: (state: VpcdState, error?: Error) => void;
  /** A message the card could not handle (bad frame, card threw); the connection stays up. */
  readonly onError?: (error: Error) => void;
  /** APDU trace. */
  readonly onExchange?: (command: Uint8Array, response: Uint8Array) => void;
  /** Abort to disconnect and stop; the returned promise then resolves. */
  readonly signal?: AbortSignal;
}

interface ConnectionOutcome {
  readonly connected: boolean;
  readonly error?: Error;
}

/**
 * Serve `card` to vpcd until `signal` aborts (or, with `reconnect: false`, until the connection ends).
 * Rejects with `TransportError('CONNECTION_FAILED')` only when `reconnect` is false and the connection
 * could not be made.
 */
export async function serveVpcd(card: CardPort, options: VpcdOptions = {}): Promise<void> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? VPCD_DEFAULT_PORT;
  const reconnect = options.reconnect ?? true;
  const delayMs = options.reconnectDelayMs ?? 500;
  const { signal } = options;
  const session = new VpcdSession(card, { onExchange: options.onExchange });
  const state = (s: VpcdState, e?: Error): void => options.onStateChange?.(s, e);
  const aborted = (): boolean => signal?.aborted === true;

  try {
    while (!aborted()) {
      state('connecting');
      const outcome = await runConnection(host, port, session, options);
      session.detach();
      if (aborted()) break;
      state('disconnected', outcome.error);
      if (!reconnect) {
        if (!outcome.connected) {
          throw new TransportError('CONNECTION_FAILED', `cannot connect to vpcd at ${host}:${port}`, { cause: outcome.error });
        }
        break;
      }
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        break; // aborted
      }
    }
  } finally {
    state('stopped');
  }
}

function runConnection(host: string, port: number, session: VpcdSession, options: VpcdOptions): Promise<ConnectionOutcome> {
  return new Promise((resolve) => {
    const { signal } = options;
    const reader = new VpcdFrameReader();
    let connected = false;
    let error: Error | undefined;
    const socket: Socket = connect({ host, port });
    const onAbort = (): void => {
      socket.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    socket.setNoDelay(true);
    socket.on('connect', () => {
      connected = true;
      options.onStateChange?.('connected');
    });
    // One message after the other: an answer goes out only after the card's state change is durable.
    let queue: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        queue = queue.then(async () => {
          const { reply, error: problem } = await session.handleDurably(message);
          if (problem !== undefined) options.onError?.(problem);
          if (reply !== undefined && !socket.destroyed) socket.write(encodeVpcdFrame(reply));
        });
      }
    });
    socket.on('error', (e) => {
      error = e;
    });
    socket.on('close', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(error === undefined ? { connected } : { connected, error });
    });
  });
}
