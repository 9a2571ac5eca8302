/**
 * `createService`: the fastify instance every opentsm service starts from. One plugin per concern, in order:
 * request ids → peer identity → route contract → problem+json errors → request body logging (redacted) →
 * idempotency → OpenAPI (`GET /openapi.json`) → health (`GET /health`). Register routes on the returned
 * instance; each needs body and response schemas (see contract.ts).
 */
import type { Server } from 'node:https';
import type { FastifyBaseLogger, FastifyHttpsOptions, FastifyInstance, FastifyServerOptions } from 'fastify';
import Fastify, { LogController } from 'fastify';
import type { IdempotencyStore } from '../idempotency/store.ts';
import { idempotencyPlugin } from '../idempotency/plugin.ts';
import { pinoOptions, type LogOptions } from '../log/logger.ts';
import type { ServerTlsOptions } from '../tls/options.ts';
import { contractPlugin } from './contract.ts';
import { healthPlugin, type HealthCheck } from './health.ts';
import { openApiPlugin } from './openapi.ts';
import { peerPlugin, type IdentifyPeer } from './peer.ts';
import { clientErrorHandler, frameworkErrorHandler, problemsPlugin } from './problems.ts';
import { genRequestId, requestIdPlugin } from './request-id.ts';
import { requestLogPlugin } from './request-log.ts';

export interface ServiceOptions {
  /** Service name: log field `service`, OpenAPI title, health answer. */
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** Log options (level, destination), an existing pino logger, or false for none. Default: info to stdout. */
  readonly logger?: LogOptions | FastifyBaseLogger | false;
  /** Serve HTTPS with these options (mutual TLS: `mutualTlsOptions(identity).server`). Default plain HTTP. */
  readonly tls?: ServerTlsOptions;
  /**
   * Longest time a client may take to send a whole request (headers and body), in ms: a request whose body
   * stops arriving is answered 408 and its connection closed. Default 30 s. Handlers may run longer.
   */
  readonly requestTimeoutMs?: number;
  /** Largest accepted request body in bytes. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** How `request.peer` is found; default the verified TLS client certificate. */
  readonly identify?: IdentifyPeer;
  /** Store for routes with `config: { idempotent: true }`; without it such routes throw at startup. */
  readonly idempotency?: IdempotencyStore;
  /** Readiness checks run by `GET /health`. */
  readonly healthChecks?: Readonly<Record<string, HealthCheck>>;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Node's server options that bound the time to receive a request (issue 8 §4: a body that stopped arriving held
 * the request forever). `requestTimeout` covers headers and body; Node checks it every `connectionsCheckingInterval`,
 * so the interval follows the timeout (at most 1 s). Also for servers that are not fastify (the OTA's RAM server).
 */
export function requestTimeoutOptions(timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS): {
  requestTimeout: number;
  headersTimeout: number;
  connectionsCheckingInterval: number;
} {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError('requestTimeoutMs must be a positive integer');
  return { requestTimeout: timeoutMs, headersTimeout: timeoutMs, connectionsCheckingInterval: Math.max(5, Math.min(1000, Math.floor(timeoutMs / 4))) };
}

function isLogger(v: unknown): v is FastifyBaseLogger {
  return v !== null && typeof v === 'object' && typeof (v as FastifyBaseLogger).child === 'function';
}

export async function createService(options: ServiceOptions): Promise<FastifyInstance> {
  if (typeof options.name !== 'string' || options.name === '') throw new TypeError('service name is required');
  if (typeof options.version !== 'string' || options.version === '') throw new TypeError('service version is required');
  const timeouts = requestTimeoutOptions(options.requestTimeoutMs);
  const base: FastifyServerOptions = {
    requestTimeout: timeouts.requestTimeout,
    genReqId: genRequestId,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // No type coercion anywhere (issue 8 §4: `providerId: 123` became "123", `kvn: true` became 1, `counter: null`
    // became 0): a value of the wrong type is a 400 VALIDATION. Path parameters and query strings are strings on
    // the wire, so their schemas are string schemas (with patterns); a route converts them itself.
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } },
  };
  if (isLogger(options.logger)) base.loggerInstance = options.logger;
  else if (options.logger === false) base.logger = false;
  else base.logger = pinoOptions(options.name, options.version, options.logger ?? {});

  const httpOptions = { headersTimeout: timeouts.headersTimeout, connectionsCheckingInterval: timeouts.connectionsCheckingInterval };
  const app = (options.tls === undefined
    ? Fastify({ ...base, http: httpOptions } as FastifyServerOptions)
    : Fastify({
        ...(base as FastifyHttpsOptions<Server>),
        https: { ...options.tls, ca: [...options.tls.ca], ...httpOptions },
      })) as unknown as FastifyInstance;

  await app.register(requestIdPlugin);
  await app.register(peerPlugin, { identify: options.identify });
  await app.register(contractPlugin);
  await app.register(problemsPlugin);
  await app.register(requestLogPlugin);
  await app.register(idempotencyPlugin, { store: options.idempotency });
  await app.register(openApiPlugin, {
    info: { title: options.name, version: options.version, ...(options.description === undefined ? {} : { description: options.description }) },
  });
  await app.register(healthPlugin, { service: options.name, version: options.version, checks: options.healthChecks });
  return app;
}
