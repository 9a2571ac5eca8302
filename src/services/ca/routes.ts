/**
 * The CA's HTTP routes (mutual TLS; callers are identified by their certificate CN, never by URL or header):
 *
 *   POST /v1/cas                               operator        create a CA for `issuer` or a provider (Idempotency-Key;
 *                                                              one per owner and kind, else 409 ALREADY_EXISTS) → 201 CA view
 *   GET  /v1/cas/{caId}                        anyone          public info: trust-point key, CA certificate
 *   POST /v1/cas/{caId}/certificates           CA owner only   issue an SD certificate (Idempotency-Key) → 201
 *   POST /v1/cas/{caId}/oce-certificates       CA owner only   issue an OCE certificate (Idempotency-Key) → 201
 *   GET  /v1/certificates/{serial}             owner/operator  an issued certificate (SD or OCE: `kind`)
 *   POST /v1/certificates/{serial}/revocation  owner/operator  revoke → 200 (409 ALREADY_REVOKED)
 *   GET  /v1/cas/{caId}/revoked                authenticated   the revocation list
 *
 * The owner of a CA is `issuer` (CN of the issuer platform) or a provider id (CN of that provider's platform):
 * a provider may only use its own CA (403 NOT_OWNER otherwise).
 */
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { fromHex, toHex } from '../../core/bytes.ts';
import { ProblemError } from '../../platform/errors.ts';
import { requirePeer } from '../../platform/http/peer.ts';
import { createCa, getCa, type CaDeps } from './authority.ts';
import { caViewJson, caViewSchema } from './view.ts';
import { CaError, type CaErrorCode } from './errors.ts';
import type { CaCertificate } from './certificates.ts';
import { issueSdCertificate, type SdKeyUsage, type SdPublicKey } from './issue.ts';
import type { CaAlgorithm, CaKind } from './keys.ts';
import { issueOceCertificate } from './oce.ts';
import { getCertificate, revocationList, revoke, REVOCATION_REASONS, type RevocationReason } from './revocation.ts';

export const OPERATOR = 'operator';

const hex = (min: number, max: number) => ({ type: 'string', pattern: `^([0-9A-Fa-f]{2}){${min},${max}}$` }) as const;
const str = { type: 'string' } as const;
const caIdParams = { type: 'object', required: ['caId'], properties: { caId: { type: 'string', pattern: '^[0-9A-Fa-f]{16}$' } }, additionalProperties: false } as const;
const serialParams = { type: 'object', required: ['serial'], properties: { serial: { type: 'string', pattern: '^[0-9A-Fa-f]{16}$' } }, additionalProperties: false } as const;

const createBody = {
  type: 'object',
  required: ['owner', 'kind'],
  properties: {
    owner: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    kind: { type: 'string', enum: ['scp11', 'scp10'] },
    algorithm: { type: 'string', enum: ['P-256', 'P-384', 'RSA-2048', 'RSA-1024'] },
  },
  additionalProperties: false,
} as const;

const caView = caViewSchema;

const publicKeyBody = {
  oneOf: [
    { type: 'object', required: ['point'], properties: { point: hex(65, 133) }, additionalProperties: false },
    { type: 'object', required: ['modulus', 'exponent'], properties: { modulus: hex(128, 512), exponent: hex(1, 4) }, additionalProperties: false },
  ],
} as const;

const issueBody = {
  type: 'object',
  required: ['cardId', 'sdAid', 'publicKey'],
  properties: {
    cardId: { type: 'string', pattern: '^[0-9]{17,19}[0-9Ff]$' },
    sdAid: hex(5, 16),
    publicKey: publicKeyBody,
    keyUsage: { type: 'string', enum: ['keyAgreement', 'signature'] },
    scheme: { type: 'string', enum: ['pkcs1', 'iso9796-2'] },
    subjectId: hex(1, 127),
    validityDays: { type: 'integer', minimum: 1, maximum: 3650 },
  },
  additionalProperties: false,
} as const;

const oceIssueBody = {
  type: 'object',
  required: ['publicKey'],
  properties: {
    publicKey: publicKeyBody,
    subjectId: hex(1, 127),
    validityDays: { type: 'integer', minimum: 1, maximum: 3650 },
    scheme: { type: 'string', enum: ['pkcs1', 'iso9796-2'] },
  },
  additionalProperties: false,
} as const;

const certificateView = {
  type: 'object',
  required: ['kind', 'serial', 'caId', 'cardId', 'sdAid', 'subjectId', 'keyUsage', 'publicKeyFingerprint', 'certificate', 'certificateSha256', 'notBefore', 'notAfter', 'issuedAt', 'revokedAt', 'reason'],
  properties: {
    kind: { type: 'string', enum: ['sd'] },
    serial: str,
    caId: str,
    cardId: str,
    sdAid: str,
    subjectId: str,
    keyUsage: { type: ['string', 'null'] },
    publicKeyFingerprint: str,
    certificate: { type: 'string', description: "'7F21' certificate, hex" },
    certificateSha256: str,
    notBefore: str,
    notAfter: str,
    issuedAt: str,
    revokedAt: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
  },
  additionalProperties: false,
} as const;

