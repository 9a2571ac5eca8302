export { IDEMPOTENCY_TABLE, idempotencyMigrations } from './migration.ts';
export { IdempotencyStore, type IdempotencyStoreOptions, type StoredResponse, type BeginResult } from './store.ts';
export { requestHash, canonicalJson, type RequestFingerprint } from './hash.ts';
export { idempotencyPlugin, type IdempotencyPluginOptions, IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from './plugin.ts';
