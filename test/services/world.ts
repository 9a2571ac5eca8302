/**
 * An in-process world for flow tests: one simulated card reached through a cuttable channel, the issuer's
 * and the provider's databases, keystores and audit logs, and an IssuerClient that calls the issuer's flow
 * functions directly (the HTTP layer is tested separately).
 */
import { createCard, type SimulatedCard } from '../../src/card/index.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import type { Database } from '../../src/platform/storage/database.ts';
import { FlowStore } from '../../src/platform/flows/store.ts';
import type { AuditRecord, FlowDeps, Sealer } from '../../src/services/common/deps.ts';
import { ISSUER_MIGRATIONS } from '../../src/services/issuer/schema.ts';
import { PROVIDER_MIGRATIONS } from '../../src/services/provider/schema.ts';
import { registerCard, registerProvider } from '../../src/services/issuer/inventory.ts';
import { acknowledgeHandover, initialKeysForProvider, requestSsd, runCreateSsd } from '../../src/services/issuer/flows/create-ssd.ts';
import type { IssuerClient } from '../../src/services/provider/flows/take-over.ts';
import { keySetFromHex } from '../../src/services/sd-keys/key-set.ts';
import { CutSwitch } from './cut-channel.ts';
import { openTestDatabase, testAuditor, testSealer } from './test-infra.ts';

export const CARD_ID = '8988211000000000001F';
export const ISD_AID = 'A000000151000000';
export const SSD_AID = 'A0000001515350415344';
export const PROVIDER_ID = 'bank';
const TEST_KEY = '404142434445464748494A4B4C4D4E4F';

export interface World {
  readonly card: SimulatedCard;
  readonly cut: CutSwitch;
  readonly issuer: FlowDeps & { readonly auditLog: AuditRecord[] };
  readonly provider: FlowDeps & { readonly auditLog: AuditRecord[] };
  readonly issuerClient: IssuerClient;
  close(): Promise<void>;
}

async function deps(actor: string, db: Database, sealer: Sealer, cardAccess: FlowDeps['cardAccess']) {
  const auditLog: AuditRecord[] = [];
  return {
    db,
    sealer,
    flows: new FlowStore(db),
    cardAccess,
    actor,
    auditLog,
    audit: testAuditor(db, auditLog as never),
  };
}

export async function makeWorld(profile: 'scp03' | 'scp02' = 'scp03'): Promise<World> {
  const card = createCard({ profile, ssdInitialKeys: null });
  const channel = new InProcessChannel(card);
  const cut = new CutSwitch();
  const access = async () => cut.wrap(channel);
  const issuerDb = await openTestDatabase(ISSUER_MIGRATIONS);
  const providerDb = await openTestDatabase(PROVIDER_MIGRATIONS);
  const issuer = await deps('issuer', issuerDb, await testSealer(), access);
  const provider = await deps('provider:bank', providerDb, await testSealer(), access);
  const scp = profile === 'scp03' ? 3 : 2;
  await registerCard(issuer, {
    cardId: CARD_ID,
    iin: '0001',
    cin: '000102030405060708090A0B0C0D0E0F',
    eid: null,
    profile,
    isdAid: ISD_AID,
    isdKeys: keySetFromHex(scp === 3 ? 0x30 : 0x20, scp, TEST_KEY, TEST_KEY, TEST_KEY),
  });
  await registerProvider(issuer, { providerId: PROVIDER_ID, name: 'A Bank', aidPrefix: 'A000000151535041', privileges: ['DelegatedManagement'], maxSsds: 2 });
  const issuerClient: IssuerClient = {
    async requestSsd(req) {
      const flow = await requestSsd(issuer, { ...req, providerId: PROVIDER_ID, managedBy: 'provider' });
      return { step: (await runCreateSsd(issuer, flow)).step };
    },
    fetchInitialKeys: (cardId, aid) => initialKeysForProvider(issuer, cardId, aid, PROVIDER_ID),
    acknowledgeHandover: (cardId, aid) => acknowledgeHandover(issuer, cardId, aid, PROVIDER_ID),
  };
  return {
    card,
    cut,
    issuer,
    provider,
    issuerClient,
    close: async () => {
      await issuerDb.close();
      await providerDb.close();
    },
  };
}
