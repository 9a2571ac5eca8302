/**
 * The OTA admin API (POST /devices/{id}/scripts) in-process with app.inject, and RemoteOtaChannel over a
 * real socket opening SCP03 to a phone through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { DEFAULT_STATIC_KEY } from '../../../src/card/index.ts';
import { SecureSession } from '../../../src/scp/secure-session.ts';
import { listRegistry } from '../../../src/gp/client.ts';
import { buildOtaAdminApi } from '../../../src/services/ota/admin-api.ts';
import { RemoteOtaChannel } from '../../../src/services/ota/client.ts';
import { OtaError } from '../../../src/services/ota/errors.ts';
import { rig } from './helpers.ts';

const ISD = 'A000000151000000';
/** Tests without sockets: the caller is the issuer (real services: the mutual-TLS client certificate). */
const asIssuer = () => ({ commonName: 'issuer', fingerprint256: '', serialNumber: '' });

test('POST /devices/{id}/scripts: 200 with the R-APDUs; 4xx/5xx problem+json with exact codes; nothing queued when refused', async () => {
  const r = await rig({ logApdus: true });
  const app = await buildOtaAdminApi({ ota: r.ota, identify: asIssuer });
  try {
    const ok = await app.inject({ method: 'POST', url: '/devices/dev0/scripts', payload: { apdus: ['00A4040008' + ISD + '00', '80ca006600'] } });
    assert.equal(ok.statusCode, 200);
    const body = ok.json() as { responses: string[] };
    assert.equal(body.responses.length, 2);
    assert.match(body.responses[0]!, /^6F.*9000$/);
    assert.equal(r.devices[0]!.apduLog!.length, 2);

    const cases: [string, object | string, string | undefined, number, string][] = [
      ['bad hex', { apdus: ['80CA00660'] }, undefined, 400, 'VALIDATION'],
      ['not hex', { apdus: ['zz'] }, undefined, 400, 'VALIDATION'],
      ['Lc does not match', { apdus: ['80E2900005AABB'] }, undefined, 400, 'VALIDATION'],
      ['header only 3 bytes', { apdus: ['80CA00'] }, undefined, 400, 'VALIDATION'],
      ['empty apdus', { apdus: [] }, undefined, 400, 'VALIDATION'],
      ['apdus not an array', { apdus: '80CA006600' }, undefined, 400, 'VALIDATION'],
      ['unknown member', { apdus: ['80CA006600'], x: 1 }, undefined, 400, 'VALIDATION'],
      ['bad targetAid', { apdus: ['80CA006600'], targetAid: 'A0' }, undefined, 400, 'VALIDATION'],
      ['bad timeoutMs', { apdus: ['80CA006600'], timeoutMs: 0 }, undefined, 400, 'VALIDATION'],
      ['malformed JSON', '{"apdus": [', 'application/json', 400, 'MALFORMED_JSON'],
      ['not JSON', 'apdus=1', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [name, payload, type, status, code] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/devices/dev0/scripts',
        ...(typeof payload === 'string' ? { body: payload, headers: { 'content-type': type! } } : { payload }),
      });
      assert.equal(res.statusCode, status, name);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', name);
      const p = res.json() as Record<string, unknown>;
      assert.equal(p.code, code, name);
      assert.equal(p.status, status, name);
      assert.equal(p.type, `https://opentsm.dev/problems/${code}`, name);
      assert.equal(p.instance, '/devices/dev0/scripts', name);
    }
    assert.equal(r.devices[0]!.apduLog!.length, 2, 'no refused request reached the card');
    assert.equal(r.ota.endpoint.stats.scriptsSent, 1);

    const unknown = await app.inject({ method: 'POST', url: '/devices/nobody/scripts', payload: { apdus: ['80CA006600'] } });
    assert.equal(unknown.statusCode, 404);
    assert.equal((unknown.json() as { code: string }).code, 'UNKNOWN_DEVICE');

    r.devices[0]!.stop();
    await r.devices[0]!.agent.idle(); // the lingering session ends (an event, no sleep)
    const slow = await app.inject({ method: 'POST', url: '/devices/dev0/scripts', payload: { apdus: ['80CA006600'], timeoutMs: 100 } });
    assert.equal(slow.statusCode, 504);
    assert.equal((slow.json() as { code: string }).code, 'DEVICE_TIMEOUT');
    assert.equal(r.ota.endpoint.pending('dev0').queued, 0);
  } finally {
    await app.close();
    await r.close();
  }
});

test('RemoteOtaChannel: SCP03 + registry through the admin API over a socket; problem codes come back as OtaError', async () => {
  const r = await rig();
  const app = await buildOtaAdminApi({ ota: r.ota, identify: asIssuer });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const K = fromHex(DEFAULT_STATIC_KEY);
    const ch = new RemoteOtaChannel({ baseUrl, deviceId: 'dev0' });
    const s = await SecureSession.open(ch, { sdAid: fromHex(ISD), keys: { enc: K, mac: K, dek: K }, level: 0x33 });
    const reg = await listRegistry(s);
    assert.equal(toHex(reg.isd[0]!.aid).toUpperCase(), ISD);
    const batch = await ch.transmitScript([fromHex('00A4040008' + ISD + '00'), fromHex('80CA006600')]);
    assert.equal(batch.length, 2);
    await assert.rejects(new RemoteOtaChannel({ baseUrl, deviceId: 'nobody' }).transmit(fromHex('80CA006600')), (e: unknown) => e instanceof OtaError && e.code === 'UNKNOWN_DEVICE');
    await assert.rejects(ch.transmit(fromHex('80CA00')), (e: unknown) => e instanceof OtaError && e.code === 'BAD_REQUEST');
  } finally {
    await app.close();
    await r.close();
  }
});
