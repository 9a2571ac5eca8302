/**
 * The provider's `CaPort` over the CA service's HTTP API (`caClient`, mutual TLS, CN = the provider id), or
 * over the CA's in-process client (`localCaPort`, for tests and one-process benches); either way through the
 * CA's typed client (services/ca/client.ts), never the CA's internals. The CA's
 * public key is cached per CA id: a CA's key never changes.
 */
import { toHex } from '../../../core/bytes.ts';
import { localCaClient, type CaDeps, type CaOwnerClient } from '../../ca/client.ts';
import type { TrustPointKey } from '../../sd-keys/asymmetric.ts';
import type { CaPort } from './ports.ts';

type CaKeyView = { readonly kind: 'scp11' | 'scp10'; readonly algorithm: string; readonly publicKey: Uint8Array; readonly rsa?: { readonly modulus: Uint8Array; readonly exponent: Uint8Array } };

function trustPointOf(ca: CaKeyView): TrustPointKey {
  if (ca.kind === 'scp11') {
    const curve = ca.algorithm;
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

export function httpCaPort(client: CaOwnerClient): CaPort {
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

/** The CA's in-process client, as CA owner `owner` (no idempotency store: each call issues). */
export function localCaPort(deps: CaDeps, owner: string): CaPort {
  return httpCaPort(localCaClient(deps, owner));
}
