/**
 * issue 8 §4: the OTA's RAM over HTTP server bounds the time an agent may take to send a request too. A PSK-TLS
 * client that sends the headers and half a body gets 408 and the connection closes (short configured timeout;
 * the test waits for the close event, no sleeps); nothing reaches the card.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { rig } from './helpers.ts';

test('RAM server: a body that stops arriving gets 408 and the connection is closed', { timeout: 20_000 }, async () => {
  const r = await rig({ logApdus: true, server: { requestTimeoutMs: 150 } });
  try {
    const url = new URL(r.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: url.hostname,
        port: Number(url.port),
        pskCallback: () => ({ psk: Buffer.from(r.keys[0]!), identity: 'psk-dev0' }),
        ciphers: 'PSK-AES128-GCM-SHA256',
        maxVersion: 'TLSv1.2',
        checkServerIdentity: () => undefined,
      });
      let received = '';
      socket.on('secureConnect', () =>
        socket.write(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nX-Admin-Protocol: globalplatform-remote-admin/1.0\r\nContent-Length: 100\r\n\r\nAA05`),
      );
      socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
    });
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.equal(r.devices[0]!.apduLog!.length, 0);
    assert.equal(r.ota.endpoint.stats.scriptsSent, 0);
  } finally {
    await r.close();
  }
});
