/**
 * Issuer flow: create a supplementary security domain for a provider and hand it over
 * (docs/architecture.md §4 flow 3). Steps, each recorded before it is done; a flow resumed after a failure or a
 * restart reconciles each step by asking the card first (a flow this process drives without failure knows
 * the card's state and skips the probes). One ISD secure channel serves the steps of a run.
 *
 *   install       INSTALL [for install and make selectable] of the SSD through the ISD
 *                 (resume: GET STATUS tells whether the SSD exists)
 *   deliver-keys  the SSD's initial key set, generated and sealed before the flow starts, sent through the
 *                 ISD session: INSTALL [for personalization] + STORE DATA (DGI 00B9/8113) under the ISD DEK
 *                 (resume: INITIALIZE UPDATE with the initial key version says whether the SSD has it)
 *   extradite     provider-managed SSDs: INSTALL [for extradition] of the SSD to itself, out of the ISD's
 *                 hierarchy (resume: GET STATUS shows the associated SD)
 *   handover      waiting: the provider fetches the initial keys and acknowledges; then the issuer forgets
 *                 them (issuer-managed SSDs end at `done` after deliver-keys and keep their keys)
 *   generate      asymmetric SSDs (flow 4, see asymmetric-ssd.ts) instead of `handover`: the SSD generates its
 *                 key pair and receives the provider CA's trust point; the issuer forgets its set-up keys
 */
import { fromHex, toHex, equalBytes } from '../../../core/bytes.ts';
import type { CardChannel } from '../../../apdu/channel.ts';
import { buildCreateSecurityDomain, createSecurityDomain, extradite, getStatus, sendAll } from '../../../gp/client.ts';
import { buildInstallForExtradition, buildInstallForPersonalization } from '../../../gp/install.ts';
import { buildStoreDataBlocks } from '../../../gp/store-data.ts';
import { GetStatusScope } from '../../../gp/registry.ts';
import { decodePrivileges, encodePrivileges, type PrivilegeName } from '../../../gp/privileges.ts';
import type { FlowRecord } from '../../../platform/flows/store.ts';
import { DONE, runFlow, type FlowSteps, type StepOutcome } from '../../../platform/flows/runner.ts';
import type { Database } from '../../../platform/storage/database.ts';
import { decodeKeySet, encodeKeySet, generateKeySet, keySetKcvs, type KeySetKcvs, type SdKeySet } from '../../sd-keys/key-set.ts';
import { deliverInitialKeys, keyLoadingDgis, openSd, probeKeySet, type ProbeResult } from '../../sd-keys/operations.ts';
import type { SecureSession } from '../../../scp/secure-session.ts';
import type { CardRoute, FlowDeps } from '../../common/deps.ts';
import { FlowError } from '../../common/flow-error.ts';
import { releaseCard } from '../../common/with-card.ts';
import { getCard, getProvider, isdKeys, scpOf } from '../inventory.ts';
import { ISSUER_SETUP_KVN, SETUP_SCP03_I, installScp } from '../../sd-keys/asymmetric.ts';
import { checkAsymmetricRequest, runGenerate, type AsymmetricData, type AsymmetricRequest } from './asymmetric-ssd.ts';

export const CREATE_SSD = 'issuer.create-ssd';
/** Key version of the initial key set the issuer puts into a new SSD. */
export const INITIAL_SSD_KVN = 0x01;

export interface CreateSsdRequest {
  readonly cardId: string;
  readonly aid: string;
  readonly providerId: string;
  readonly privileges: readonly PrivilegeName[];
  readonly managedBy: 'provider' | 'issuer';
  readonly route: CardRoute;
  /** An asymmetric SSD (flow 4): keys generated on the card, trust point of the provider's CA. */
  readonly asymmetric?: AsymmetricRequest;
}

