/**
 * One card, one conversation at a terminal (issue 8 §2): while the issuer's channel holds the card in the
 * terminal (a relay conversation opened by its first script), the provider's own script waits and reaches the
 * card only after the issuer's channel is closed; the issuer's stale conversation is then refused
 * (409 CONVERSATION_NOT_HELD) before reaching the card.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../../src/core/bytes.ts';
import { PlatformClient, RemoteProblemError } from '../../../src/platform/http/index.ts';
import { RELAY_PATHS, terminalCardAccess } from '../../../src/services/provider/relay/index.ts';
import { ICCID, ISD, TERMINAL_ID, relayRig, until } from './rig.ts';

const SELECT_ISD = fromHex('00A4040008' + ISD + '00');
const GET_ICCID = fromHex('80CA005A00');

test('the issuer holds the card in the terminal; the provider waits its turn; a closed conversation is refused', async () => {
  const r = await relayRig();
  try {
    let result: string[] = [];
    r.handler = async () => {
      const issuerChannel = await r.issuerAccess(ICCID, { kind: 'terminal', terminalId: TERMINAL_ID });
      const providerChannel = await terminalCardAccess(r.relay)(ICCID, { kind: 'terminal', terminalId: TERMINAL_ID });
      assert.match(Buffer.from(await issuerChannel.transmit(SELECT_ISD)).toString('hex'), /9000$/);
      const holder = r.relay.conversations.state(TERMINAL_ID).holder;
      assert.ok(holder !== undefined, 'the issuer holds the card');
      const waiting = providerChannel.transmit(GET_ICCID);
      await until(() => r.relay.conversations.state(TERMINAL_ID).waiting === 1);
      const before = [...r.apdus];
      // The issuer's session goes on undisturbed while the provider waits.
      assert.match(Buffer.from(await issuerChannel.transmit(GET_ICCID)).toString('hex').toUpperCase(), new RegExp(`${ICCID}9000$`));
      assert.deepEqual(r.apdus.slice(before.length), ['80CA005A00']);
      await issuerChannel.close!();
      assert.match(Buffer.from(await waiting).toString('hex').toUpperCase(), new RegExp(`${ICCID}9000$`));
      const stale = new PlatformClient({ baseUrl: r.url, agent: r.issuerAgent });
      const n = r.apdus.length;
      await assert.rejects(
        stale.post(`${RELAY_PATHS.conversation(TERMINAL_ID, holder)}/scripts`, { body: { cardId: ICCID, apdus: ['00A4040000'] } }),
        (e: unknown) => e instanceof RemoteProblemError && e.status === 409 && e.problem?.code === 'CONVERSATION_NOT_HELD',
      );
      assert.equal(r.apdus.length, n, 'nothing reached the card');
      await providerChannel.close!();
      result = [...r.apdus];
      return {};
    };
    const done = await r.terminal.requestService({ aid: 'A0000001515350415344', privileges: [] }, { pollMs: 5 });
    assert.equal(done.state, 'done', JSON.stringify(done));
    assert.deepEqual(result.slice(-3), ['00A4040008' + ISD + '00', '80CA005A00', '80CA005A00']);
    assert.deepEqual(r.relay.conversations.state(TERMINAL_ID), { holder: undefined, waiting: 0 });
  } finally {
    await r.close();
  }
});
