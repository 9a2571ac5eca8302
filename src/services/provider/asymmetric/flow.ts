/**
 * Provider flow: an asymmetric SSD over the air (docs/architecture.md §4 flow 4). Each step is recorded before the
 * next; a resumed flow (not driven by this process without failure) asks the card before acting.
 *
 *   probe                one script over OTA: SELECT the ISD, GET DATA '5A' (ICCID — must be the card asked for),
 *                        SELECT the SSD's AID (an SSD the provider does not know is a conflict)
 *   request              the issuer creates the SSD (permissions, INSTALL, key pair on card, the provider CA's trust
 *                        point) and answers the SD information: the first public key, its key references
 *   rekey                the provider's first session (SCP11a/c or SCP10, the SSD authenticated by that public key):
 *                        DELETE the issuer's set-up key set (KVN '01'), GENERATE a new key pair (KVN '12')
 *                        (resume: key information template says what exists; an existing '12' is replaced)
 *   certify              the provider's CA certifies the new public key (idempotent per flow)
 *   install-certificate  STORE DATA the certificate for key '12', DELETE the first key pair (KVN '11')
 *                        (resume: the certificate is stored again — it replaces itself; '11' deleted if present)
 *   install-applet       a new session authenticated by the SSD's certificate (checked against the provider's CA)
 *                        installs the provider's applet (GET STATUS first)
 * The issuer is on the path only at `request`: every later APDU goes from the provider to the card.
 */
import type { CardChannel } from '../../../apdu/channel.ts';
import { transmitScript } from '../../../apdu/channel.ts';
import { encodeCommand } from '../../../apdu/command.ts';
import { decodeResponse } from '../../../apdu/response.ts';
import { fromHex, toHex } from '../../../core/bytes.ts';
import { parseTlv } from '../../../core/tlv.ts';
import { buildGenerateEcKeyPair, buildGenerateRsaKeyPair, buildStoreCertificates, parseGeneratedEcPublicKey, parseGeneratedRsaPublicKey } from '../../../gp/asymmetric-keys.ts';
import { getData, sendAll } from '../../../gp/client.ts';
import { buildDeleteKey } from '../../../gp/delete.ts';
import { buildGetData, parseKeyInformationTemplate } from '../../../gp/get-data.ts';
import type { PrivilegeName } from '../../../gp/privileges.ts';
import { buildSelect } from '../../../gp/select.ts';
import type { FlowRecord } from '../../../platform/flows/store.ts';
import { DONE, runFlow } from '../../../platform/flows/runner.ts';
import type { Database } from '../../../platform/storage/database.ts';
import type { SecureSession } from '../../../scp/secure-session.ts';
import { publicKeyFingerprint } from '../../common/fingerprint.ts';
import type { CardRoute, FlowDeps } from '../../common/deps.ts';
import { FlowError } from '../../common/flow-error.ts';
import { releaseCard } from '../../common/with-card.ts';
import {
  ISSUER_SETUP_KVN,
  PROVIDER_SD_KVN,
  publicKeyBytes,
  publicKeyHex,
  sdKid,
  type AsymmetricVariant,
  type KeyRef,
  type SdPublicKeyHex,
} from '../../sd-keys/asymmetric.ts';
import { ECHO_APPLET, installEcho } from '../applet.ts';
import { oceIdentity, type OceIdentity } from './oce.ts';
import { caKindOf, type AsymmetricIssuerPort, type CaPort, type ProviderCas } from './ports.ts';
import { openAsymmetricSd, type SdAuthentication } from './sessions.ts';

export const ASYMMETRIC_SSD = 'provider.asymmetric-ssd';

export interface AsymmetricSsdRequest {
  readonly cardId: string;
  readonly aid: string;
  readonly route: CardRoute;
  readonly privileges: readonly PrivilegeName[];
  readonly variant: AsymmetricVariant;
  /** SCP10: the SD's RSA key size (default 2048). */
  readonly modulusBits?: 1024 | 2048;
  /** The applet instance to install (default the echo applet's). */
  readonly instanceAid?: string;
}

