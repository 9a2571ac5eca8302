/**
 * An in-process world for the asymmetric SSD flow (docs/architecture.md §4 flow 4): one simulated phone card (with
 * its ICCID) reached through a cuttable channel that records every APDU and answer, the issuer's, the
 * provider's and the CA's databases, keystores and audit logs, the provider's CAs (SCP11 P-256 and SCP10), and
 * ports that call the issuer's and the CA's functions directly (HTTP is tested separately).
 */
import { fromHex } from '../../../src/core/bytes.ts';
import { createCard, type SimulatedCard } from '../../../src/card/index.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import type { Database } from '../../../src/platform/storage/database.ts';
import { FlowStore } from '../../../src/platform/flows/store.ts';
import type { AuditRecord, FlowDeps, Sealer } from '../../../src/services/common/deps.ts';
import { ISSUER_MIGRATIONS } from '../../../src/services/issuer/schema.ts';
import { PROVIDER_MIGRATIONS } from '../../../src/services/provider/schema.ts';
import { CA_MIGRATIONS } from '../../../src/services/ca/schema.ts';
import { createCa, type CaDeps } from '../../../src/services/ca/authority.ts';
import type { CaAlgorithm } from '../../../src/services/ca/keys.ts';
import { registerCard, registerProvider } from '../../../src/services/issuer/inventory.ts';
import { requestAsymmetricSsd } from '../../../src/services/issuer/flows/asymmetric-ssd.ts';
import { localCaPort } from '../../../src/services/provider/asymmetric/ca-port.ts';
import type { AsymmetricPorts } from '../../../src/services/provider/asymmetric/flow.ts';
import { keySetFromHex } from '../../../src/services/sd-keys/key-set.ts';
import { CutSwitch } from '../cut-channel.ts';
import { openTestDatabase, testAuditor, testSealer } from '../test-infra.ts';

export const CARD_ID = '8988211000000000001F';
export const ISD_AID = 'A000000151000000';
export const SSD_AID = 'A0000001515350415344';
export const PROVIDER_ID = 'bank';
export const ISD_KEY = '404142434445464748494A4B4C4D4E4F';

export interface Exchange {
  readonly command: Uint8Array;
  readonly response: Uint8Array;
}

export interface AsymmetricWorld {
  readonly card: SimulatedCard;
  readonly cut: CutSwitch;
  /** Every APDU that reached the card and its answer, in order. */
  readonly exchanges: Exchange[];
  readonly issuer: FlowDeps & { readonly auditLog: AuditRecord[]; readonly db: Database };
  readonly provider: FlowDeps & { readonly auditLog: AuditRecord[] };
  readonly ca: CaDeps;
  readonly ports: AsymmetricPorts;
  /** What the issuer answered the provider (its only message to the provider). */
  readonly issuerAnswers: unknown[];
  /** Every request the issuer received from the provider. */
  readonly issuerRequests: unknown[];
  close(): Promise<void>;
}

function deps(actor: string, db: Database, sealer: Sealer, cardAccess: FlowDeps['cardAccess']) {
  const auditLog: AuditRecord[] = [];
  return { db, sealer, flows: new FlowStore(db), cardAccess, actor, auditLog, audit: testAuditor(db, auditLog as never) };
}

export async function makeAsymmetricWorld(options: { scp10Algorithm?: CaAlgorithm } = {}): Promise<AsymmetricWorld> {
  const card = createCard({ profile: 'scp03', ssdInitialKeys: null, iccid: fromHex(CARD_ID) });
  const exchanges: Exchange[] = [];
  const channel = new InProcessChannel(card, { onExchange: (c, r) => exchanges.push({ command: c.slice(), response: r.slice() }) });
  const cut = new CutSwitch();
  const access = async () => cut.wrap(channel);
  const issuerDb = await openTestDatabase(ISSUER_MIGRATIONS);
  const providerDb = await openTestDatabase(PROVIDER_MIGRATIONS);
  const caDb = await openTestDatabase(CA_MIGRATIONS);
  const issuer = deps('issuer', issuerDb, await testSealer(), access);
  const provider = deps(`provider:${PROVIDER_ID}`, providerDb, await testSealer(), access);
  const caAudit: AuditRecord[] = [];
  const ca: CaDeps = { db: caDb, sealer: await testSealer(), audit: testAuditor(caDb, caAudit as never), actor: 'ca' };
  await registerCard(issuer, {
    cardId: CARD_ID,
    iin: '0001',
    cin: '000102030405060708090A0B0C0D0E0F',
    eid: null,
    profile: 'scp03',
    isdAid: ISD_AID,
    isdKeys: keySetFromHex(0x30, 3, ISD_KEY, ISD_KEY, ISD_KEY),
  });
  await registerProvider(issuer, { providerId: PROVIDER_ID, name: 'A Bank', aidPrefix: 'A000000151535041', privileges: ['AuthorizedManagement'], maxSsds: 2 });
  const scp11 = await createCa(ca, PROVIDER_ID, 'scp11', 'P-256');
  const scp10 = await createCa(ca, PROVIDER_ID, 'scp10', options.scp10Algorithm ?? 'RSA-2048');
  const issuerAnswers: unknown[] = [];
  const issuerRequests: unknown[] = [];
  const ports: AsymmetricPorts = {
    ca: localCaPort(ca, PROVIDER_ID),
    cas: { scp11: scp11.caId, scp10: scp10.caId },
    issuer: {
      async requestAsymmetricSsd(req) {
        issuerRequests.push(structuredClone(req));
        const { variant, trustPoint, modulusBits, ...rest } = req;
        const { flowId: _flowId, ...info } = await requestAsymmetricSsd(issuer, {
          ...rest,
          providerId: PROVIDER_ID,
          asymmetric: { variant, trustPoint, ...(modulusBits !== undefined ? { modulusBits } : {}) },
        });
        issuerAnswers.push(structuredClone(info));
        return info;
      },
    },
  };
  return {
    card,
    cut,
    exchanges,
    issuer,
    provider,
    ca,
    ports,
    issuerAnswers,
    issuerRequests,
    close: async () => {
      await issuerDb.close();
      await providerDb.close();
      await caDb.close();
    },
  };
}