export interface CreateSsdData {
  readonly cardId: string;
  readonly aid: string;
  readonly providerId: string;
  readonly privileges: string;
  readonly managedBy: 'provider' | 'issuer';
  readonly route: CardRoute;
  readonly scp: 2 | 3;
  readonly i: number;
  readonly kcvs: KeySetKcvs;
  readonly asymmetric?: AsymmetricData;
}

export type CreateSsdFlow = FlowRecord<CreateSsdData>;

const subjectOf = (cardId: string, aid: string) => `card:${cardId}/sd:${aid}`;
/** Keystore context of an SSD's keys held by the issuer. */
export const issuerSsdKeyContext = (cardId: string, aid: string) => `issuer/ssd/${cardId}/${aid}`;
const keyContext = issuerSsdKeyContext;
const now = () => new Date().toISOString();

/**
 * Accept a provider's request: business permissions checked, the initial key set generated and sealed,
 * the flow created — all in one transaction. A repeated request for the same SSD returns its flow.
 */
export async function requestSsd(deps: FlowDeps, req: CreateSsdRequest): Promise<CreateSsdFlow> {
  const aid = req.aid.toUpperCase();
  const card = await getCard(deps.db, req.cardId);
  if (!card) throw new FlowError('NOT_FOUND', `unknown card ${req.cardId}`);
  const provider = await getProvider(deps.db, req.providerId);
  if (!provider) throw new FlowError('NOT_PERMITTED', `unknown provider ${req.providerId}`);
  if (!aid.startsWith(provider.aidPrefix)) throw new FlowError('NOT_PERMITTED', `provider ${req.providerId} may not use AID ${aid}`);
  const extra = req.privileges.filter((p) => p !== 'SecurityDomain' && !provider.privileges.includes(p));
  if (extra.length > 0) throw new FlowError('NOT_PERMITTED', `provider ${req.providerId} may not grant ${extra.join(', ')}`);
  const asymmetric = req.asymmetric === undefined ? undefined : checkAsymmetricRequest(req.asymmetric, req.managedBy);
  // An asymmetric SSD's set-up key set is SCP03 whatever the ISD speaks (the SD's symmetric protocol).
  const { scp, i } = asymmetric ? { scp: 3 as const, i: SETUP_SCP03_I } : scpOf(card.profile);
  const subject = subjectOf(req.cardId, aid);
  const set = generateKeySet(asymmetric ? ISSUER_SETUP_KVN : INITIAL_SSD_KVN, scp, deps.random);
  const kcvs = keySetKcvs(set);
  const sealed = await deps.sealer.wrap(encodeKeySet(set), keyContext(req.cardId, aid));
  return deps.db.transaction(async (tx) => {
    const existing = await tx.query<{ provider_id: string }>('SELECT provider_id FROM ssds WHERE card_id = $1 AND aid = $2', [req.cardId, aid]);
    if (existing[0]) {
      if (existing[0].provider_id !== req.providerId) throw new FlowError('CONFLICT', `SSD ${aid} belongs to another provider`);
      const open = await deps.flows.open<CreateSsdData>(CREATE_SSD, subject, tx);
      if (open) {
        // A repeat resumes the open flow only when it asks for the same SSD (the same keys and trust point).
        if (JSON.stringify(open.data.asymmetric ?? null) !== JSON.stringify(asymmetric ?? null)) {
          throw new FlowError('CONFLICT', `SSD ${aid} is being created with other parameters`);
        }
        return open;
      }
      throw new FlowError('CONFLICT', `SSD ${aid} already exists on card ${req.cardId}`);
    }
    const count = await tx.query<{ n: number }>("SELECT COUNT(*) AS n FROM ssds WHERE card_id = $1 AND provider_id = $2 AND state <> 'deleted'", [
      req.cardId,
      req.providerId,
    ]);
    if (Number(count[0]!.n) >= provider.maxSsds) throw new FlowError('NOT_PERMITTED', `provider ${req.providerId} has its ${provider.maxSsds} SSD(s) on this card`);
    const at = now();
    await tx.execute(
      'INSERT INTO ssds (card_id, aid, provider_id, managed_by, state, scp, kvn, keys, kcvs, keys_expire_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $10)',
      [req.cardId, aid, req.providerId, req.managedBy, 'creating', scp, set.kvn, sealed, JSON.stringify(kcvs), at],
    );
    const privileges = toHex(encodePrivileges(new Set<PrivilegeName>([...req.privileges, 'SecurityDomain']), 3));
    const flow = await deps.flows.create<CreateSsdData>(
      CREATE_SSD,
      subject,
      'install',
      { cardId: req.cardId, aid, providerId: req.providerId, privileges, managedBy: req.managedBy, route: req.route, scp, i, kcvs, ...(asymmetric ? { asymmetric } : {}) },
      tx,
    );
    await deps.audit(tx, {
      actor: deps.actor,
      action: 'ssd.requested',
      subject,
      details: { providerId: req.providerId, privileges, managedBy: req.managedBy, flowId: flow.id, ...(asymmetric ? { variant: asymmetric.variant } : {}) },
    });
    await deps.audit(tx, { actor: deps.actor, action: 'key.generated', subject, details: { purpose: 'ssd-initial', kcvs } });
    return flow;
  });
}

