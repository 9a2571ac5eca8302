/**
 * Scenario `asymmetric-ssd` (docs/architecture.md §4 flow 4): for each of N phones the provider asks for an SSD whose
 * keys the card generates (`POST /v1/cards/{id}/asymmetric-ssds`, SCP11a, SCP11c or SCP10) — it reads the ICCID
 * over OTA, the issuer creates the SSD with the provider CA's trust point, the provider re-keys it in its own
 * session, has the new key certified and installs the certificate and its applet. Then, with public data only:
 * the card's certificate for the SSD is the one the provider's CA issued and verifies under that CA's key; the
 * ISD keys (the issuer's) open no channel to the SSD (it holds no symmetric key); the issuer holds no key of it;
 * the ISD lists the SSD and the applet.
 */
import { fromHex, toHex, equalBytes } from '../../core/bytes.ts';
import { transmitScript } from '../../apdu/channel.ts';
import { encodeCommand } from '../../apdu/command.ts';
import { decodeResponse } from '../../apdu/response.ts';
import { buildGetCertificates, parseCertificateStore } from '../../gp/asymmetric-keys.ts';
import { buildGetCardCertificate } from '../../scp/scp10/handshake.ts';
import { buildSelect } from '../../gp/select.ts';
import { caClient } from '../../services/ca/client.ts';
import { parseCertificates, verifyChain } from '../../scp/scp11/index.ts';
import { verifyCertificate } from '../../scp/scp10/certificate.ts';
import { rsaPublicKey } from '../../crypto/index.ts';
import { probeKeySet } from '../../services/sd-keys/operations.ts';
import type { AsymmetricVariant } from '../../services/sd-keys/asymmetric.ts';
import type { PhoneRecord } from '../../runtime/index.ts';
import { Checks, freshSsdAid } from './checks.ts';
import type { ScenarioContext } from './context.ts';
import { isdKeysOf, listByIsd } from './ota-ssd.ts';

export interface AsymmetricCard {
  readonly cardId: string;
  readonly aid: string;
  readonly variant: AsymmetricVariant;
  readonly kvn: number;
  readonly kid: number;
  readonly caId: string;
  readonly serial: string;
  readonly certificateVerifies: boolean;
  readonly issuerIsdKeysOnSsd: string;
  readonly issuerHoldsKeys: boolean;
  readonly listedByIsd: { readonly ssd: boolean; readonly applet: boolean };
}

interface Answer {
  state: string;
  kvn: number;
  kid: number;
  caId: string;
  serial: string;
  instanceAid: string;
}

/** The SSD's certificate as the card presents it (GET DATA after SELECT, no secure channel needed). */
async function certificateOnCard(ctx: ScenarioContext, cardId: string, aid: string, variant: AsymmetricVariant, kvn: number, kid: number): Promise<Uint8Array> {
  const get = variant === '10' ? buildGetCardCertificate() : encodeCommand(buildGetCertificates({ kid, kvn }));
  const [sel, got] = await transmitScript(await ctx.channel(cardId), [encodeCommand(buildSelect(fromHex(aid))), get]);
  const r = decodeResponse(got ?? sel!);
  if (r.sw !== 0x9000) throw new Error(`GET DATA certificate answered ${r.sw.toString(16)}`);
  return variant === '10' ? r.data : parseCertificateStore(r.data);
}

export async function asymmetricSsdOn(ctx: ScenarioContext, checks: Checks, phone: PhoneRecord, aid: string, variant: AsymmetricVariant, modulusBits?: 1024 | 2048): Promise<AsymmetricCard> {
  const cardId = phone.iccid;
  const instanceAid = `${aid}EC`;
  const r = await ctx.operator.provider.post<Answer>(`/v1/cards/${cardId}/asymmetric-ssds`, {
    body: { aid, variant, instanceAid, ...(modulusBits !== undefined ? { modulusBits } : {}) },
    idempotencyKey: `scenario-asymmetric-${cardId}-${aid}`,
  });
  checks.equal(`${cardId} ${aid}: provider answer (status, state, key)`, [r.status, r.body.state, r.body.kvn], [201, 'provider-managed', 0x12]);
  const ca = caClient(ctx.operator.ca);
  const view = await ca.getCa(r.body.caId);
  const issued = await ca.getCertificate(r.body.serial);
  const onCard = await certificateOnCard(ctx, cardId, aid, variant, r.body.kvn, r.body.kid);
  checks.that(`${cardId} ${aid}: the card presents the certificate the provider's CA issued`, equalBytes(onCard, issued.certificate), toHex(issued.certificate).slice(0, 16), toHex(onCard).slice(0, 16));
  let verifies = false;
  try {
    if (variant === '10') verifyCertificate(onCard, { id: fromHex(view.caId), publicKey: rsaPublicKey(view.rsa!.modulus, view.rsa!.exponent) });
    else verifyChain(parseCertificates(onCard), { curve: view.algorithm as 'P-256', point: view.publicKey });
    verifies = true;
  } catch {
    verifies = false;
  }
  checks.equal(`${cardId} ${aid}: the certificate verifies under the provider CA's key (${view.algorithm})`, verifies, true);
  const isdKeysOnSsd = await probeKeySet(await ctx.channel(cardId), fromHex(aid), isdKeysOf(phone));
  checks.equal(`${cardId} ${aid}: the issuer's ISD keys open no channel to the SSD (it holds no symmetric key)`, isdKeysOnSsd, 'absent');
  const issuerView = await ctx.operator.issuer.get<{ ssds: { aid: string; state: string; keysHeld: boolean }[] }>(`/v1/cards/${cardId}/ssds`);
  const mine = issuerView.body.ssds.find((s) => s.aid === aid);
  checks.equal(`${cardId} ${aid}: the issuer's view (state, holds keys)`, mine && [mine.state, mine.keysHeld], ['provider-managed', false]);
  const listed = await listByIsd(await ctx.channel(cardId), phone);
  const listedByIsd = { ssd: listed.includes(aid), applet: listed.includes(instanceAid) };
  checks.equal(`${cardId} ${aid}: GET STATUS through the ISD lists the SSD and the provider's applet`, listedByIsd, { ssd: true, applet: true });
  return {
    cardId,
    aid,
    variant,
    kvn: r.body.kvn,
    kid: r.body.kid,
    caId: r.body.caId,
    serial: r.body.serial,
    certificateVerifies: verifies,
    issuerIsdKeysOnSsd: isdKeysOnSsd,
    issuerHoldsKeys: mine!.keysHeld,
    listedByIsd,
  };
}

export async function runAsymmetricSsd(ctx: ScenarioContext, checks: Checks, devices: number, variant: AsymmetricVariant, modulusBits?: 1024 | 2048): Promise<{ aid: string; cards: AsymmetricCard[] }> {
  checks.that('phones available', ctx.phones.length >= devices, `at least ${devices}`, ctx.phones.length);
  const aid = freshSsdAid();
  const cards = await Promise.all(ctx.phones.slice(0, devices).map((p) => asymmetricSsdOn(ctx, checks, p, aid, variant, modulusBits)));
  return { aid, cards };
}
