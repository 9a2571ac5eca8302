/**
 * `TrustChecker`: what the provider and issuer platforms call before trusting a card (SD) certificate — it
 * must chain to the CA (signature under the CA key, CA identifier, key usage '00 80' and dates for SCP11 via
 * `verifyChain`; signature and issuer id for SCP10 via `verifyCertificate`) and must not be on the CA's
 * revocation list (by serial, or by the SHA-256 of the certificate bytes — SCP10 certificates carry no serial).
 * The CA's public key and list come from a `TrustSource`: the CA's own database (`localTrustSource`) or its
 * HTTP API (`httpTrustSource` in client.ts).
 */
import { equalBytes, fromHex, toHex } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { CertificateError, parseCertificate, today, verifyChain, type GpCertificate } from '../../scp/scp11/certificate.ts';
import { verifyCertificate, type Scp10Certificate } from '../../scp/scp10/certificate.ts';
import { SecureChannelError } from '../../scp/errors.ts';
import type { Database } from '../../platform/storage/database.ts';
import { getCa } from './authority.ts';
import { CaError } from './errors.ts';
import { curveOf, rsaPublicKeyObject, sha256Hex, type CaAlgorithm, type CaKind } from './keys.ts';
import { revocationList, type RevocationEntry } from './revocation.ts';

export interface TrustAnchor {
  readonly caId: string;
  readonly kind: CaKind;
  readonly algorithm: CaAlgorithm;
  /** SCP11: uncompressed point; SCP10: SubjectPublicKeyInfo DER. */
  readonly publicKey: Uint8Array;
}

export interface TrustSource {
  anchor(caId: string): Promise<TrustAnchor | undefined>;
  revocations(caId: string): Promise<readonly RevocationEntry[]>;
}

export interface TrustedCardCertificate {
  readonly caId: string;
  readonly kind: CaKind;
  /** Hex of '93' (SCP11); null for SCP10 (no serial in the format). */
  readonly serial: string | null;
  readonly subjectId: string;
  readonly certificateSha256: string;
  readonly scp11?: GpCertificate;
  readonly scp10?: Scp10Certificate;
}

/** Trust source on the CA service's own database. */
export function localTrustSource(db: Database): TrustSource {
  return {
    anchor: async (caId) => {
      const ca = await getCa(db, caId);
      return ca === undefined ? undefined : { caId: ca.caId, kind: ca.kind, algorithm: ca.algorithm, publicKey: ca.publicKey };
    },
    revocations: (caId) => revocationList(db, caId),
  };
}

export class TrustChecker {
  readonly #source: TrustSource;
  readonly #now: () => Date;

  constructor(source: TrustSource, options: { readonly now?: () => Date } = {}) {
    this.#source = source;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Check `certificate` (one '7F21' TLV) against CA `caId`. Resolves with what it certifies; rejects with
   * `CaError` UNKNOWN_CA, UNTRUSTED (malformed, bad signature, other CA, wrong key usage, expired) or REVOKED.
   */
  async check(caId: string, certificate: Uint8Array): Promise<TrustedCardCertificate> {
    const anchor = await this.#source.anchor(caId);
    if (anchor === undefined) throw new CaError('UNKNOWN_CA', `unknown CA ${caId}`);
    const trusted = anchor.kind === 'scp11' ? this.#checkScp11(anchor, certificate) : checkScp10(anchor, certificate);
    const revoked = (await this.#source.revocations(caId)).find(
      (e) => e.certificateSha256 === trusted.certificateSha256 || (trusted.serial !== null && e.serial === trusted.serial),
    );
    if (revoked !== undefined) throw new CaError('REVOKED', `certificate ${revoked.serial} was revoked at ${revoked.revokedAt} (${revoked.reason})`);
    return trusted;
  }

  #checkScp11(anchor: TrustAnchor, bytes: Uint8Array): TrustedCardCertificate {
    let cert: GpCertificate;
    try {
      cert = parseCertificate(bytes);
      if (!equalBytes(cert.caId, fromHex(anchor.caId))) throw new CaError('UNTRUSTED', `certificate names CA ${toHex(cert.caId)}, not ${anchor.caId}`);
      verifyChain([cert], { curve: curveOf(anchor.algorithm), point: anchor.publicKey }, { today: today(this.#now()) });
    } catch (e) {
      if (e instanceof CaError) throw e;
      if (e instanceof CodecError || e instanceof CertificateError) throw new CaError('UNTRUSTED', `SCP11 certificate refused: ${e.message}`, { cause: e });
      throw e;
    }
    return { caId: anchor.caId, kind: 'scp11', serial: toHex(cert.serialNumber), subjectId: toHex(cert.subjectId), certificateSha256: sha256Hex(cert.encoded), scp11: cert };
  }
}

function checkScp10(anchor: TrustAnchor, bytes: Uint8Array): TrustedCardCertificate {
  let cert: Scp10Certificate;
  try {
    cert = verifyCertificate(bytes, { id: fromHex(anchor.caId), publicKey: rsaPublicKeyObject(anchor.publicKey) });
  } catch (e) {
    if (e instanceof SecureChannelError || e instanceof CodecError) throw new CaError('UNTRUSTED', `SCP10 certificate refused: ${e.message}`, { cause: e });
    throw e;
  }
  return { caId: anchor.caId, kind: 'scp10', serial: null, subjectId: toHex(cert.subjectId), certificateSha256: sha256Hex(cert.encoded), scp10: cert };
}