export interface AsymmetricSsdData extends AsymmetricSsdRequest {
  readonly caId: string;
  readonly instanceAid: string;
  readonly firstKey?: KeyRef;
  readonly firstPublicKey?: SdPublicKeyHex;
  readonly publicKey?: SdPublicKeyHex;
  readonly serial?: string;
}

export type AsymmetricSsdFlow = FlowRecord<AsymmetricSsdData>;

export interface AsymmetricPorts {
  readonly issuer: AsymmetricIssuerPort;
  readonly ca: CaPort;
  readonly cas: ProviderCas;
}

const now = () => new Date().toISOString();
/** The GP default ISD AID, selected to read the ICCID. */
const ISD_AID = fromHex('A000000151000000');

/** Record the request (one transaction): the provider's inventory row and the flow. A repeat returns the open flow. */
export async function startAsymmetricSsd(deps: FlowDeps, ports: Pick<AsymmetricPorts, 'cas'>, req: AsymmetricSsdRequest): Promise<AsymmetricSsdFlow> {
  const aid = req.aid.toUpperCase();
  const cardId = req.cardId.toUpperCase();
  const subject = `card:${cardId}/sd:${aid}`;
  const caId = ports.cas[caKindOf(req.variant)];
  if (caId === undefined) throw new FlowError('NOT_PERMITTED', `this provider has no ${caKindOf(req.variant).toUpperCase()} certificate authority`);
  if (req.variant !== '10' && req.modulusBits !== undefined) throw new FlowError('BAD_REQUEST', 'modulusBits applies to SCP10 only');
  const instanceAid = (req.instanceAid ?? ECHO_APPLET.instanceAid).toUpperCase();
  return deps.db.transaction(async (tx) => {
    const open = await deps.flows.open<AsymmetricSsdData>(ASYMMETRIC_SSD, subject, tx);
    if (open) return open;
    const existing = await tx.query<{ state: string }>('SELECT state FROM ssds WHERE card_id = $1 AND aid = $2', [cardId, aid]);
    if (existing[0]) throw new FlowError('CONFLICT', `SSD ${aid} on card ${cardId} is already ${existing[0].state}`);
    const at = now();
    await tx.execute(
      "INSERT INTO ssds (card_id, aid, route, state, scp, kvn, keys, pending, kcvs, pending_kcvs, keys_expire_at, created_at, updated_at) VALUES ($1, $2, $3, 'requested', $4, NULL, NULL, NULL, NULL, NULL, NULL, $5, $5)",
      [cardId, aid, JSON.stringify(req.route), req.variant === '10' ? 0x10 : 0x11, at],
    );
    await tx.execute(
      'INSERT INTO asymmetric_sds (card_id, aid, variant, ca_id, first_key, sd_kvn, sd_kid, public_key, certificate, serial, created_at, updated_at) VALUES ($1, $2, $3, $4, NULL, NULL, $5, NULL, NULL, NULL, $6, $6)',
      [cardId, aid, req.variant, caId, sdKid(req.variant), at],
    );
    const data: AsymmetricSsdData = { ...req, cardId, aid, caId, instanceAid, ...(req.variant === '10' ? { modulusBits: req.modulusBits ?? 2048 } : {}) };
    const flow = await deps.flows.create<AsymmetricSsdData>(ASYMMETRIC_SSD, subject, 'probe', data, tx);
    await deps.audit(tx, { actor: deps.actor, action: 'ssd.requested', subject, details: { variant: req.variant, route: req.route.kind, flowId: flow.id } });
    return flow;
  });
}

function swOf(r: Uint8Array): number {
  return r.length < 2 ? 0 : (r[r.length - 2]! << 8) | r[r.length - 1]!;
}

