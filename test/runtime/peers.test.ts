/** runtime/peers.ts: a service's configuration with its peers' addresses (one service per process). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyPorts, platformConfig, portOf, withPeers } from '../../src/runtime/peers.ts';

test('withPeers writes each peer URL into config.services and keeps the rest', () => {
  const base = platformConfig({ dataDir: '/tmp/opentsm-peers', logLevel: 'warn' }, anyPorts(true));
  assert.equal(base.services.issuer.port, 0);
  const cfg = withPeers(base, { otaAdmin: 'https://127.0.0.1:40001', ca: 'https://[::1]:40002', issuer: 'https://issuer.internal:40003' });
  assert.deepEqual(cfg.services['ota-admin'], { host: '127.0.0.1', port: 40001 });
  assert.deepEqual(cfg.services.ca, { host: '::1', port: 40002 });
  assert.deepEqual(cfg.services.issuer, { host: 'issuer.internal', port: 40003 });
  assert.deepEqual(cfg.services.provider, { host: '127.0.0.1', port: 0 });
  assert.equal(cfg.tlsDir, base.tlsDir);
  assert.equal(cfg.kekFile, base.kekFile);
  assert.deepEqual(cfg.database, base.database);
});

test('default ports are the configured 7101… unless any free port is asked for', () => {
  const cfg = platformConfig({ dataDir: '/tmp/opentsm-peers', logLevel: 'warn' }, anyPorts(false));
  assert.equal(cfg.services.issuer.port, 7101);
  assert.equal(portOf('https://127.0.0.1:7105/ram'), 7105);
});
