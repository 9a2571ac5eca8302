/** Request bodies in the log (level `debug`), always through the secret redaction. */
import type { FastifyInstance } from 'fastify';
import { safeLog } from '../log/logger.ts';
import { platformPlugin } from './plugin.ts';

export const requestLogPlugin = platformPlugin('opentsm-request-log', async (app: FastifyInstance) => {
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || !(request.log as { isLevelEnabled?(l: string): boolean }).isLevelEnabled?.('debug')) return;
    safeLog(request.log, 'debug', { body: request.body }, 'request body');
  });
});
