/**
 * caClient over real sockets with mutual TLS (startCa): the operator creates CAs, the owning provider gets SD
 * and OCE certificates as bytes (hex only on the wire), a retry of the same request replays the first
 * certificate, another provider is refused, revocation and the list round-trip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../../../src/core/bytes.ts';
import { loadConfig } from '../../../src/platform/config/config.ts';
import { PlatformClient, RemoteProblemError } from '../../../src/platform/http/client.ts';
import { ensureCa } from '../../../src/platform/tls/ca.ts';
import { issueCertificate } from '../../../src/platform/tls/issue.ts';
import { mutualTlsAgent } from '../../../src/platform/tls/options.ts';
import { parseCertificate, verifyChain } from '../../../src/scp/scp11/certificate.ts';
import { generateKeyPair } from '../../../src/crypto/index.ts';
import { verifyCertificate } from '../../../src/scp/scp10/certificate.ts';
import { rsaPublicNumbers } from '../../../src/crypto/index.ts';
import { caClient } from '../../../src/services/ca/client.ts';
import { rsaPublicKeyObject } from '../../../src/services/ca/keys.ts';
import { startCa } from '../../../src/services/ca/service.ts';
import { CARD_ID, SD_AID } from './harness.ts';

const problem = (status: number, code: string) => (e: unknown) => e instanceof RemoteProblemError && e.status === status && e.problem?.code === code;

test('caClient over mutual TLS: createCa, getCa, SD and OCE certificates, replay, refusal, revocation', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-ca-client-'));
  const config = loadConfig({ dataDir: dir, logLevel: 'silent', services: { ca: { host: '127.0.0.1', port: 0 } } });
  const tlsCa = await ensureCa(config.tlsDir);
  const service = await startCa(config);
  const agents = [] as ReturnType<typeof mutualTlsAgent>[];
  const clientFor = async (cn: string) => {
    const agent = mutualTlsAgent(await issueCertificate(tlsCa, { commonName: cn, usage: 'client' }));
    agents.push(agent);
    return caClient(new PlatformClient({ baseUrl: service.url, agent }));
  };
  try {
    const operator = await clientFor('operator');
    const bank = await clientFor('bank');
    const telco = await clientFor('telco');

    await assert.rejects(bank.createCa('bank', 'scp11'), problem(403, 'FORBIDDEN'));
    const ca = await operator.createCa('bank', 'scp11');
    assert.equal(ca.owner, 'bank');
    assert.ok(ca.publicKey instanceof Uint8Array && ca.publicKey.length === 65);
    assert.deepEqual(await telco.getCa(ca.caId), ca);
    await assert.rejects(bank.getCa('FFFFFFFFFFFFFFFF'), problem(404, 'UNKNOWN_CA'));

    // SD certificate.
    const sdKey = generateKeyPair('P-256');
    const sd = await bank.issueSdCertificate(ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: sdKey.publicKey } });
    assert.equal(sd.kind, 'sd');
    assert.deepEqual([sd.cardId, sd.sdAid], [CARD_ID, SD_AID]);
    assert.deepEqual(parseCertificate(sd.certificate).subjectId, sd.subjectId);
    verifyChain([parseCertificate(sd.certificate)], { curve: 'P-256', point: ca.publicKey });

    // OCE certificate; the same request again replays it (default Idempotency-Key from the request).
    const oceKey = generateKeyPair('P-256');
    const oce = await bank.issueOceCertificate(ca.caId, { publicKey: { point: oceKey.publicKey } });
    assert.equal(oce.kind, 'oce');
    assert.deepEqual(oce.subjectId, new TextEncoder().encode('bank'));
    assert.equal(oce.scheme, null);
    const chained = verifyChain([parseCertificate(oce.certificate)], { curve: 'P-256', point: ca.publicKey });
    assert.deepEqual(chained.publicKey.point, oceKey.publicKey);
    assert.deepEqual(await bank.issueOceCertificate(ca.caId, { publicKey: { point: oceKey.publicKey } }), oce);
    const renewed = await bank.issueOceCertificate(ca.caId, { publicKey: { point: oceKey.publicKey } }, 'renewal-1');
    assert.notEqual(renewed.serial, oce.serial);
    assert.equal((await service.deps.db.query('SELECT serial FROM ca_oce_certificates')).length, 2);
    await assert.rejects(telco.issueOceCertificate(ca.caId, { publicKey: { point: oceKey.publicKey } }), problem(403, 'NOT_OWNER'));
    await assert.rejects(bank.issueOceCertificate(ca.caId, { publicKey: { point: oceKey.publicKey }, scheme: 'pkcs1' }), problem(400, 'BAD_REQUEST'));

    // Read, revoke, list.
    assert.deepEqual(await bank.getCertificate(oce.serial), oce);
    await assert.rejects(telco.getCertificate(oce.serial), problem(403, 'NOT_OWNER'));
    const revoked = await operator.revokeCertificate(oce.serial, 'keyCompromise');
    assert.equal(revoked.reason, 'keyCompromise');
    assert.deepEqual((await telco.revocations(ca.caId)).map((e) => e.serial), [oce.serial]);

    // SCP10: CERT.OCE.AUT under the trust point.
    const ca10 = await operator.createCa('bank', 'scp10', 'RSA-1024');
    assert.ok(ca10.rsa !== undefined && ca10.rsa.modulus.length === 128);
    const numbers = rsaPublicNumbers(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
    const aut = await bank.issueOceCertificate(ca10.caId, { publicKey: numbers, subjectId: fromHex('0102030405060708') });
    const cert = verifyCertificate(aut.certificate, { id: fromHex(ca10.caId), publicKey: rsaPublicKeyObject(ca10.publicKey) });
    assert.deepEqual(cert.subjectId, aut.subjectId);
    assert.equal(aut.scheme, 'pkcs1');
  } finally {
    for (const a of agents) a.destroy();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
});
