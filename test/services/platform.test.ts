/**
 * The OTA service (startOta) over real sockets: the operator registers phones (PSK sealed in the OTA's
 * database, never answered), refused registrations change nothing, scripts only for the issuer and
 * providers by certificate identity, and after a restart the sealed PSKs open the phones' sessions again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCard } from '../../src/card/index.ts';
import { DeviceFleet } from '../../src/device/fleet.ts';
import { defaultAgentId } from '../../src/device/device.ts';
import { toHex } from '../../src/core/bytes.ts';
import { loadConfig } from '../../src/platform/config/config.ts';
import { PlatformClient, RemoteProblemError } from '../../src/platform/http/client.ts';
import { AuditLog } from '../../src/platform/audit/log.ts';
import { openDatabase } from '../../src/platform/storage/open.ts';
import { ensureCa } from '../../src/platform/tls/ca.ts';
import { issueCertificate } from '../../src/platform/tls/issue.ts';
import { mutualTlsAgent } from '../../src/platform/tls/options.ts';
import type { InProcessPushGateway } from '../../src/services/ota/push.ts';
import { startOta } from '../../src/services/ota/service.ts';

const DEVICE = '8988211000000000019F';

function problem(status: number, code: string) {
  return (e: unknown) => e instanceof RemoteProblemError && e.status === status && e.problem?.code === code;
}

test('startOta: device registry for the operator (sealed PSK), scripts for issuer/provider, PSKs survive a restart', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-ota-service-'));
  const config = loadConfig({ dataDir: dir, logLevel: 'silent', services: { ota: { port: 0 }, 'ota-admin': { port: 0 } } });
  const ca = await ensureCa(config.tlsDir);
  const agent = async (cn: string) => mutualTlsAgent(await issueCertificate(ca, { commonName: cn, usage: 'client' }));
  const [operator, issuerAgent, mallory] = await Promise.all([agent('operator'), agent('issuer'), agent('mallory')]);
  const psk = new Uint8Array(randomBytes(16));
  const pskHex = toHex(psk).toUpperCase();
  let ota = await startOta(config, { server: { lingerMs: 20 } });
  try {
    const asOperator = new PlatformClient({ baseUrl: ota.adminUrl, agent: operator });
    const body = { deviceId: DEVICE, pskIdentity: `psk-${DEVICE}`, psk: pskHex, agentId: defaultAgentId(DEVICE) };
    const r = await asOperator.post<Record<string, unknown>>('/v1/devices', { body, idempotencyKey: 'dev-1' });
    assert.equal(r.status, 201);
    assert.deepEqual({ ...r.body, createdAt: typeof r.body.createdAt }, { deviceId: DEVICE, pskIdentity: `psk-${DEVICE}`, agentId: defaultAgentId(DEVICE), createdAt: 'string' });
    assert.doesNotMatch(JSON.stringify(r.body), new RegExp(pskHex, 'i'));

    // Refusals: 409 duplicate id / identity, 400 bad bodies, 403 for any other peer; nothing changes.
    await assert.rejects(asOperator.post('/v1/devices', { body, idempotencyKey: 'dev-2' }), problem(409, 'ALREADY_EXISTS'));
    await assert.rejects(asOperator.post('/v1/devices', { body: { ...body, deviceId: 'other' }, idempotencyKey: 'dev-3' }), problem(409, 'ALREADY_EXISTS'));
    for (const [i, bad] of [{ ...body, psk: 'ABCD' }, { ...body, psk: 'zz'.repeat(16) }, { ...body, deviceId: 'bad id' }, { ...body, extra: 1 }, { deviceId: 'x', psk: pskHex }].entries()) {
      await assert.rejects(asOperator.post('/v1/devices', { body: bad, idempotencyKey: `bad-${i}` }), problem(400, 'VALIDATION'), JSON.stringify(bad));
    }
    // issue 8 §4: weak PSKs are refused with 400 WEAK_PSK (the rows below show nothing was stored)
    const weak = ['00'.repeat(16), 'FF'.repeat(32), '404142434445464748494A4B4C4D4E4F', '000102030405060708090A0B0C0D0E0F', 'DEADBEEF'.repeat(4), '0102'.repeat(8), '47454D5850524553534F53414D504C45'];
    for (const [i, w] of weak.entries()) {
      await assert.rejects(
        asOperator.post('/v1/devices', { body: { ...body, deviceId: `weak-${i}`, pskIdentity: `psk-weak-${i}`, psk: w }, idempotencyKey: `weak-${i}` }),
        problem(400, 'WEAK_PSK'),
        w,
      );
    }
    await assert.rejects(new PlatformClient({ baseUrl: ota.adminUrl, agent: issuerAgent }).post('/v1/devices', { body, idempotencyKey: 'dev-4' }), problem(403, 'FORBIDDEN'));
    await assert.rejects(new PlatformClient({ baseUrl: ota.adminUrl, agent: mallory }).post(`/devices/${DEVICE}/scripts`, { body: { apdus: ['80CA006600'] } }), problem(403, 'FORBIDDEN'));
    await assert.rejects(asOperator.post(`/devices/${DEVICE}/scripts`, { body: { apdus: ['80CA006600'] } }), problem(403, 'FORBIDDEN'));
    await assert.rejects(asOperator.get('/v1/devices/nobody'), problem(404, 'UNKNOWN_DEVICE'));
    assert.equal((await asOperator.get<{ deviceId: string }>(`/v1/devices/${DEVICE}`)).body.deviceId, DEVICE);

    const rows = await ota.devices.get(DEVICE);
    assert.equal(rows?.pskIdentity, `psk-${DEVICE}`);
    const auditDb = await openDatabase({ driver: 'sqlite', path: join(dir, 'ota.db'), readOnly: true });
    assert.equal((await new AuditLog(auditDb).verify()).ok, true);
    await auditDb.close();
    await ota.close();

    // The row holds a sealed blob, not the PSK.
    const db = await openDatabase({ driver: 'sqlite', path: join(dir, 'ota.db'), readOnly: true });
    const stored = await db.query<{ device_id: string; psk: Uint8Array }>('SELECT device_id, psk FROM devices');
    await db.close();
    assert.deepEqual(stored.map((s) => s.device_id), [DEVICE]);
    assert.ok(!Buffer.from(stored[0]!.psk).includes(Buffer.from(psk)), 'the PSK is sealed');

    // Restart: the sealed PSK opens the phone's PSK-TLS session; the issuer's script reaches the card.
    ota = await startOta(config, { server: { lingerMs: 20 } });
    const fleet = new DeviceFleet({ serverUrl: ota.ramUrl, push: ota.push as InProcessPushGateway });
    fleet.add({ id: DEVICE, card: createCard(), pskIdentity: `psk-${DEVICE}`, psk, retryDelayMs: 5, maxRetries: 3 });
    try {
      const s = await new PlatformClient({ baseUrl: ota.adminUrl, agent: issuerAgent }).post<{ responses: string[] }>(`/devices/${DEVICE}/scripts`, {
        body: { apdus: ['00A4040008A00000015100000000', '80CA006600'] },
      });
      assert.equal(s.body.responses.length, 2);
      assert.match(s.body.responses[1]!, /9000$/);
    } finally {
      fleet.stop();
    }
  } finally {
    for (const a of [operator, issuerAgent, mallory]) a.destroy();
    await ota.close();
    await rm(dir, { recursive: true, force: true });
  }
});
