/** Storage: the Database contract, the SQLite and PostgreSQL drivers, migrations and typed errors. */
export type { Database, DatabaseConfig, Migration, Row, SqlValue } from './database.ts';
export { StorageError, type StorageErrorCode } from './errors.ts';
export { openDatabase, parseDatabaseUrl } from './open.ts';
export { openSqlite, type SqliteOptions } from './sqlite.ts';
export { openPostgres, type PostgresOptions } from './postgres.ts';
export { migrate, migrationChecksum, migrationSql, type MigrateOptions } from './migrate.ts';