export async function ssdKeys(deps: FlowDeps, cardId: string, aid: string): Promise<SdKeySet> {
  const rows = await deps.db.query<{ keys: Uint8Array | null }>('SELECT keys FROM ssds WHERE card_id = $1 AND aid = $2', [cardId, aid]);
  const blob = rows[0]?.keys;
  if (!blob) throw new FlowError('WRONG_STATE', `the issuer holds no keys for SSD ${aid}`);
  return decodeKeySet(await deps.sealer.unwrap(blob, keyContext(cardId, aid)));
}

export async function setState(tx: Database, d: Pick<CreateSsdData, 'cardId' | 'aid'>, state: string): Promise<void> {
  await tx.execute('UPDATE ssds SET state = $1, updated_at = $2 WHERE card_id = $3 AND aid = $4', [state, now(), d.cardId, d.aid]);
}

/** The SCP the SSD is installed with ('81' of the INSTALL): the SD's own for asymmetric SSDs. */
function sdScpOf(d: CreateSsdData): { id: number; i: number } {
  return d.asymmetric ? installScp(d.asymmetric.variant) : { id: d.scp, i: d.i };
}

/** The registry entry of the SSD as the ISD sees it (GET STATUS), or undefined. */
async function ssdEntry(isd: SecureSession, aid: Uint8Array) {
  const entries = await getStatus(isd, GetStatusScope.APPLICATIONS, aid);
  return entries.find((e) => equalBytes(e.aid, aid));
}