const oceCertificateView = {
  type: 'object',
  required: ['kind', 'serial', 'caId', 'subjectId', 'keyUsage', 'scheme', 'publicKeyFingerprint', 'certificate', 'certificateSha256', 'notBefore', 'notAfter', 'issuedAt', 'revokedAt', 'reason'],
  properties: {
    kind: { type: 'string', enum: ['oce'] },
    serial: str,
    caId: str,
    subjectId: { type: 'string', description: 'the OCE identifier (5F20), hex' },
    keyUsage: { type: ['string', 'null'], description: "SCP11: keyAgreement ('00 80'); SCP10: null" },
    scheme: { type: ['string', 'null'], description: 'SCP10: pkcs1 or iso9796-2; SCP11: null' },
    publicKeyFingerprint: str,
    certificate: { type: 'string', description: "'7F21' certificate (CERT.OCE.ECKA or CERT.OCE.AUT), hex" },
    certificateSha256: str,
    notBefore: str,
    notAfter: str,
    issuedAt: str,
    revokedAt: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
  },
  additionalProperties: false,
} as const;

/** An SD or an OCE certificate, told apart by `kind`. */
const anyCertificateView = { oneOf: [certificateView, oceCertificateView] } as const;

const revocationBody = {
  type: 'object',
  required: ['reason'],
  properties: { reason: { type: 'string', enum: REVOCATION_REASONS } },
  additionalProperties: false,
} as const;

