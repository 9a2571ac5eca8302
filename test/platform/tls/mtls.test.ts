/** Internal CA and mutual TLS between platform services, over real sockets on loopback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpsRequest, type AgentOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createService, requirePeer } from '../../../src/platform/http/index.ts';
import { createCa, ensureCa, ensureIdentity, issueCertificate, mutualTlsOptions, type TlsIdentity } from '../../../src/platform/tls/index.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'opentsm-tls-'));
}

test('ensureCa creates ca.key (0600) and ca.crt once, then loads the same CA', async () => {
  const dir = join(await tempDir(), 'tls');
  const ca = await ensureCa(dir);
  assert.equal((await stat(join(dir, 'ca.key'))).mode & 0o777, 0o600);
  const cert = new X509Certificate(await readFile(join(dir, 'ca.crt')));
  assert.equal(cert.subject, 'CN=opentsm internal CA');
  assert.equal(cert.ca, true);
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(cert.verify(cert.publicKey));
  const again = await ensureCa(dir);
  assert.equal(again.certPem, ca.certPem);
  assert.equal(again.commonName, 'opentsm internal CA');
  // the reloaded key still signs certificates that chain to the CA
  const id = await issueCertificate(again, { commonName: 'issuer', usage: 'server' });
  assert.ok(new X509Certificate(id.certPem).verify(cert.publicKey));
  await rm(dir, { recursive: true });
});

test('ensureCa refuses half a CA, a key others can read, and a key that does not match', async () => {
  const dir = await tempDir();
  await ensureCa(dir);
  await chmod(join(dir, 'ca.key'), 0o644);
  await assert.rejects(ensureCa(dir), { code: 'TLS_MATERIAL', message: new RegExp(`ca.key must be readable by its owner only \\(mode 0600\\), is 644`) });
  await chmod(join(dir, 'ca.key'), 0o600);
  const other = await createCa();
  await writeFile(join(dir, 'ca.key'), other.keyPem);
  await assert.rejects(ensureCa(dir), { code: 'TLS_MATERIAL', message: /ca.key does not match/ });
  await rm(join(dir, 'ca.crt'));
  await assert.rejects(ensureCa(dir), { code: 'TLS_MATERIAL', message: /incomplete CA .*: ca.crt is missing/ });
  await writeFile(join(dir, 'ca.crt'), 'garbage');
  await assert.rejects(ensureCa(dir), { code: 'TLS_MATERIAL', message: /cannot read the CA/ });
  await rm(dir, { recursive: true });
});

test('issueCertificate: CN, SANs, usages, chained to the CA; bad names are caller errors', async () => {
  const { ca } = await createCa();
  const id = await issueCertificate(ca, { commonName: 'provider', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], usage: 'both' });
  const cert = new X509Certificate(id.certPem);
  assert.equal(cert.subject, 'CN=provider');
  assert.equal(cert.issuer, 'CN=opentsm internal CA');
  assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(cert.ca, false);
  assert.ok(cert.checkIssued(new X509Certificate(ca.certPem)));
  assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
  assert.equal(id.caPem, ca.certPem);
  assert.deepEqual(new X509Certificate((await issueCertificate(ca, { commonName: 'ota', usage: 'client' })).certPem).keyUsage, ['1.3.6.1.5.5.7.3.2']);
  await assert.rejects(issueCertificate(ca, { commonName: 'CN=x,O=y', usage: 'server' }), TypeError);
  await assert.rejects(issueCertificate(ca, { commonName: 'a', ipAddresses: ['999.1.1.1'], usage: 'server' }), TypeError);
  await assert.rejects(issueCertificate(ca, { commonName: 'a', dnsNames: ['bad name'], usage: 'server' }), TypeError);
});

test('ensureIdentity keeps a service certificate next to the CA and reuses it', async () => {
  const dir = await tempDir();
  const ca = await ensureCa(dir);
  const a = await ensureIdentity(dir, ca, { commonName: 'issuer', usage: 'both', dnsNames: ['localhost'] });
  assert.equal((await stat(join(dir, 'issuer.key'))).mode & 0o777, 0o600);
  const b = await ensureIdentity(dir, ca, { commonName: 'issuer', usage: 'both' });
  assert.equal(b.certPem, a.certPem);
  assert.equal(b.keyPem, a.keyPem);
  // a certificate from another CA is replaced
  const { ca: other } = await createCa();
  const c = await ensureIdentity(dir, other, { commonName: 'issuer', usage: 'both' });
  assert.notEqual(c.certPem, a.certPem);
  await rm(dir, { recursive: true });
});

interface Answer {
  status: number;
  body: string;
}

function get(port: number, path: string, tls: AgentOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, method: 'GET', agent: false, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('mutual TLS on loopback: CA-signed clients are identified by CN; others are refused at the TLS layer', async () => {
  const { ca } = await createCa();
  const server = await issueCertificate(ca, { commonName: 'issuer', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const provider = await issueCertificate(ca, { commonName: 'provider', usage: 'client' });
  const terminal = await issueCertificate(ca, { commonName: 'terminal', usage: 'client' });
  const { ca: foreignCa } = await createCa({ commonName: 'opentsm internal CA' }); // same name, other key
  const impostor = await issueCertificate(foreignCa, { commonName: 'provider', usage: 'client' });

  let handled = 0;
  const app = await createService({ name: 'issuer', version: '1', logger: false, tls: mutualTlsOptions(server).server });
  app.get(
    '/whoami',
    {
      onRequest: requirePeer('provider'),
      schema: { response: { 200: { type: 'object', properties: { commonName: { type: 'string' } } } } },
    },
    async (request) => {
      handled++;
      return { commonName: request.peer?.commonName };
    },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const client = (id: TlsIdentity) => ({ ...mutualTlsOptions(id).client, ca: [id.caPem] });
  try {
    const ok = await get(port, '/whoami', client(provider));
    assert.deepEqual([ok.status, JSON.parse(ok.body)], [200, { commonName: 'provider' }]);

    // authenticated, but not allowed on this route: 403 problem
    const denied = await get(port, '/whoami', client(terminal));
    assert.equal(denied.status, 403);
    assert.equal(JSON.parse(denied.body).code, 'FORBIDDEN');

    // no client certificate: the TLS handshake fails, no HTTP answer
    await assert.rejects(get(port, '/whoami', { ca: [ca.certPem] }), (e: NodeJS.ErrnoException) => {
      assert.match(String(e.code), /ECONNRESET|ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|EPIPE/);
      return true;
    });
    // a certificate from another CA: refused at the TLS layer
    await assert.rejects(get(port, '/whoami', { key: impostor.keyPem, cert: impostor.certPem, ca: [ca.certPem] }), (e: NodeJS.ErrnoException) => {
      assert.match(String(e.code), /ECONNRESET|ERR_SSL_TLSV1_ALERT_UNKNOWN_CA|ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE|EPIPE/);
      return true;
    });
    // the client refuses a server its CA did not sign
    await assert.rejects(get(port, '/whoami', { key: impostor.keyPem, cert: impostor.certPem, ca: [foreignCa.certPem] }), (e: NodeJS.ErrnoException) => {
      assert.match(String(e.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT_SIGNATURE_FAILURE/);
      return true;
    });
    assert.equal(handled, 1);
  } finally {
    await app.close();
  }
});

test('without mutual TLS there is no peer: requirePeer answers 401', async () => {
  const app = await createService({ name: 'issuer', version: '1', logger: false });
  app.get('/whoami', { onRequest: requirePeer('provider'), schema: { response: { 200: { type: 'object' } } } }, async () => ({}));
  const res = await app.inject({ method: 'GET', url: '/whoami' });
  assert.equal(res.statusCode, 401);
  assert.equal(res.json().code, 'UNAUTHENTICATED');
  await app.close();
});
