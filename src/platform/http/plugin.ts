/** Plugin plumbing: a plugin that decorates or hooks the service itself, not an encapsulated child. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

/** Mark `fn` so fastify applies its hooks and decorators to the instance it is registered on. */
export function platformPlugin<O extends Record<string, unknown>>(
  name: string,
  fn: (app: FastifyInstance, options: O) => Promise<void>,
): FastifyPluginAsync<O> {
  const plugin = fn as FastifyPluginAsync<O> & Record<symbol, unknown>;
  plugin[Symbol.for('skip-override')] = true;
  plugin[Symbol.for('fastify.display-name')] = name;
  return plugin;
}
