/**
 * The CA's API as seen by the issuer and provider platforms: `httpTrustSource(client)` feeds a `TrustChecker`
 * from `GET /v1/cas/{caId}` and `GET /v1/cas/{caId}/revoked` (the CA public key is cached per CA id: it never
 * changes; the revocation list is fetched on every check).
 */
import { fromHex } from '../../core/bytes.ts';
import { RemoteProblemError, type PlatformClient } from '../../platform/http/client.ts';
import type { CaAlgorithm, CaKind } from './keys.ts';
import type { RevocationEntry } from './revocation.ts';
import type { TrustAnchor, TrustSource } from './trust.ts';

interface CaViewBody {
  caId: string;
  kind: CaKind;
  algorithm: CaAlgorithm;
  publicKey: string;
}

export function httpTrustSource(client: Pick<PlatformClient, 'get'>): TrustSource {
  const anchors = new Map<string, TrustAnchor>();
  return {
    async anchor(caId) {
      const cached = anchors.get(caId);
      if (cached !== undefined) return cached;
      try {
        const r = await client.get<CaViewBody>(`/v1/cas/${encodeURIComponent(caId)}`);
        const a: TrustAnchor = { caId: r.body.caId, kind: r.body.kind, algorithm: r.body.algorithm, publicKey: fromHex(r.body.publicKey) };
        anchors.set(caId, a);
        return a;
      } catch (e) {
        if (e instanceof RemoteProblemError && e.status === 404) return undefined;
        throw e;
      }
    },
    async revocations(caId) {
      const r = await client.get<{ revoked: RevocationEntry[] }>(`/v1/cas/${encodeURIComponent(caId)}/revoked`);
      return r.body.revoked;
    },
  };
}
