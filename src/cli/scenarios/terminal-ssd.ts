/**
 * Scenario `terminal-ssd` (docs/architecture.md §4 flow 3 through a business terminal): a card at the provider's
 * counter (a fresh card, registered with the issuer by the operator), a Terminal with the card in its reader
 * and a certificate from the platform's CA; the user asks for the service (`requestService`) → the provider
 * takes an SSD over through the terminal (the issuer's APDUs reach the ISD through provider relay and
 * terminal). Then the card in the reader is asked: the provider's keys open the SSD, the ISD keys do not, the
 * ISD's registry lists it.
 */
import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '../../core/bytes.ts';
import { InProcessChannel } from '../../transport/in-process.ts';
import type { KeySetKcvs } from '../../services/sd-keys/key-set.ts';
import { probeKeySet } from '../../services/sd-keys/operations.ts';
import { Terminal, issueTerminalIdentity } from '../../terminal/index.ts';
import { manufacturePhone } from '../../runtime/index.ts';
import { keyVersionOnCard } from './card-probe.ts';
import { Checks, freshSsdAid } from './checks.ts';
import type { ScenarioContext } from './context.ts';
import { isdKeysOf, listByIsd } from './ota-ssd.ts';

export async function runTerminalSsd(ctx: ScenarioContext, checks: Checks): Promise<Record<string, unknown>> {
  const relayUrl = ctx.urls.terminals;
  checks.that('the platform has a terminal relay', relayUrl !== undefined, 'a URL', relayUrl ?? null);
  const { record, card } = manufacturePhone();
  const cardId = record.iccid;
  await ctx.operator.issuer.post('/v1/cards', {
    body: { cardId, iin: '0001', cin: record.cin, profile: 'scp03', isdAid: 'A000000151000000', isdKeys: record.isdKeys },
  });
  const terminalId = `T${toHex(new Uint8Array(randomBytes(4))).toUpperCase()}`;
  const terminal = new Terminal({ id: terminalId, reader: new InProcessChannel(card), providerUrl: relayUrl!, identity: await issueTerminalIdentity(ctx.ca, terminalId), retryDelayMs: 20 });
  terminal.start();
  try {
    const aid = freshSsdAid();
    const steps: string[] = [];
    const done = await terminal.requestService({ aid, privileges: ['AuthorizedManagement'] }, { pollMs: 20, onProgress: (v) => steps.push(`${v.state}:${v.step}`) });
    const result = (done.result ?? {}) as { state?: string; kvn?: number; kcvs?: KeySetKcvs };
    checks.equal(`terminal ${terminalId}: the service request`, [done.state, done.cardId, result.state], ['done', cardId, 'provider-managed']);
    const own = await ctx.providerSsd(cardId, aid);
    checks.equal(`${cardId} ${aid}: KCVs answered = KCVs the provider's API reports`, result.kcvs, own.kcvs);
    const reader = new InProcessChannel(card);
    const probes = { providerKvn: await keyVersionOnCard(reader, aid, own.kvn, own.scp), issuerIsdKeys: await probeKeySet(reader, fromHex(aid), isdKeysOf(record)) };
    checks.equal(`${cardId} ${aid}: the card holds the provider's key version, the issuer's ISD keys do not open the SSD (asked of the card in the reader)`, probes, { providerKvn: 'present', issuerIsdKeys: 'mismatch' });
    const listed = (await listByIsd(reader, record)).includes(aid);
    checks.equal(`${cardId} ${aid}: GET STATUS through the ISD lists the SSD`, listed, true);
    const issuerView = await ctx.operator.issuer.get<{ ssds: { aid: string; state: string; keysHeld: boolean }[] }>(`/v1/cards/${cardId}/ssds`);
    const mine = issuerView.body.ssds.find((s) => s.aid === aid);
    checks.equal(`${cardId} ${aid}: the issuer's view (state, holds keys)`, mine && [mine.state, mine.keysHeld], ['provider-managed', false]);
    return { terminalId, cardId, aid, steps, state: result.state, kvn: result.kvn, kcvs: result.kcvs, probes, issuerHoldsKeys: mine!.keysHeld, listedByIsd: listed };
  } finally {
    await terminal.stop();
  }
}