/** Run (or resume) the flow until it waits for the provider or is done (the flow runner records steps and failures). */
export async function runCreateSsd(deps: FlowDeps, start: CreateSsdFlow): Promise<CreateSsdFlow> {
  const d = start.data;
  const aid = fromHex(d.aid);
  const subject = start.subject;
  let channel: CardChannel | undefined;
  const ch = async () => (channel ??= await deps.cardAccess(d.cardId, d.route));
  // One ISD session for the steps of this run; a probe of the SSD selects another SD and ends it.
  let isdSession: SecureSession | undefined;
  const isdOpen = async () => {
    if (isdSession) return isdSession;
    const card = await getCard(deps.db, d.cardId);
    if (!card) throw new FlowError('NOT_FOUND', `unknown card ${d.cardId}`, start.step);
    return (isdSession = await openSd(await ch(), fromHex(card.isdAid), await isdKeys(deps, d.cardId)));
  };
  // A flow this process created and drove without failure knows the card's state; any other reconciles.
  const verify = !deps.flows.isFresh(start.id);
  /** Where the flow goes after extradition: the asymmetric `generate`, or waiting for the provider's hand-over. */
  const afterExtradition = (): StepOutcome<CreateSsdData> => (d.asymmetric ? { next: 'generate' } : { next: 'handover', wait: true });
  if (!(await getCard(deps.db, d.cardId))) {
    const e = new FlowError('NOT_FOUND', `unknown card ${d.cardId}`, start.step);
    await deps.flows.recordFailure(start, e.message, true);
    throw e;
  }
  // The issuer owns the card: before it touches it, it tells the OTA that the provider may address this SSD
  // (idempotent, so every run repeats it; issue 8 §4).
  if (d.managedBy === 'provider' && d.route.kind === 'ota') await deps.cardGrants?.grant(d.cardId, d.aid, d.providerId);
  const steps: FlowSteps<CreateSsdData> = {
    install: async (flow) => {
      if (!verify) {
        // A fresh flow knows the card: install, keys and extradition travel as one script after the
        // handshake, and the three steps are recorded together. A cut anywhere leaves the flow at `install`,
        // and the resumed flow reconciles step by step.
        const keys = await ssdKeys(deps, d.cardId, d.aid);
        const session = await isdOpen();
        await sendAll(session, [
          buildCreateSecurityDomain({ aid, privileges: decodePrivileges(fromHex(d.privileges)), scp: sdScpOf(d) }),
          buildInstallForPersonalization(aid),
          ...buildStoreDataBlocks(keyLoadingDgis(keys, (k) => session.channel.encryptSensitiveData(k)), { format: 'dgi', encryption: 'encrypted' }),
          ...(d.managedBy === 'provider' ? [buildInstallForExtradition({ sdAid: aid, aid })] : []),
        ]);
        const next: StepOutcome<CreateSsdData> = d.managedBy === 'issuer' ? { next: DONE } : afterExtradition();
        return {
          ...next,
          commit: async (tx) => {
            await deps.audit(tx, { actor: deps.actor, action: 'sd.installed', subject, details: { privileges: d.privileges, scp: sdScpOf(d).id, i: sdScpOf(d).i, reconciled: false } });
            await deps.audit(tx, { actor: deps.actor, action: 'key.delivered', subject, details: { via: 'isd', kcvs: d.kcvs, reconciled: false } });
            if (d.managedBy === 'issuer') {
              await setState(tx, d, 'issuer-managed');
              return;
            }
            await setState(tx, d, 'extradited');
            await deps.audit(tx, { actor: deps.actor, action: 'sd.extradited', subject, details: { to: d.aid, reconciled: false } });
          },
        };
      }
      const entry = await ssdEntry(await isdOpen(), aid);
      if (!entry) {
        await createSecurityDomain(await isdOpen(), { aid, privileges: decodePrivileges(fromHex(d.privileges)), scp: sdScpOf(d) });
      }
      return {
        next: 'deliver-keys',
        commit: (tx) =>
          deps.audit(tx, { actor: deps.actor, action: 'sd.installed', subject, details: { privileges: d.privileges, scp: sdScpOf(d).id, i: sdScpOf(d).i, reconciled: entry !== undefined } }),
      };
    },
    'deliver-keys': async (flow) => {
      const keys = await ssdKeys(deps, d.cardId, d.aid);
      let found: ProbeResult = 'absent';
      if (verify) {
        found = await probeKeySet(await ch(), aid, keys);
        isdSession = undefined;
      }
      if (found === 'absent') {
        await deliverInitialKeys(await isdOpen(), aid, keys);
      } else if (found !== 'match') {
        throw new FlowError('KEYS_UNKNOWN', `SSD ${d.aid} answers ${found} for its initial key set`, flow.step);
      }
      return {
        next: d.managedBy === 'provider' ? 'extradite' : DONE,
        commit: async (tx) => {
          await setState(tx, d, d.managedBy === 'provider' ? 'keys-delivered' : 'issuer-managed');
          await deps.audit(tx, { actor: deps.actor, action: 'key.delivered', subject, details: { via: 'isd', kcvs: d.kcvs, reconciled: found === 'match' } });
        },
      };
    },
    extradite: async (flow) => {
      let done = false;
      if (verify) {
        const entry = await ssdEntry(await isdOpen(), aid);
        if (!entry) throw new FlowError('WRONG_STATE', `SSD ${d.aid} vanished from the card`, flow.step);
        done = entry.associatedSd !== undefined && equalBytes(entry.associatedSd, aid);
      }
      if (!done) await extradite(await isdOpen(), aid, aid);
      return {
        ...afterExtradition(),
        commit: async (tx) => {
          await setState(tx, d, 'extradited');
          await deps.audit(tx, { actor: deps.actor, action: 'sd.extradited', subject, details: { to: d.aid, reconciled: done } });
        },
      };
    },
    generate: async (flow) => {
      // The SSD was selected by the ISD session's GET STATUS or not at all; its own session replaces it.
      isdSession = undefined;
      return runGenerate(deps, flow, await ch(), verify);
    },
  };
  // The run holds the card (one conversation) from its first script to its end: the ISD session spans steps.
  try {
    return await runFlow<CreateSsdData>(deps, start, steps);
  } finally {
    await releaseCard(channel);
  }
}

