/**
 * Connection cut mid-session (GP Amendment B §3.8, X-Admin-Resume): for every request of a flow, once with
 * the request lost before the server saw it and once with the server's reply lost after it processed the
 * request, the agent resumes on a new PSK-TLS connection and the flow completes — and no APDU reaches the
 * card twice (asserted on the card's APDU log).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { DEFAULT_STATIC_KEY } from '../../../src/card/index.ts';
import { SecureSession } from '../../../src/scp/secure-session.ts';
import { listRegistry } from '../../../src/gp/client.ts';
import type { RamFaults } from '../../../src/services/ota/ram-server.ts';
import { rig, type Rig } from './helpers.ts';

const ISD = 'A000000151000000';
const K = fromHex(DEFAULT_STATIC_KEY);

type Flow = (r: Rig) => Promise<string[]>;

const plainFlow: Flow = async (r) => {
  const ch = r.ota.channel('dev0');
  const out: string[] = [];
  for (const c of ['00A4040008' + ISD + '00', '80CA006600', '80CA004200', '80CA004500']) out.push(toHex(await ch.transmit(fromHex(c))).toUpperCase());
  return out;
};

const scpFlow: Flow = async (r) => {
  const s = await SecureSession.open(r.ota.channel('dev0'), { sdAid: fromHex(ISD), keys: { enc: K, mac: K, dek: K }, level: 0x33 });
  const reg = await listRegistry(s);
  return [...reg.isd, ...reg.applications, ...reg.loadFiles].map((e) => toHex(e.aid).toUpperCase());
};

async function idle(r: Rig): Promise<void> {
  await r.devices[0]!.agent.idle(); // resolves when the agent's session (and any queued one) is over
}

function cutAt(k: number, where: 'request' | 'reply'): RamFaults & { cuts: number } {
  let n = 0;
  let current = 0;
  const f = {
    cuts: 0,
    onRequest: () => {
      current = ++n;
      if (where === 'request' && current === k && f.cuts === 0) {
        f.cuts++;
        return 'drop' as const;
      }
      return 'process' as const;
    },
    onReply: () => {
      if (where === 'reply' && current === k && f.cuts === 0) {
        f.cuts++;
        return 'drop' as const;
      }
      return 'send' as const;
    },
  };
  return f;
}

for (const [name, flow] of [
  ['four plain APDUs', plainFlow],
  ['SCP03 open + registry', scpFlow],
] as const) {
  test(`§3.8 resume after a cut at every request of "${name}": no APDU executed twice`, async () => {
    // Clean run: how many requests, what result, what the card saw.
    let requests = 0;
    let expected: string[];
    let cleanLog: string[];
    let cleanResponses = 0;
    const counting = await rig({ logApdus: true, server: { faults: { onRequest: () => (requests++, 'process') } } });
    try {
      expected = await flow(counting);
      await idle(counting);
      cleanLog = counting.devices[0]!.apduLog!.map((e) => e.command);
      cleanResponses = counting.ota.endpoint.stats.responsesProcessed;
    } finally {
      await counting.close();
    }
    assert.ok(requests >= 5, `the flow takes ${requests} requests`);
    for (let k = 1; k <= requests; k++) {
      for (const where of ['request', 'reply'] as const) {
        const faults = cutAt(k, where);
        const r = await rig({ logApdus: true, server: { faults } });
        try {
          const got = await flow(r);
          await idle(r); // the last cut may hit the 204 that ends the session, after the flow
          const label = `cut ${where} #${k}`;
          assert.equal(faults.cuts, 1, label);
          assert.deepEqual(got, expected, label);
          const log = r.devices[0]!.apduLog!.map((e) => e.command);
          assert.equal(log.length, cleanLog.length, `${label}: the card saw every APDU exactly once`);
          assert.equal(new Set(log).size, log.length, `${label}: no APDU twice`);
          if (name === 'four plain APDUs') assert.deepEqual(log, cleanLog, label);
          assert.equal(r.ota.endpoint.stats.responsesProcessed, cleanResponses, `${label}: every script answered once`);
          assert.ok(r.devices[0]!.agent.stats.resumes >= 1, `${label}: the agent resumed`);
        } finally {
          await r.close();
        }
      }
    }
  });
}