const revokedView = {
  type: 'object',
  required: ['caId', 'revoked'],
  properties: {
    caId: str,
    revoked: {
      type: 'array',
      items: {
        type: 'object',
        required: ['serial', 'certificateSha256', 'revokedAt', 'reason'],
        properties: { serial: str, certificateSha256: str, revokedAt: str, reason: str },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
} as const;

interface IssueBody {
  cardId: string;
  sdAid: string;
  publicKey: { point: string } | { modulus: string; exponent: string };
  keyUsage?: SdKeyUsage;
  scheme?: 'pkcs1' | 'iso9796-2';
  subjectId?: string;
  validityDays?: number;
}

interface OceIssueBody {
  publicKey: { point: string } | { modulus: string; exponent: string };
  subjectId?: string;
  validityDays?: number;
  scheme?: 'pkcs1' | 'iso9796-2';
}

function publicKeyOf(b: OceIssueBody['publicKey']): SdPublicKey {
  return 'point' in b ? { point: fromHex(b.point) } : { modulus: fromHex(b.modulus), exponent: fromHex(b.exponent) };
}

const STATUS: Readonly<Record<CaErrorCode, number>> = {
  UNKNOWN_CA: 404,
  UNKNOWN_CERTIFICATE: 404,
  NOT_OWNER: 403,
  BAD_PUBLIC_KEY: 400,
  BAD_REQUEST: 400,
  ALREADY_EXISTS: 409,
  ALREADY_REVOKED: 409,
  DUPLICATE_CERTIFICATE: 409,
  UNTRUSTED: 422,
  REVOKED: 422,
};

/** A CaError as the problem the client sees. */
export function caProblem(e: unknown): unknown {
  return e instanceof CaError ? new ProblemError({ status: STATUS[e.code], code: e.code, detail: e.message }) : e;
}

async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw caProblem(e);
  }
}

export const caViewOf = caViewJson;

export function certificateViewOf(c: CaCertificate) {
  return { ...c, certificate: toHex(c.certificate) };
}

function callerOf(request: FastifyRequest): string {
  const peer = request.peer;
  if (peer === null) throw new ProblemError({ status: 401, code: 'UNAUTHENTICATED', detail: 'this route needs a platform client certificate' });
  return peer.commonName;
}

const notOwner = (cn: string, caId: string) => caProblem(new CaError('NOT_OWNER', `peer '${cn}' does not own CA ${caId}`));

export async function caRoutes(app: FastifyInstance, deps: CaDeps): Promise<void> {
  const authenticated: onRequestAsyncHookHandler = async (request) => void callerOf(request);

  /** The CA's owner only (runs before the idempotency check). */
  const caOwner: onRequestAsyncHookHandler = async (request) => {
    const cn = callerOf(request);
    const caId = (request.params as { caId: string }).caId.toUpperCase();
    const ca = await getCa(deps.db, caId);
    if (ca === undefined) throw caProblem(new CaError('UNKNOWN_CA', `unknown CA ${caId}`));
    if (ca.owner !== cn) throw notOwner(cn, caId);
  };

  /** The owner of the certificate's CA, or the operator. */
  const certificateOwnerOrOperator: onRequestAsyncHookHandler = async (request) => {
    const cn = callerOf(request);
    const serial = (request.params as { serial: string }).serial.toUpperCase();
    const cert = await getCertificate(deps.db, serial);
    if (cert === undefined) throw caProblem(new CaError('UNKNOWN_CERTIFICATE', `no certificate with serial ${serial}`));
    if (cn === OPERATOR) return;
    const ca = await getCa(deps.db, cert.caId);
    if (ca?.owner !== cn) throw notOwner(cn, cert.caId);
  };

  app.post<{ Body: { owner: string; kind: CaKind; algorithm?: CaAlgorithm } }>(
    '/v1/cas',
    {
      onRequest: requirePeer(OPERATOR),
      config: { idempotent: true },
      schema: { summary: 'Create a certificate authority (one per owner and kind; Idempotency-Key)', tags: ['cas'], body: createBody, response: { 201: caView } },
    },
    async (request, reply) => {
      const b = request.body;
      const ca = await mapped(createCa(deps, b.owner, b.kind, ...(b.algorithm === undefined ? [] : [b.algorithm])));
      return reply.code(201).header('location', `/v1/cas/${ca.caId}`).send(caViewOf(ca));
    },
  );

  app.get<{ Params: { caId: string } }>(
    '/v1/cas/:caId',
    { schema: { summary: 'Public information of a CA (trust-point key, CA certificate)', tags: ['cas'], params: caIdParams, response: { 200: caView } } },
    async (request) => {
      const ca = await getCa(deps.db, request.params.caId.toUpperCase());
      if (ca === undefined) throw caProblem(new CaError('UNKNOWN_CA', `unknown CA ${request.params.caId}`));
      return caViewOf(ca);
    },
  );

  app.post<{ Params: { caId: string }; Body: IssueBody }>(
    '/v1/cas/:caId/certificates',
    {
      onRequest: caOwner,
      config: { idempotent: true },
      schema: { summary: 'Certify an SD public key', tags: ['certificates'], params: caIdParams, body: issueBody, response: { 201: certificateView } },
    },
    async (request, reply) => {
      const b = request.body;
      const publicKey = publicKeyOf(b.publicKey);
      const issued = await mapped(
        issueSdCertificate(
          deps,
          request.params.caId.toUpperCase(),
          {
            cardId: b.cardId,
            sdAid: b.sdAid,
            publicKey,
            ...(b.keyUsage === undefined ? {} : { keyUsage: b.keyUsage }),
            ...(b.scheme === undefined ? {} : { scheme: b.scheme }),
            ...(b.subjectId === undefined ? {} : { subjectId: fromHex(b.subjectId) }),
            ...(b.validityDays === undefined ? {} : { validityDays: b.validityDays }),
          },
          callerOf(request),
        ),
      );
      return reply.code(201).header('location', `/v1/certificates/${issued.serial}`).send(certificateViewOf(issued));
    },
  );

  app.post<{ Params: { caId: string }; Body: OceIssueBody }>(
    '/v1/cas/:caId/oce-certificates',
    {
      onRequest: caOwner,
      config: { idempotent: true },
      schema: {
        summary: 'Certify an Off-Card Entity public key (CERT.OCE.ECKA for SCP11a/c, CERT.OCE.AUT for SCP10)',
        tags: ['certificates'],
        params: caIdParams,
        body: oceIssueBody,
        response: { 201: oceCertificateView },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const issued = await mapped(
        issueOceCertificate(
          deps,
          request.params.caId.toUpperCase(),
          {
            publicKey: publicKeyOf(b.publicKey),
            ...(b.scheme === undefined ? {} : { scheme: b.scheme }),
            ...(b.subjectId === undefined ? {} : { subjectId: fromHex(b.subjectId) }),
            ...(b.validityDays === undefined ? {} : { validityDays: b.validityDays }),
          },
          callerOf(request),
        ),
      );
      return reply.code(201).header('location', `/v1/certificates/${issued.serial}`).send(certificateViewOf(issued));
    },
  );

  app.get<{ Params: { serial: string } }>(
    '/v1/certificates/:serial',
    { onRequest: certificateOwnerOrOperator, schema: { summary: 'An issued certificate (SD or OCE)', tags: ['certificates'], params: serialParams, response: { 200: anyCertificateView } } },
    async (request) => {
      const cert = await getCertificate(deps.db, request.params.serial);
      if (cert === undefined) throw caProblem(new CaError('UNKNOWN_CERTIFICATE', `no certificate with serial ${request.params.serial}`));
      return certificateViewOf(cert);
    },
  );

  app.post<{ Params: { serial: string }; Body: { reason: RevocationReason } }>(
    '/v1/certificates/:serial/revocation',
    {
      onRequest: certificateOwnerOrOperator,
      schema: { summary: 'Revoke a certificate (SD or OCE)', tags: ['certificates'], params: serialParams, body: revocationBody, response: { 200: anyCertificateView } },
    },
    async (request) => certificateViewOf(await mapped(revoke(deps, request.params.serial, request.body.reason, callerOf(request)))),
  );

  app.get<{ Params: { caId: string } }>(
    '/v1/cas/:caId/revoked',
    { onRequest: authenticated, schema: { summary: 'Revocation list of a CA', tags: ['cas'], params: caIdParams, response: { 200: revokedView } } },
    async (request) => {
      const caId = request.params.caId.toUpperCase();
      if ((await getCa(deps.db, caId)) === undefined) throw caProblem(new CaError('UNKNOWN_CA', `unknown CA ${caId}`));
      return { caId, revoked: await revocationList(deps.db, caId) };
    },
  );
}
