/** `openDatabase(config)`: the one place that picks a driver from the validated configuration. */
import type { Database, DatabaseConfig } from './database.ts';
import { openPostgres } from './postgres.ts';
import { openSqlite } from './sqlite.ts';

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  switch (config.driver) {
    case 'sqlite':
      return openSqlite({
        path: config.path,
        ...(config.busyTimeoutMs !== undefined ? { busyTimeoutMs: config.busyTimeoutMs } : {}),
        ...(config.readOnly !== undefined ? { readOnly: config.readOnly } : {}),
      });
    case 'postgres':
      return openPostgres({
        url: config.url,
        ...(config.schema !== undefined ? { schema: config.schema } : {}),
        ...(config.poolSize !== undefined ? { poolSize: config.poolSize } : {}),
      });
    default:
      throw new TypeError(`unknown database driver ${JSON.stringify((config as { driver?: unknown }).driver)}`);
  }
}

/**
 * `sqlite:PATH` (or a bare path) / `postgres://…` / `postgresql://…` → DatabaseConfig, for command
 * lines. A `schema` query parameter of a PostgreSQL URL becomes `schema` (and is removed from the URL).
 */
export function parseDatabaseUrl(text: string): DatabaseConfig {
  if (text.startsWith('postgres://') || text.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new RangeError(`not a valid PostgreSQL URL: ${text}`);
    }
    const schema = url.searchParams.get('schema');
    url.searchParams.delete('schema');
    return { driver: 'postgres', url: url.toString(), ...(schema !== null ? { schema } : {}) };
  }
  const path = text.startsWith('sqlite:') ? text.slice('sqlite:'.length) : text;
  if (path.length === 0) throw new RangeError('sqlite: needs a file path (sqlite:PATH)');
  return { driver: 'sqlite', path };
}
