/**
 * The CA's API as seen by the issuer and provider platforms, over a `PlatformClient` with mutual TLS (the
 * caller is who its certificate CN says):
 *  - `caClient(client)`: typed calls — hex on the wire, `Uint8Array` in the API. `createCa` is the operator's
 *    (POST /v1/cas); `issueSdCertificate` / `issueOceCertificate` are the CA owner's and carry an
 *    Idempotency-Key: the caller's, or by default one derived from the CA id and the whole request body
 *    (`sd-certificate:<sha256>` / `oce-certificate:<sha256>`), so that sending the same request again — a retry
 *    after a lost answer — replays the first certificate instead of issuing a second; any other request gets a
 *    new one. Problems reject with `RemoteProblemError` (its `problem.code` is the CA's code: NOT_OWNER,
 *    UNKNOWN_CA, BAD_PUBLIC_KEY, BAD_REQUEST, VALIDATION …); a malformed answer rejects with `TypeError`.
 *  - `httpTrustSource(client)` feeds a `TrustChecker` from `GET /v1/cas/{caId}` and `GET /v1/cas/{caId}/revoked`
 *    (the CA public key is cached per CA id: it never changes; the revocation list is fetched on every check).
 * There is no route listing CAs, hence no `listCas` here.
 */
import { createHash } from 'node:crypto';
import { fromHex, toHex } from '../../core/bytes.ts';
import { RemoteProblemError, type PlatformClient } from '../../platform/http/client.ts';
import type { CertificateScheme } from '../../scp/scp10/certificate.ts';
import type { SdKeyUsage, SdPublicKey } from './certify.ts';
import type { CaAlgorithm, CaKind } from './keys.ts';
import type { OceCertificateRequest } from './oce.ts';
import type { RevocationEntry, RevocationReason } from './revocation.ts';
import type { TrustAnchor, TrustSource } from './trust.ts';
import { getCa, type CaDeps } from './authority.ts';
import { CaError } from './errors.ts';
import { issueSdCertificate } from './issue.ts';
import { issueOceCertificate } from './oce.ts';
import { caViewFromJson, type CaView } from './view.ts';

/** A CA's public information (GET /v1/cas/{caId}); one definition in view.ts. */
export type { CaView };

/** An issued certificate, SD or OCE (`kind`). */
export interface CertificateView {
  readonly kind: 'sd' | 'oce';
  readonly serial: string;
  readonly caId: string;
  readonly subjectId: Uint8Array;
  readonly keyUsage: SdKeyUsage | null;
  readonly publicKeyFingerprint: string;
  /** The '7F21' certificate. */
  readonly certificate: Uint8Array;
  readonly certificateSha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
  readonly revokedAt: string | null;
  readonly reason: string | null;
  /** SD certificates only. */
  readonly cardId?: string;
  readonly sdAid?: string;
  /** OCE certificates only (SCP10 scheme, null for SCP11). */
  readonly scheme?: CertificateScheme | null;
}

export interface SdCertificateClientRequest {
  readonly cardId: string;
  readonly sdAid: string;
  readonly publicKey: SdPublicKey;
  readonly keyUsage?: SdKeyUsage;
  readonly scheme?: CertificateScheme;
  readonly subjectId?: Uint8Array;
  readonly validityDays?: number;
}

export type OceCertificateClientRequest = OceCertificateRequest;

export interface CaClient {
  /** Operator only. */
  createCa(owner: string, kind: CaKind, algorithm?: CaAlgorithm): Promise<CaView>;
  getCa(caId: string): Promise<CaView>;
  /** CA owner only. */
  issueSdCertificate(caId: string, req: SdCertificateClientRequest, idempotencyKey?: string): Promise<CertificateView>;
  /** CA owner only. */
  issueOceCertificate(caId: string, req: OceCertificateClientRequest, idempotencyKey?: string): Promise<CertificateView>;
  /** The CA owner or the operator. */
  getCertificate(serial: string): Promise<CertificateView>;
  /** The CA owner or the operator. */
  revokeCertificate(serial: string, reason: RevocationReason): Promise<CertificateView>;
  revocations(caId: string): Promise<RevocationEntry[]>;
}

type Json = Record<string, unknown>;

const HEX = /^([0-9A-Fa-f]{2})*$/;

function hexOf(body: Json, name: string): Uint8Array {
  const v = body[name];
  if (typeof v !== 'string' || !HEX.test(v)) throw new TypeError(`the CA answered a malformed ${name}`);
  return fromHex(v);
}

function stringOf(body: Json, name: string): string {
  const v = body[name];
  if (typeof v !== 'string') throw new TypeError(`the CA answered a malformed ${name}`);
  return v;
}

function nullableString(body: Json, name: string): string | null {
  const v = body[name];
  if (v !== null && typeof v !== 'string') throw new TypeError(`the CA answered a malformed ${name}`);
  return v;
}

const caViewOf = caViewFromJson;

