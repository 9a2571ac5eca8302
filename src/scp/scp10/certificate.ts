/**
 * SCP10 card verifiable certificates (GPCS 2.2.1 Appendix F.1.3.4, Table F-2, Figures F-5 and F-7).
 * The spec leaves contents and encoding to the CA; this module fixes one self-descriptive format (P2 'BE' of
 * PERFORM SECURITY OPERATION [verify certificate], Table F-34) built from the data objects of Table F-2:
 *
 *   certified data = '42' issuer id (8) ‖ '5F20' subject id (8) ‖ '7F49' { '81' modulus, '82' exponent }
 *   without message recovery (scheme 'pkcs1'):   '7F21' { certified data ‖ '9E' RSASSA-PKCS1-v1_5/SHA-1 signature }
 *   with message recovery (scheme 'iso9796-2'):  '7F21' { '5F38' public key remainder ‖ '9E' signature }
 *     where the signature block is ISO 9796-2 scheme 1 '6A' ‖ first k−22 bytes of the certified data ‖ SHA-1 ‖ 'BC'
 *     and the remainder is the rest of the certified data (Figure F-7).
 * SHA-1 is the digest of Figures F-5…F-8. The issuer id of a certificate must equal the id of the key that
 * verifies it (trust point id, then the subject id of the previous certificate): that is the chaining rule.
 * Ids are the 8-byte "Off-Card Entity id" / "Card id" of Tables F-5, F-9 and F-24.
 */
import type { KeyObject } from 'node:crypto';
import { assertBytes, concat, equalConstantTime } from '../../core/bytes.ts';
import { CodecError } from '../../core/errors.ts';
import { encodeTlv, findTag, parseTlv, parseTlvs, type Tlv } from '../../core/tlv.ts';
import { SecureChannelError } from '../errors.ts';
import { modulusLength, recover9796, rsaPublicKey, rsaPublicNumbers, sha1, sign9796, signPkcs1, verifyPkcs1 } from '../../crypto/index.ts';

export type CertificateScheme = 'pkcs1' | 'iso9796-2';

/** A public key the card or host trusts, with the id certificates it signs name as issuer. */
export interface TrustedKey {
  readonly id: Uint8Array;
  readonly publicKey: KeyObject;
}

export interface Scp10Certificate {
  readonly scheme: CertificateScheme;
  readonly issuerId: Uint8Array;
  readonly subjectId: Uint8Array;
  readonly publicKey: KeyObject;
  /** The whole '7F21' TLV. */
  readonly encoded: Uint8Array;
}

export interface CertificateRequest {
  readonly issuerId: Uint8Array;
  readonly subjectId: Uint8Array;
  readonly subjectKey: KeyObject;
  readonly scheme: CertificateScheme;
}

/** SW of a certificate that does not verify (Table F-36) and of malformed certificate data (Table F-36 '6A80'). */
export const SW_CERT_VERIFICATION_FAILED = 0x6300;
export const SW_INCORRECT_DATA = 0x6a80;

function certifiedData(issuerId: Uint8Array, subjectId: Uint8Array, key: KeyObject): Uint8Array {
  const { modulus, exponent } = rsaPublicNumbers(key);
  return concat(encodeTlv(0x42, issuerId), encodeTlv(0x5f20, subjectId), encodeTlv(0x7f49, concat(encodeTlv(0x81, modulus), encodeTlv(0x82, exponent))));
}

/** Issue (sign) a certificate with the CA's private key. */
export function issueCertificate(req: CertificateRequest, caPrivateKey: KeyObject): Uint8Array {
  assertBytes(req.issuerId, 8, 'issuerId');
  assertBytes(req.subjectId, 8, 'subjectId');
  const data = certifiedData(req.issuerId, req.subjectId, req.subjectKey);
  if (req.scheme === 'pkcs1') return encodeTlv(0x7f21, concat(data, encodeTlv(0x9e, signPkcs1(caPrivateKey, data))));
  if (req.scheme !== 'iso9796-2') throw new RangeError(`unknown certificate scheme ${String(req.scheme)}`);
  const room = modulusLength(caPrivateKey) - 22;
  if (data.length <= room) throw new RangeError('certified data fits the signature block entirely; use a CA key no larger than the subject key');
  const signature = sign9796(caPrivateKey, data.subarray(0, room), data.subarray(room));
  return encodeTlv(0x7f21, concat(encodeTlv(0x5f38, data.subarray(room)), encodeTlv(0x9e, signature)));
}

