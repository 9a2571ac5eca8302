/**
 * The provider's `CaPort` over the CA service's HTTP API (`caClient`, mutual TLS, CN = the provider id), or
 * over the CA's functions in the same process (`localCaPort`, for tests and one-process benches). The CA's
 * public key is cached per CA id: a CA's key never changes.
 */
import { toHex } from '../../../core/bytes.ts';
import { getCa, type CaDeps } from '../../ca/authority.ts';
import type { CaClient } from '../../ca/client.ts';
import { issueSdCertificate } from '../../ca/issue.ts';
import { curveOf } from '../../ca/keys.ts';
import { issueOceCertificate } from '../../ca/oce.ts';
import type { TrustPointKey } from '../../sd-keys/asymmetric.ts';
import type { CaPort } from './ports.ts';

type CaKeyView = { readonly kind: 'scp11' | 'scp10'; readonly algorithm: string; readonly publicKey: Uint8Array; readonly rsa?: { readonly modulus: Uint8Array; readonly exponent: Uint8Array } };

function trustPointOf(ca: CaKeyView): TrustPointKey {
  if (ca.kind === 'scp11') {
    const curve = curveOf(ca.algorithm as 'P-256' | 'P-384');
    if (curve !== 'P-256' && curve !== 'P-384') throw new TypeError(`unsupported CA curve ${curve}`);
    return { curve, point: toHex(ca.publicKey).toUpperCase() };
  }
  if (ca.rsa === undefined) throw new TypeError('the SCP10 CA has no RSA numbers');
  return { modulus: toHex(ca.rsa.modulus).toUpperCase(), exponent: toHex(ca.rsa.exponent).toUpperCase() };
}

function cached(load: (caId: string) => Promise<TrustPointKey>): (caId: string) => Promise<TrustPointKey> {
  const cache = new Map<string, Promise<TrustPointKey>>();
  return (caId) => {
    let p = cache.get(caId);
    if (p === undefined) {
      p = load(caId);
      p.catch(() => cache.delete(caId));
      cache.set(caId, p);
    }
    return p;
  };
}

export function httpCaPort(client: CaClient): CaPort {
  return {
    trustPoint: cached(async (caId) => trustPointOf(await client.getCa(caId))),
    async issueSdCertificate(caId, req, idempotencyKey) {
      const c = await client.issueSdCertificate(caId, { cardId: req.cardId, sdAid: req.sdAid, publicKey: req.publicKey }, idempotencyKey);
      return { serial: c.serial, certificate: c.certificate, subjectId: c.subjectId };
    },
    async issueOceCertificate(caId, req, idempotencyKey) {
      const c = await client.issueOceCertificate(caId, { publicKey: req.publicKey }, idempotencyKey);
      return { serial: c.serial, certificate: c.certificate, subjectId: c.subjectId };
    },
  };
}

/** The CA's functions called directly, as CA owner `owner` (no idempotency store: each call issues). */
export function localCaPort(deps: CaDeps, owner: string): CaPort {
  const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
  return {
    trustPoint: cached(async (caId) => {
      const ca = await getCa(deps.db, caId);
      if (ca === undefined) throw new TypeError(`unknown CA ${caId}`);
      return trustPointOf(ca);
    }),
    async issueSdCertificate(caId, req) {
      const c = await issueSdCertificate(deps, caId, { cardId: req.cardId, sdAid: req.sdAid, publicKey: req.publicKey }, owner);
      return { serial: c.serial, certificate: c.certificate, subjectId: hex(c.subjectId) };
    },
    async issueOceCertificate(caId, req) {
      const c = await issueOceCertificate(deps, caId, { publicKey: req.publicKey }, owner);
      return { serial: c.serial, certificate: c.certificate, subjectId: hex(c.subjectId) };
    },
  };
}
