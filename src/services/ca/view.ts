/**
 * The one definition of a CA's public information (`GET /v1/cas/{caId}`, the answer of `POST /v1/cas`): the
 * type (bytes), its JSON schema in the routes' OpenAPI, and the two directions of the wire (hex on the wire).
 * authority.ts (CaInfo), routes.ts and client.ts (CaView) all use it.
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import type { CaAlgorithm, CaKind } from './keys.ts';

export interface CaView {
  readonly caId: string;
  readonly owner: string;
  readonly kind: CaKind;
  readonly algorithm: CaAlgorithm;
  /** SCP11: uncompressed point (the PK.CA-KLOC.ECDSA trust point); SCP10: SubjectPublicKeyInfo DER. */
  readonly publicKey: Uint8Array;
  /** SCP10: the trust point's modulus and exponent (PK.TP_EX.AUT). */
  readonly rsa?: { readonly modulus: Uint8Array; readonly exponent: Uint8Array };
  /** Self-signed CA certificate ('7F21'). */
  readonly certificate: Uint8Array;
  readonly createdAt: string;
}

const str = { type: 'string' } as const;

/** The JSON schema of a CA view on the wire. */
export const caViewSchema = {
  type: 'object',
  required: ['caId', 'owner', 'kind', 'algorithm', 'publicKey', 'certificate', 'createdAt'],
  properties: {
    caId: str,
    owner: str,
    kind: { type: 'string', enum: ['scp11', 'scp10'] },
    algorithm: { type: 'string', enum: ['P-256', 'P-384', 'RSA-2048', 'RSA-1024'] },
    publicKey: { type: 'string', description: 'SCP11: uncompressed point (PK.CA-KLOC.ECDSA); SCP10: SubjectPublicKeyInfo DER, hex' },
    rsa: { type: 'object', required: ['modulus', 'exponent'], properties: { modulus: str, exponent: str }, additionalProperties: false },
    certificate: { type: 'string', description: "self-signed CA certificate '7F21', hex" },
    createdAt: str,
  },
  additionalProperties: false,
} as const;

/** A CA view as the routes send it (hex). */
export function caViewJson(ca: CaView) {
  return {
    caId: ca.caId,
    owner: ca.owner,
    kind: ca.kind,
    algorithm: ca.algorithm,
    publicKey: toHex(ca.publicKey),
    ...(ca.rsa === undefined ? {} : { rsa: { modulus: toHex(ca.rsa.modulus), exponent: toHex(ca.rsa.exponent) } }),
    certificate: toHex(ca.certificate),
    createdAt: ca.createdAt,
  };
}

type Json = Record<string, unknown>;
const HEX = /^([0-9A-Fa-f]{2})*$/;
const KINDS: readonly string[] = ['scp11', 'scp10'];
const ALGORITHMS: readonly string[] = ['P-256', 'P-384', 'RSA-2048', 'RSA-1024'];

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

/** A CA view from the wire; a malformed answer throws TypeError. */
export function caViewFromJson(b: Json): CaView {
  const rsa = b.rsa as Json | undefined;
  const kind = stringOf(b, 'kind');
  const algorithm = stringOf(b, 'algorithm');
  if (!KINDS.includes(kind)) throw new TypeError('the CA answered a malformed kind');
  if (!ALGORITHMS.includes(algorithm)) throw new TypeError('the CA answered a malformed algorithm');
  return {
    caId: stringOf(b, 'caId'),
    owner: stringOf(b, 'owner'),
    kind: kind as CaKind,
    algorithm: algorithm as CaAlgorithm,
    publicKey: hexOf(b, 'publicKey'),
    ...(rsa === undefined ? {} : { rsa: { modulus: hexOf(rsa, 'modulus'), exponent: hexOf(rsa, 'exponent') } }),
    certificate: hexOf(b, 'certificate'),
    createdAt: stringOf(b, 'createdAt'),
  };
}
