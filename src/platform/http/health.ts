/** `GET /health`: liveness plus optional readiness checks (database reachable, …); 503 problem when one fails. */
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../errors.ts';
import { platformPlugin } from './plugin.ts';

/** A named check that throws (or rejects) when the service is not ready. */
export type HealthCheck = () => void | Promise<void>;

export interface HealthOptions extends Record<string, unknown> {
  readonly service: string;
  readonly version: string;
  readonly checks?: Readonly<Record<string, HealthCheck>>;
}

const healthSchema = {
  type: 'object',
  required: ['status', 'service', 'version', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    service: { type: 'string' },
    version: { type: 'string' },
    checks: { type: 'object', additionalProperties: { type: 'string', enum: ['ok'] } },
  },
  additionalProperties: false,
} as const;

export const healthPlugin = platformPlugin('opentsm-health', async (app: FastifyInstance, options: HealthOptions) => {
  const checks = Object.entries(options.checks ?? {});
  app.get('/health', { schema: { summary: 'Liveness and readiness', tags: ['platform'], response: { 200: healthSchema } } }, async (request) => {
    const results: Record<string, string> = {};
    const failed: string[] = [];
    for (const [name, check] of checks) {
      try {
        await check();
        results[name] = 'ok';
      } catch (err) {
        request.log.warn({ err, check: name }, 'health check failed');
        results[name] = 'failed';
        failed.push(name);
      }
    }
    if (failed.length > 0) {
      throw new ProblemError({ status: 503, code: 'UNAVAILABLE', detail: `not ready: ${failed.join(', ')}`, extra: { checks: results } });
    }
    return { status: 'ok', service: options.service, version: options.version, checks: results };
  });
});