const malformed = (why: string, cause?: unknown): SecureChannelError =>
  new SecureChannelError('BAD_COMMAND', `malformed SCP10 certificate: ${why}`, SW_INCORRECT_DATA, cause === undefined ? undefined : { cause });
const notVerified = (why: string): SecureChannelError => new SecureChannelError('BAD_HOST_CRYPTOGRAM', `certificate does not verify: ${why}`, SW_CERT_VERIFICATION_FAILED);

function parseCertified(list: readonly Tlv[]): { issuerId: Uint8Array; subjectId: Uint8Array; publicKey: KeyObject } {
  if (list.length !== 3 || list[0]!.tag !== 0x42 || list[1]!.tag !== 0x5f20 || list[2]!.tag !== 0x7f49) throw malformed('expected 42, 5F20, 7F49');
  const [issuer, subject, pk] = list as [Tlv, Tlv, Tlv];
  if (issuer.value.length !== 8 || subject.value.length !== 8) throw malformed('ids must be 8 bytes');
  const parts = pk.children ?? [];
  const n = findTag(parts, 0x81);
  const e = findTag(parts, 0x82);
  if (parts.length !== 2 || n === undefined || e === undefined) throw malformed("7F49 must hold '81' modulus and '82' exponent");
  if (n.value[0] === 0 || n.value.length < 128 || n.value.length > 512 || e.value.length === 0 || e.value.length > 4) throw malformed('bad RSA modulus or exponent');
  let publicKey: KeyObject;
  try {
    publicKey = rsaPublicKey(n.value, e.value);
  } catch (err) {
    throw malformed('not an RSA public key', err);
  }
  return { issuerId: issuer.value, subjectId: subject.value, publicKey };
}

/**
 * Parse and verify a certificate ('7F21' TLV, nothing after it) against the key that should have signed it.
 * Throws `SecureChannelError` with sw 6A80 (malformed) or 6300 (signature, or issuer id ≠ `signer.id`).
 */
export function verifyCertificate(encoded: Uint8Array, signer: TrustedKey): Scp10Certificate {
  assertBytes(encoded, undefined, 'encoded');
  let outer: Tlv;
  try {
    outer = parseTlv(encoded);
  } catch (e) {
    if (e instanceof CodecError) throw malformed(e.message, e);
    throw e;
  }
  if (outer.tag !== 0x7f21 || outer.children === undefined) throw malformed("not a '7F21' certificate");
  const items = outer.children;
  const sig = items[items.length - 1];
  if (sig === undefined || sig.tag !== 0x9e) throw malformed("last data object must be the '9E' signature");
  if (sig.value.length !== modulusLength(signer.publicKey)) throw notVerified('signature length differs from the signer modulus');
  let scheme: CertificateScheme;
  let certified: ReturnType<typeof parseCertified>;
  if (items.length === 2 && items[0]!.tag === 0x5f38) {
    scheme = 'iso9796-2';
    const remainder = items[0]!.value;
    const m1 = recover9796(signer.publicKey, sig.value, remainder);
    if (m1 === null) throw notVerified('ISO 9796-2 signature');
    try {
      certified = parseCertified(parseTlvs(concat(m1, remainder)));
    } catch (e) {
      if (e instanceof CodecError) throw malformed(e.message, e);
      throw e;
    }
  } else {
    scheme = 'pkcs1';
    certified = parseCertified(items.slice(0, -1));
    const data = concat(...items.slice(0, -1).map(reencode));
    if (!verifyPkcs1(signer.publicKey, data, sig.value)) throw notVerified('PKCS#1 signature');
  }
  if (!equalConstantTime(certified.issuerId, signer.id)) throw notVerified('issuer id does not name the verifying key');
  return Object.freeze({ scheme, ...certified, encoded: encoded.slice() });
}

function reencode(t: Tlv): Uint8Array {
  return encodeTlv(t.tag, t.value);
}

/** Digest used in certificate figures F-5…F-8 (exported for tests). */
export const certificateDigest = sha1;
