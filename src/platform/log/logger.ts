/**
 * Structured logging: fastify's pino with the platform's redaction. Request bodies are logged (at `debug`)
 * only through `redactSecrets`; credentials in headers are censored by pino's path redaction.
 */
import type { FastifyBaseLogger } from 'fastify';
import { redactSecrets } from './redact.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Where log lines go; default stdout. Tests pass a collector. */
export interface LogDestination {
  write(line: string): void;
}

export interface LogOptions {
  readonly level?: LogLevel;
  readonly destination?: LogDestination;
}

/** Header values that are credentials (censored); idempotency keys and request ids are not secrets. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["set-cookie"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/** pino options for `Fastify({ logger })`: level, destination, redaction, base fields. */
export function pinoOptions(service: string, version: string, options: LogOptions = {}): Record<string, unknown> {
  return {
    level: options.level ?? 'info',
    base: { service, version },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(options.destination === undefined ? {} : { stream: options.destination }),
  };
}

/** Log `fields` (redacted) with `message` at `level`. The one way to log a value that may carry key material. */
export function safeLog(
  logger: FastifyBaseLogger,
  level: Exclude<LogLevel, 'silent'>,
  fields: Readonly<Record<string, unknown>>,
  message: string,
): void {
  logger[level](redactSecrets(fields) as Record<string, unknown>, message);
}

/** A collector for tests and tools: every line parsed as JSON. */
export function memoryDestination(): LogDestination & { readonly lines: string[]; records(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    records() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}
