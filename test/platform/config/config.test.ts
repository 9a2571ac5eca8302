/** The platform configuration: one validated, frozen object; every bad field listed at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/platform/errors.ts';
import { SERVICE_NAMES, databaseConfig, defaultConfig, loadConfig } from '../../../src/platform/config/index.ts';

test('defaults derive from dataDir', () => {
  const c = defaultConfig('/var/lib/opentsm');
  assert.equal(c.dataDir, '/var/lib/opentsm');
  assert.deepEqual(c.database, { driver: 'sqlite', path: '/var/lib/opentsm/{service}.db' });
  assert.equal(c.kekFile, '/var/lib/opentsm/kek.key');
  assert.equal(c.tlsDir, '/var/lib/opentsm/tls');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.requestTimeoutMs, 30_000);
  assert.deepEqual(Object.keys(c.services), [...SERVICE_NAMES]);
  assert.deepEqual(c.services.issuer, { host: '127.0.0.1', port: 7101 });
  assert.deepEqual(c.services['ota-admin'], { host: '127.0.0.1', port: 7104 });
  assert.deepEqual(databaseConfig(c, 'issuer'), { driver: 'sqlite', path: '/var/lib/opentsm/issuer.db' });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.services) && Object.isFrozen(c.services.issuer) && Object.isFrozen(c.database));
  assert.throws(() => defaultConfig(''), TypeError);
});

test('explicit values: postgres, ephemeral ports, level, paths', () => {
  const c = loadConfig({
    dataDir: 'data',
    database: { driver: 'postgres', url: 'postgres://tsm@localhost/opentsm', poolSize: 8 },
    kekFile: '/etc/opentsm/kek',
    tlsDir: '/etc/opentsm/tls',
    logLevel: 'debug',
    services: { issuer: { port: 0 }, provider: { port: 0 }, ota: { host: '0.0.0.0', port: 8443 } },
  });
  assert.deepEqual(c.services.issuer, { host: '127.0.0.1', port: 0 });
  assert.deepEqual(c.services.provider, { host: '127.0.0.1', port: 0 });
  assert.deepEqual(c.services.ota, { host: '0.0.0.0', port: 8443 });
  assert.equal(c.logLevel, 'debug');
  assert.equal(loadConfig({ dataDir: '/d', requestTimeoutMs: 250 }).requestTimeoutMs, 250);
  assert.deepEqual(databaseConfig(c, 'ota-admin'), { driver: 'postgres', url: 'postgres://tsm@localhost/opentsm', schema: 'ota_admin', poolSize: 8 });
  assert.deepEqual(databaseConfig(loadConfig({ dataDir: 'd', database: { driver: 'sqlite', path: ':memory:' } }), 'issuer'), {
    driver: 'sqlite',
    path: ':memory:',
  });
});

test('every bad field is listed, with its path', () => {
  let error: unknown;
  try {
    loadConfig({
      database: { driver: 'postgres', url: 'mysql://x', poolSize: 0, extra: 1 },
      logLevel: 'loud',
      requestTimeoutMs: '30s',
      kekFile: '',
      servces: {},
      services: { issuer: { port: 70000 }, nope: {}, provider: { host: 'a b' }, ota: { port: 7102 }, hub: 5 },
    });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.issues, [
    { path: 'servces', message: 'unknown field' },
    { path: 'dataDir', message: 'is required' },
    { path: 'kekFile', message: 'must be a non-empty path' },
    { path: 'logLevel', message: 'must be one of fatal, error, warn, info, debug, trace, silent' },
    { path: 'requestTimeoutMs', message: 'must be an integer 100..600000 (milliseconds)' },
    { path: 'database.extra', message: 'unknown field for driver postgres' },
    { path: 'database.url', message: 'must be a postgres:// or postgresql:// URL' },
    { path: 'database.poolSize', message: 'must be an integer 1..1000' },
    { path: 'services.issuer.port', message: 'must be an integer 0..65535 (0: any free port)' },
    { path: 'services.nope', message: `unknown service (one of ${SERVICE_NAMES.join(', ')})` },
    { path: 'services.provider.host', message: 'must be a host name or IP address' },
    { path: 'services.hub', message: 'must be an object { host?, port? }' },
    { path: 'services.ota.port', message: '127.0.0.1:7102 is already used by provider' },
  ]);
  assert.match(error.message, /^invalid configuration:\n {2}- servces: unknown field\n/);
});

test('not an object, wrong driver', () => {
  assert.throws(() => loadConfig(null), { code: 'INVALID_CONFIG', message: 'invalid configuration:\n  - (root): must be an object' });
  assert.throws(() => loadConfig('x'), { code: 'INVALID_CONFIG' });
  assert.throws(() => loadConfig({ dataDir: 'd', database: { driver: 'mysql' } }), {
    message: "invalid configuration:\n  - database.driver: must be 'sqlite' or 'postgres'",
  });
  assert.throws(() => loadConfig({ dataDir: 'd', database: { driver: 'sqlite', path: 3 } }), /database.path: must be a non-empty path/);
});