function certificateViewOf(b: Json): CertificateView {
  const kind = b.kind;
  if (kind !== 'sd' && kind !== 'oce') throw new TypeError('the CA answered a certificate of unknown kind');
  return {
    kind,
    serial: stringOf(b, 'serial'),
    caId: stringOf(b, 'caId'),
    subjectId: hexOf(b, 'subjectId'),
    keyUsage: nullableString(b, 'keyUsage') as SdKeyUsage | null,
    publicKeyFingerprint: stringOf(b, 'publicKeyFingerprint'),
    certificate: hexOf(b, 'certificate'),
    certificateSha256: stringOf(b, 'certificateSha256'),
    notBefore: stringOf(b, 'notBefore'),
    notAfter: stringOf(b, 'notAfter'),
    issuedAt: stringOf(b, 'issuedAt'),
    revokedAt: nullableString(b, 'revokedAt'),
    reason: nullableString(b, 'reason'),
    ...(kind === 'sd' ? { cardId: stringOf(b, 'cardId'), sdAid: stringOf(b, 'sdAid') } : { scheme: nullableString(b, 'scheme') as CertificateScheme | null }),
  };
}

function publicKeyBody(k: SdPublicKey): Json {
  return 'point' in k ? { point: toHex(k.point) } : { modulus: toHex(k.modulus), exponent: toHex(k.exponent) };
}

/** A default Idempotency-Key: the operation, then SHA-256 of the CA id and the body (stable for the same request). */
function requestKey(operation: string, caId: string, body: Json): string {
  return `${operation}:${toHex(new Uint8Array(createHash('sha256').update(JSON.stringify([caId.toUpperCase(), body])).digest()))}`;
}

const path = (...parts: string[]) => parts.map((p) => encodeURIComponent(p)).join('/');

export function caClient(client: Pick<PlatformClient, 'get' | 'post'>): CaClient {
  return {
    async createCa(owner, kind, algorithm) {
      const body = { owner, kind, ...(algorithm === undefined ? {} : { algorithm }) };
      const r = await client.post<Json>('/v1/cas', { body, idempotencyKey: requestKey('ca', '', body) });
      return caViewOf(r.body);
    },
    async getCa(caId) {
      return caViewOf((await client.get<Json>(`/v1/cas/${path(caId)}`)).body);
    },
    async issueSdCertificate(caId, req, idempotencyKey) {
      const body: Json = {
        cardId: req.cardId,
        sdAid: req.sdAid,
        publicKey: publicKeyBody(req.publicKey),
        ...(req.keyUsage === undefined ? {} : { keyUsage: req.keyUsage }),
        ...(req.scheme === undefined ? {} : { scheme: req.scheme }),
        ...(req.subjectId === undefined ? {} : { subjectId: toHex(req.subjectId) }),
        ...(req.validityDays === undefined ? {} : { validityDays: req.validityDays }),
      };
      const r = await client.post<Json>(`/v1/cas/${path(caId)}/certificates`, { body, idempotencyKey: idempotencyKey ?? requestKey('sd-certificate', caId, body) });
      return certificateViewOf(r.body);
    },
    async issueOceCertificate(caId, req, idempotencyKey) {
      const body: Json = {
        publicKey: publicKeyBody(req.publicKey),
        ...(req.scheme === undefined ? {} : { scheme: req.scheme }),
        ...(req.subjectId === undefined ? {} : { subjectId: toHex(req.subjectId) }),
        ...(req.validityDays === undefined ? {} : { validityDays: req.validityDays }),
      };
      const r = await client.post<Json>(`/v1/cas/${path(caId)}/oce-certificates`, { body, idempotencyKey: idempotencyKey ?? requestKey('oce-certificate', caId, body) });
      return certificateViewOf(r.body);
    },
    async getCertificate(serial) {
      return certificateViewOf((await client.get<Json>(`/v1/certificates/${path(serial)}`)).body);
    },
    async revokeCertificate(serial, reason) {
      return certificateViewOf((await client.post<Json>(`/v1/certificates/${path(serial)}/revocation`, { body: { reason } })).body);
    },
    async revocations(caId) {
      return (await client.get<{ revoked: RevocationEntry[] }>(`/v1/cas/${path(caId)}/revoked`)).body.revoked;
    },
  };
}

export function httpTrustSource(client: Pick<PlatformClient, 'get'>): TrustSource {
  const anchors = new Map<string, TrustAnchor>();
  return {
    async anchor(caId) {
      const cached = anchors.get(caId);
      if (cached !== undefined) return cached;
      try {
        const ca = caViewFromJson((await client.get<Json>(`/v1/cas/${encodeURIComponent(caId)}`)).body);
        const a: TrustAnchor = { caId: ca.caId, kind: ca.kind, algorithm: ca.algorithm, publicKey: ca.publicKey };
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

export type { CaDeps };

/** What a CA owner calls to have keys certified (the provider's port is satisfied by either client). */
export type CaOwnerClient = Pick<CaClient, 'getCa' | 'issueSdCertificate' | 'issueOceCertificate'>;

/**
 * The CA's calls in the same process, as CA owner `owner` (tests, one-process benches): the same views as over
 * HTTP (each answer goes through the wire form), without the idempotency store — each call issues.
 */
export function localCaClient(deps: CaDeps, owner: string): CaOwnerClient {
  const wire = (c: { readonly certificate: Uint8Array }) => certificateViewOf({ ...(c as unknown as Json), certificate: toHex(c.certificate) });
  return {
    async getCa(caId) {
      const ca = await getCa(deps.db, caId);
      if (ca === undefined) throw new CaError('UNKNOWN_CA', `unknown CA ${caId}`);
      return ca;
    },
    async issueSdCertificate(caId, req) {
      return wire(await issueSdCertificate(deps, caId, req, owner));
    },
    async issueOceCertificate(caId, req) {
      return wire(await issueOceCertificate(deps, caId, req, owner));
    },
  };
}
