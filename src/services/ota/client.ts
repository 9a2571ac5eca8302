/**
 * The OTA admin API as other actors use it: the issuer's grants (which provider may address which AID on
 * which card, issue 8 §4). Scripts go through `RemoteOtaChannel` (remote-channel.ts).
 */
import { PlatformClient, RemoteProblemError } from '../../platform/http/client.ts';

export interface OtaGrantsClient {
  /** Let `providerId` address `aid` on card `cardId` (idempotent). */
  grant(cardId: string, aid: string, providerId: string): Promise<void>;
  /** Withdraw the grant of `aid` on `cardId` (none is fine). */
  revoke(cardId: string, aid: string): Promise<void>;
}

const path = (cardId: string, aid: string) => `/v1/devices/${encodeURIComponent(cardId)}/grants/${encodeURIComponent(aid.toUpperCase())}`;

export function otaGrantsClient(client: Pick<PlatformClient, 'call'>): OtaGrantsClient {
  return {
    async grant(cardId, aid, providerId) {
      await client.call('PUT', path(cardId, aid), { body: { providerId } });
    },
    async revoke(cardId, aid) {
      try {
        await client.call('DELETE', path(cardId, aid));
      } catch (e) {
        if (e instanceof RemoteProblemError && e.status === 404) return;
        throw e;
      }
    },
  };
}
