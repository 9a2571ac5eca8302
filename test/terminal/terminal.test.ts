/**
 * The terminal's own parts: running a RAM over HTTP command script on a reader (ETSI TS 102 226 §5.2.1:
 * stop at the first error status word; Bad Format for a malformed script; a failing reader ends the script
 * with '6F00'), reading the card id (ICCID, GET DATA '5A' on the ISD), and the identity checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import type { CardChannel } from '../../src/apdu/channel.ts';
import { createCard } from '../../src/card/index.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { encodeCommandScript, decodeResponseScript } from '../../src/transport/ram-http/script.ts';
import { createCa, issueCertificate } from '../../src/platform/tls/index.ts';
import { Terminal, issueTerminalIdentity, readCardId, runScript } from '../../src/terminal/index.ts';
import { terminalCommonName, terminalIdOf, terminalAgentId } from '../../src/services/provider/relay/index.ts';

const hex = (b: Uint8Array) => toHex(b).toUpperCase();

function logged(card = createCard()): { ch: InProcessChannel; log: string[] } {
  const log: string[] = [];
  return { ch: new InProcessChannel(card, { onExchange: (c) => log.push(hex(c)) }), log };
}

test('runScript: C-APDUs in order, stops after the first error status word (6A82), answers AB in the script form', async () => {
  const { ch, log } = logged();
  const script = encodeCommandScript([fromHex('00A4040000'), fromHex('00A4040005A000000099'), fromHex('80CA004200')]);
  const run = await runScript(script, ch);
  assert.deepEqual(log, ['00A4040000', '00A4040005A000000099']);
  assert.equal(run.executed, 2);
  const parsed = decodeResponseScript(run.body);
  assert.equal(parsed.form, 'definite');
  assert.equal(parsed.executed, 2);
  assert.deepEqual(parsed.responses.map((r) => hex(r).slice(-4)), ['9000', '6A82']);
  const indefinite = await runScript(encodeCommandScript([fromHex('80CA005A00')], 'indefinite'), ch);
  assert.equal(hex(indefinite.body), 'AF80' + '800101' + '230E' + '5A0A98001032547698103214' + '9000' + '0000');
});

test('runScript: a malformed script runs nothing and is answered with Bad Format', async () => {
  const { ch, log } = logged();
  const run = await runScript(fromHex('AA0522030000A4'), ch);
  assert.equal(run.executed, 0);
  assert.deepEqual(log, []);
  assert.equal(decodeResponseScript(run.body).badFormat, 'wrong-length');
});

test('runScript: a reader that fails mid-script ends it with 6F00 and reports the error', async () => {
  let n = 0;
  const flaky: CardChannel = {
    transmit: async () => {
      if (++n === 2) throw new TransportError('NO_CARD', 'card removed');
      return fromHex('9000');
    },
  };
  const run = await runScript(encodeCommandScript([fromHex('00A4040000'), fromHex('80CA004200'), fromHex('80CA004500')]), flaky);
  assert.equal(n, 2);
  assert.deepEqual(decodeResponseScript(run.body).responses.map(hex), ['9000', '6F00']);
  assert.equal(run.readerError?.message, 'card removed');
});

test('readCardId: SELECT ISD + GET DATA 5A; a card without ICCID is NO_CARD', async () => {
  const { ch, log } = logged();
  assert.equal(await readCardId(ch), '98001032547698103214');
  assert.deepEqual(log, ['00A4040000', '80CA005A00']);
  await assert.rejects(readCardId(new InProcessChannel(createCard({ iccid: new Uint8Array(0) }))), { name: 'TerminalError', code: 'NO_CARD' });
});

test('terminal identity: CN terminal.<id>, ids are letters and digits; a terminal refuses a certificate that is not its own', async () => {
  assert.equal(terminalCommonName('T1'), 'terminal.T1');
  assert.equal(terminalIdOf('terminal.T1'), 'T1');
  assert.equal(terminalIdOf('terminal.'), undefined);
  assert.equal(terminalIdOf('terminal.T-1'), undefined);
  assert.equal(terminalIdOf('issuer'), undefined);
  assert.equal(terminalAgentId('Counter7'), '//se-id/terminal/Counter7');
  assert.throws(() => terminalCommonName('T 1'), TypeError);
  const { ca } = await createCa();
  const identity = await issueTerminalIdentity(ca, 'T1');
  assert.equal(identity.commonName, 'terminal.T1');
  const reader = new InProcessChannel(createCard());
  assert.throws(() => new Terminal({ id: 'T2', reader, providerUrl: 'https://127.0.0.1:1', identity }), /CN terminal\.T2/);
  assert.throws(() => new Terminal({ id: 'T1', reader, providerUrl: 'http://127.0.0.1:1', identity }), /https/);
  const issuer = await issueCertificate(ca, { commonName: 'issuer', usage: 'client' });
  assert.throws(() => new Terminal({ id: 'T1', reader, providerUrl: 'https://127.0.0.1:1', identity: issuer }), TypeError);
});
