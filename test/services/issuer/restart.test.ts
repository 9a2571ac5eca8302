/**
 * startIssuer resumes at start the flows that were running when it stopped: an SSD creation cut off by an
 * unreachable card finishes (up to hand-over) after a restart on the same data folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCard, type SimulatedCard } from '../../../src/card/index.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { TransportError } from '../../../src/transport/errors.ts';
import { loadConfig } from '../../../src/platform/config/config.ts';
import { AuditLog } from '../../../src/platform/audit/log.ts';
import { startIssuer } from '../../../src/services/issuer/service.ts';
import { CREATE_SSD } from '../../../src/services/issuer/flows/create-ssd.ts';
import type { CardAccess } from '../../../src/services/common/deps.ts';
import { ISD_AID, PEER_HEADER, SSD_AID, TEST_KEY, cardIdOf, headerPeer } from './harness.ts';

const CARD = cardIdOf(1);

test('an SSD creation cut by an unreachable card is resumed when the issuer starts again', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'opentsm-restart-'));
  const card: SimulatedCard = createCard({ ssdInitialKeys: null });
  let online = false;
  const cardAccess: CardAccess = async () => {
    if (!online) throw new TransportError('CONNECTION_FAILED', 'out of coverage');
    return new InProcessChannel(card);
  };
  const config = loadConfig({ dataDir: dir, logLevel: 'silent', services: { issuer: { port: 0 } } });
  const as = (peer: string) => ({ [PEER_HEADER]: peer });
  try {
    const first = await startIssuer(config, { cardAccess, identify: headerPeer, scheduleIntervalMs: 0 });
    await first.app.inject({
      method: 'POST', url: '/v1/cards', headers: as('operator'),
      payload: { cardId: CARD, iin: '0001', cin: '01', profile: 'scp03', isdAid: ISD_AID, isdKeys: { kvn: 0x30, enc: TEST_KEY, mac: TEST_KEY, dek: TEST_KEY } },
    });
    await first.app.inject({ method: 'POST', url: '/v1/providers', headers: as('operator'), payload: { providerId: 'bank', name: 'Bank', aidPrefix: 'A000000151', privileges: [], maxSsds: 1 } });
    const r = await first.app.inject({
      method: 'POST', url: '/v1/ssd-requests', headers: { ...as('bank'), 'idempotency-key': 'k1' },
      payload: { cardId: CARD, aid: SSD_AID, privileges: [], route: { kind: 'ota' } },
    });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().code, 'CARD_UNREACHABLE');
    await first.close();

    online = true;
    const second = await startIssuer(config, { cardAccess, identify: headerPeer, scheduleIntervalMs: 0 });
    await second.resumed;
    const flow = await second.deps.flows.open(CREATE_SSD, `card:${CARD}/sd:${SSD_AID}`);
    assert.equal(flow?.step, 'handover');
    assert.equal(flow?.status, 'waiting');
    const ssds = (await second.app.inject({ method: 'GET', url: `/v1/cards/${CARD}/ssds`, headers: as('bank') })).json().ssds;
    assert.equal(ssds[0].state, 'extradited');
    assert.equal((await new AuditLog(second.deps.db).verify()).ok, true);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