/** The initial key set, for the provider the SSD belongs to, while the flow waits at `handover`. */
export async function initialKeysForProvider(deps: FlowDeps, cardId: string, aid: string, providerId: string): Promise<SdKeySet> {
  const flow = await deps.flows.open<CreateSsdData>(CREATE_SSD, subjectOf(cardId, aid.toUpperCase()));
  if (!flow || flow.step !== 'handover') throw new FlowError('WRONG_STATE', `SSD ${aid} is not ready for hand-over`);
  if (flow.data.providerId !== providerId) throw new FlowError('NOT_PERMITTED', `SSD ${aid} belongs to another provider`);
  const keys = await ssdKeys(deps, cardId, flow.data.aid);
  await deps.db.transaction((tx) =>
    deps.audit(tx, { actor: deps.actor, action: 'key.handed-over', subject: flow.subject, details: { to: providerId, kcvs: flow.data.kcvs } }),
  );
  return keys;
}

/** The provider confirms it holds the keys: the issuer forgets them (audited). Idempotent. */
export async function acknowledgeHandover(deps: FlowDeps, cardId: string, aid: string, providerId: string): Promise<void> {
  const subject = subjectOf(cardId, aid.toUpperCase());
  await deps.db.transaction(async (tx) => {
    const rows = await tx.query<{ provider_id: string; state: string }>('SELECT provider_id, state FROM ssds WHERE card_id = $1 AND aid = $2', [
      cardId,
      aid.toUpperCase(),
    ]);
    const row = rows[0];
    if (!row) throw new FlowError('NOT_FOUND', `no SSD ${aid} on card ${cardId}`);
    if (row.provider_id !== providerId) throw new FlowError('NOT_PERMITTED', `SSD ${aid} belongs to another provider`);
    if (row.state === 'provider-managed') return;
    const flow = await deps.flows.open<CreateSsdData>(CREATE_SSD, subject, tx);
    if (!flow || flow.step !== 'handover') throw new FlowError('WRONG_STATE', `SSD ${aid} is not waiting for hand-over`);
    await tx.execute("UPDATE ssds SET keys = NULL, state = 'provider-managed', updated_at = $1 WHERE card_id = $2 AND aid = $3", [now(), cardId, aid.toUpperCase()]);
    await deps.audit(tx, { actor: deps.actor, action: 'key.forgotten', subject, details: { kcvs: flow.data.kcvs, reason: 'handed over to provider' } });
    await deps.flows.finish(flow, {}, tx);
  });
}
