/** Helpers of the asymmetric SSD tests: the provider's request, and the SSD's keys and applications as the card shows them. */
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { getData, getStatus } from '../../../src/gp/client.ts';
import { parseKeyInformationTemplate } from '../../../src/gp/get-data.ts';
import { GetStatusScope } from '../../../src/gp/registry.ts';
import type { AsymmetricSsdRequest } from '../../../src/services/provider/asymmetric/flow.ts';
import { oceIdentity } from '../../../src/services/provider/asymmetric/oce.ts';
import { caKindOf } from '../../../src/services/provider/asymmetric/ports.ts';
import { openAsymmetricSd } from '../../../src/services/provider/asymmetric/sessions.ts';
import { PROVIDER_SD_KVN, sdKid, type AsymmetricVariant } from '../../../src/services/sd-keys/asymmetric.ts';
import { CARD_ID, SSD_AID, type AsymmetricWorld } from './world.ts';

export function requestOf(variant: AsymmetricVariant, modulusBits?: 1024 | 2048): AsymmetricSsdRequest {
  return { cardId: CARD_ID, aid: SSD_AID, route: { kind: 'ota' }, privileges: ['AuthorizedManagement'], variant, ...(modulusBits ? { modulusBits } : {}) };
}

/** The keys the SSD holds (KVN/KID), asked of the card in a session opened with the provider's certified key. */
export async function keysOfSsd(w: AsymmetricWorld, variant: AsymmetricVariant): Promise<string[]> {
  const oce = await oceIdentity(w.provider, w.ports.ca, caKindOf(variant), w.ports.cas[caKindOf(variant)]!);
  const caId = w.ports.cas[caKindOf(variant)]!;
  const session = await openAsymmetricSd(await w.provider.cardAccess(CARD_ID, { kind: 'ota' }), fromHex(SSD_AID), variant, { kvn: PROVIDER_SD_KVN, kid: sdKid(variant) }, oce, {
    certified: await w.ports.ca.trustPoint(caId),
    caId,
  });
  const keys = parseKeyInformationTemplate((await getData(session, 0xe0))!).map((k) => `${k.kvn.toString(16).padStart(2, '0')}/${k.keyId.toString(16).padStart(2, '0')}`);
  const apps = (await getStatus(session, GetStatusScope.APPLICATIONS)).map((e) => toHex(e.aid).toUpperCase());
  await session.close();
  return [...keys.sort(), ...apps.map((a) => `app:${a}`)];
}