/** ICCID as the platforms write it (BCD digits, 'F' padding) from GET DATA '5A'. */
function iccidOf(response: Uint8Array): string {
  const r = decodeResponse(response);
  if (r.sw !== 0x9000) throw new FlowError('CARD_REFUSED', `GET DATA ICCID answered ${r.sw.toString(16)}`);
  const t = parseTlv(r.data);
  if (t.tag !== 0x5a) throw new FlowError('CARD_REFUSED', 'GET DATA ICCID: no tag 5A');
  return toHex(t.value).toUpperCase();
}

async function setState(tx: Database, d: AsymmetricSsdData, state: string): Promise<void> {
  await tx.execute('UPDATE ssds SET state = $1, updated_at = $2 WHERE card_id = $3 AND aid = $4', [state, now(), d.cardId, d.aid]);
}

/** Which of the keys the flow cares about the SSD holds (GET DATA 'E0' in an open session). */
async function keysOnCard(session: CardChannel): Promise<{ kvn: number; kid: number }[]> {
  const data = await getData(session, 0xe0);
  return data === undefined ? [] : parseKeyInformationTemplate(data).map((k) => ({ kvn: k.kvn, kid: k.keyId }));
}

export async function runAsymmetricSsd(deps: FlowDeps, ports: AsymmetricPorts, start: AsymmetricSsdFlow): Promise<AsymmetricSsdFlow> {
  const d0 = start.data;
  const aid = fromHex(d0.aid);
  const kid = sdKid(d0.variant);
  const subject = start.subject;
  // A flow this process created and drove without failure knows the card's state; any other asks the card.
  const verify = !deps.flows.isFresh(start.id);
  let channel: CardChannel | undefined;
  const ch = async () => (channel ??= await deps.cardAccess(d0.cardId, d0.route));
  let oce: OceIdentity | undefined;
  const identity = async () => (oce ??= await oceIdentity(deps, ports.ca, caKindOf(d0.variant), d0.caId));
  let session: SecureSession | undefined;
  const open = async (keyRef: KeyRef, auth: SdAuthentication) => openAsymmetricSd(await ch(), aid, d0.variant, keyRef, await identity(), auth);
  try {
    return await runFlow<AsymmetricSsdData>(deps, start, {
      probe: async (flow) => {
        const d = flow.data;
        const [, iccidResponse, ssdResponse] = await transmitScript(await ch(), [
          encodeCommand(buildSelect(ISD_AID)),
          encodeCommand(buildGetData(0x5a)),
          encodeCommand(buildSelect(aid)),
        ]);
        if (iccidResponse === undefined) throw new FlowError('CARD_REFUSED', 'the card did not select its ISD', flow.step);
        const iccid = iccidOf(iccidResponse);
        if (iccid !== d.cardId.padEnd(20, 'F')) throw new FlowError('CONFLICT', `the card answers ICCID ${iccid}, not ${d.cardId}`, flow.step);
        const exists = ssdResponse !== undefined && (swOf(ssdResponse) === 0x9000 || swOf(ssdResponse) === 0x6283);
        if (exists) throw new FlowError('CONFLICT', `the card already has an application ${d.aid} the provider does not know`, flow.step);
        // The issuer works on the card next (`request`): give it the card.
        await releaseCard(channel);
        channel = undefined;
        return {
          next: 'request',
          commit: (tx) => deps.audit(tx, { actor: deps.actor, action: 'card.probed', subject, details: { iccid, ssdPresent: false } }),
        };
      },
      request: async (flow) => {
        const d = flow.data;
        const trustPoint = await ports.ca.trustPoint(d.caId);
        const issuer = ports.issuer.withScope ? ports.issuer.withScope(flow.id) : ports.issuer;
        const info = await issuer.requestAsymmetricSsd({
          cardId: d.cardId,
          aid: d.aid,
          privileges: d.privileges,
          route: d.route,
          variant: d.variant,
          trustPoint,
          ...(d.modulusBits !== undefined ? { modulusBits: d.modulusBits } : {}),
        });
        if (info.variant !== d.variant || info.sdKey.kid !== kid || info.aid.toUpperCase() !== d.aid || ('point' in info.publicKey) === (d.variant === '10')) {
          throw new FlowError('CONFLICT', 'the issuer answered SD information for another SSD', flow.step);
        }
        return {
          next: 'rekey',
          data: { firstKey: info.sdKey, firstPublicKey: info.publicKey },
          commit: async (tx) => {
            await tx.execute('UPDATE asymmetric_sds SET first_key = $1, sd_kvn = $2, updated_at = $3 WHERE card_id = $4 AND aid = $5', [
              JSON.stringify(info.publicKey),
              info.sdKey.kvn,
              now(),
              d.cardId,
              d.aid,
            ]);
            await setState(tx, d, 'sd-received');
            await deps.audit(tx, {
              actor: deps.actor,
              action: 'sd.info-received',
              subject,
              details: { from: 'issuer', kvn: info.sdKey.kvn, kid: info.sdKey.kid, publicKeyFingerprint: publicKeyFingerprint(publicKeyBytes(info.publicKey)) },
            });
          },
        };
      },
      rekey: async (flow) => {
        const d = flow.data;
        session ??= await open(d.firstKey!, { pinned: d.firstPublicKey! });
        let deleteSetup = true;
        let replace = 0;
        if (verify) {
          const keys = await keysOnCard(session);
          deleteSetup = keys.some((k) => k.kvn === ISSUER_SETUP_KVN);
          replace = keys.some((k) => k.kvn === PROVIDER_SD_KVN && k.kid === kid) ? PROVIDER_SD_KVN : 0;
        }
        const generate =
          d.variant === '10'
            ? buildGenerateRsaKeyPair({ kvn: PROVIDER_SD_KVN, kid, replaceKvn: replace, modulusBits: d.modulusBits ?? 2048 })
            : buildGenerateEcKeyPair({ kvn: PROVIDER_SD_KVN, kid, replaceKvn: replace, curveReference: curveRefOf(d.firstPublicKey!) });
        const responses = await sendAll(session, [...(deleteSetup ? [buildDeleteKey({ kvn: ISSUER_SETUP_KVN })] : []), generate]);
        const g = responses[responses.length - 1]!.data;
        const publicKey = publicKeyHex(d.variant === '10' ? parseGeneratedRsaPublicKey(g) : { point: parseGeneratedEcPublicKey(g) });
        return {
          next: 'certify',
          data: { publicKey },
          commit: async (tx) => {
            await tx.execute('UPDATE asymmetric_sds SET public_key = $1, updated_at = $2 WHERE card_id = $3 AND aid = $4', [JSON.stringify(publicKey), now(), d.cardId, d.aid]);
            await setState(tx, d, 'rekeyed');
            if (deleteSetup) await deps.audit(tx, { actor: deps.actor, action: 'key.deleted', subject, details: { kvn: ISSUER_SETUP_KVN, reason: "the issuer's set-up key set" } });
            await deps.audit(tx, {
              actor: deps.actor,
              action: 'key.generated-on-card',
              subject,
              details: { kvn: PROVIDER_SD_KVN, kid, publicKeyFingerprint: publicKeyFingerprint(publicKeyBytes(publicKey)), reconciled: replace !== 0 },
            });
          },
        };
      },
      certify: async (flow) => {
        const d = flow.data;
        const issued = await ports.ca.issueSdCertificate(d.caId, { cardId: d.cardId, sdAid: d.aid, publicKey: publicKeyBytes(d.publicKey!) }, `sd-certificate:${flow.id}`);
        return {
          next: 'install-certificate',
          data: { serial: issued.serial },
          commit: async (tx) => {
            await tx.execute('UPDATE asymmetric_sds SET certificate = $1, serial = $2, sd_kvn = $3, updated_at = $4 WHERE card_id = $5 AND aid = $6', [
              issued.certificate,
              issued.serial,
              PROVIDER_SD_KVN,
              now(),
              d.cardId,
              d.aid,
            ]);
            await deps.audit(tx, { actor: deps.actor, action: 'certificate.received', subject, details: { caId: d.caId, serial: issued.serial, kvn: PROVIDER_SD_KVN, kid } });
          },
        };
      },
      'install-certificate': async (flow) => {
        const d = flow.data;
        const certificate = await certificateOf(deps, d);
        if (session === undefined) {
          // Resumed: the first key pair is there unless a previous run deleted it after storing the certificate.
          try {
            session = await open(d.firstKey!, { pinned: d.firstPublicKey! });
          } catch {
            session = await open({ kvn: PROVIDER_SD_KVN, kid }, { certified: await ports.ca.trustPoint(d.caId), caId: d.caId });
          }
        }
        const firstPresent = verify ? (await keysOnCard(session)).some((k) => k.kvn === d.firstKey!.kvn && k.kid === kid) : true;
        await sendAll(session, [
          ...buildStoreCertificates({ kid, kvn: PROVIDER_SD_KVN, certificates: [certificate] }),
          ...(firstPresent ? [buildDeleteKey({ kvn: d.firstKey!.kvn })] : []),
        ]);
        return {
          next: 'install-applet',
          commit: async (tx) => {
            await setState(tx, d, 'certified');
            await deps.audit(tx, { actor: deps.actor, action: 'certificate.installed', subject, details: { serial: d.serial ?? null, kvn: PROVIDER_SD_KVN, kid } });
            if (firstPresent) await deps.audit(tx, { actor: deps.actor, action: 'key.deleted', subject, details: { kvn: d.firstKey!.kvn, kid, reason: 'replaced by the certified key pair' } });
          },
        };
      },
      'install-applet': async (flow) => {
        const d = flow.data;
        // A new session, the SSD authenticated by its certificate from the provider's CA: proof that it works.
        await session?.close();
        session = await open({ kvn: PROVIDER_SD_KVN, kid }, { certified: await ports.ca.trustPoint(d.caId), caId: d.caId });
        const instance = fromHex(d.instanceAid);
        const already = await installEcho(session, instance);
        return {
          next: DONE,
          commit: async (tx) => {
            await tx.execute(
              'INSERT INTO service_instances (card_id, aid, sd_aid, state, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (card_id, aid) DO UPDATE SET sd_aid = $3, state = $4, updated_at = $5',
              [d.cardId, d.instanceAid, d.aid, 'installed', now()],
            );
            await tx.execute("UPDATE ssds SET state = 'provider-managed', kvn = $1, updated_at = $2 WHERE card_id = $3 AND aid = $4", [PROVIDER_SD_KVN, now(), d.cardId, d.aid]);
            await deps.audit(tx, { actor: deps.actor, action: 'applet.installed', subject, details: { aid: d.instanceAid, reconciled: already } });
          },
        };
      },
    });
  } finally {
    await session?.close().catch(() => undefined);
    await releaseCard(channel);
  }
}

function curveRefOf(k: SdPublicKeyHex): number {
  if (!('point' in k)) throw new TypeError('not an EC key');
  return k.point.length === 2 * 65 ? 0x00 : 0x01;
}

async function certificateOf(deps: FlowDeps, d: AsymmetricSsdData): Promise<Uint8Array> {
  const rows = await deps.db.query<{ certificate: Uint8Array | null }>('SELECT certificate FROM asymmetric_sds WHERE card_id = $1 AND aid = $2', [d.cardId, d.aid]);
  const c = rows[0]?.certificate;
  if (!c) throw new FlowError('WRONG_STATE', `no certificate recorded for SSD ${d.aid}`);
  return new Uint8Array(c);
}
