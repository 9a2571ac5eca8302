/**
 * (d) The connection between terminal and provider is cut mid-flow (GP Amendment B §3.8, X-Admin-Resume):
 * for every script of an issuer flow through the relay — once with the terminal's request lost before the
 * provider saw it, once with the provider's reply lost after it processed the request — the terminal resumes
 * on a new connection, the flow completes, and no APDU reaches the card twice (the card's APDU log equals
 * the APDUs the flow sent, in order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import type { CardChannel } from '../../../src/apdu/channel.ts';
import { DEFAULT_STATIC_KEY } from '../../../src/card/index.ts';
import { SecureSession } from '../../../src/scp/secure-session.ts';
import { listRegistry } from '../../../src/gp/client.ts';
import type { RelayFaults } from '../../../src/services/provider/relay/index.ts';
import { ISD, relayRig, until } from './rig.ts';

const K = fromHex(DEFAULT_STATIC_KEY);
const RESPONSE_PATH = /^\/v1\/terminal\/ram\/[0-9a-f]{32}\/\d+$/;

/**
 * Cut the `k`-th RAM request that carries a script's response ('request': lost before processing;
 * 'reply': the reply — the next script — lost after processing), or ('first-script') the reply that
 * carries the flow's first script.
 */
function cut(k: number, where: 'request' | 'reply' | 'first-script'): RelayFaults & { cuts: number } {
  let n = 0;
  const f = {
    cuts: 0,
    onRequest: (info: { path: string }) => {
      if (!RESPONSE_PATH.test(info.path)) return 'process' as const;
      n++;
      if (where === 'request' && n === k && f.cuts === 0) {
        f.cuts++;
        return 'drop' as const;
      }
      return 'process' as const;
    },
    onReply: (info: { path: string; status: number }) => {
      if (f.cuts > 0) return 'send' as const;
      if (where === 'first-script' && info.status === 200 && !RESPONSE_PATH.test(info.path)) {
        f.cuts++;
        return 'drop' as const;
      }
      if (where === 'reply' && RESPONSE_PATH.test(info.path) && n === k) {
        f.cuts++;
        return 'drop' as const;
      }
      return 'send' as const;
    },
  };
  return f;
}

/** The issuer's flow: SCP03 to the ISD through the relay, list the registry. Records what it sent. */
async function issuerFlow(ch: CardChannel, sent: string[]): Promise<string[]> {
  const recording: CardChannel = {
    transmit: async (c) => {
      sent.push(toHex(c).toUpperCase());
      return ch.transmit(c);
    },
  };
  const s = await SecureSession.open(recording, { sdAid: fromHex(ISD), keys: { enc: K, mac: K, dek: K }, level: 0x33 });
  const reg = await listRegistry(s);
  return [...reg.isd, ...reg.applications, ...reg.loadFiles].map((e) => toHex(e.aid).toUpperCase());
}

async function runOnce(faults?: RelayFaults & { cuts: number }) {
  const r = await relayRig({ ...(faults ? { faults } : {}), lingerMs: 200 });
  try {
    const sent: string[] = [];
    r.handler = async (req) => ({ aids: await issuerFlow(await r.issuerAccess(req.cardId, { kind: 'terminal', terminalId: req.terminalId }), sent) });
    const done = await r.terminal.requestService({ aid: 'A0000001515350415344', privileges: [] }, { pollMs: 5 });
    assert.equal(done.state, 'done', JSON.stringify(done.error));
    // The terminal read the ICCID itself; every other APDU on the card is one the flow sent, exactly once.
    assert.deepEqual(r.apdus.slice(0, 2), ['00A4040000', '80CA005A00']);
    assert.deepEqual(r.apdus.slice(2), sent);
    // A cut of the reply to the last response comes when that held reply (204) goes out: wait for the resume.
    if (faults) await until(() => faults.cuts === 1 && r.terminal.agent.stats.resumes >= 1);
    assert.deepEqual(r.apdus.slice(2), sent);
    return { aids: (done.result as { aids: string[] }).aids, scripts: sent.length, stats: { ...r.terminal.agent.stats } };
  } finally {
    await r.close();
  }
}

test('(d) cut before/after every script of an issuer flow through the relay: resumed, completed, no APDU twice', async () => {
  const baseline = await runOnce();
  assert.ok(baseline.scripts >= 6, `scripts: ${baseline.scripts}`);
  assert.equal(baseline.stats.resumes, 0);
  const first = cut(0, 'first-script');
  const r0 = await runOnce(first);
  assert.equal(first.cuts, 1);
  assert.deepEqual(r0.aids, baseline.aids);
  assert.ok(r0.stats.resumes >= 1);
  for (let k = 1; k <= baseline.scripts; k++) {
    for (const where of ['request', 'reply'] as const) {
      const f = cut(k, where);
      const out = await runOnce(f);
      assert.equal(f.cuts, 1, `cut ${where} ${k} happened`);
      assert.deepEqual(out.aids, baseline.aids, `${where} ${k}`);
      assert.ok(out.stats.resumes >= 1, `${where} ${k}: resumed`);
      assert.equal(out.stats.scripts, baseline.stats.scripts, `${where} ${k}: scripts run`);
    }
  }
});
