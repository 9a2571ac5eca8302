/**
 * Asymmetric keys of a Security Domain, host side (the wire coding fixed for opentsm's SCP10 / SCP11 SDs,
 * docs/simulator.md; key types GPCS 2.3.1 Table 11-16):
 *
 *  - GENERATE KEY PAIR (proprietary): CLA '80' INS 'F1' P1 = KVN to replace ('00' = new) P2 = KID
 *      ECC: data = KVN ‖ 'F0' 01 <key parameter reference>         → 'B0' L <uncompressed point>
 *      RSA: data = KVN ‖ 'A1' 02 <modulus bits, 2 bytes BE>         → 'A1' L <modulus> ‖ 'A0' L <public exponent>
 *    (RSA-2048 with extended Le '0000': the response is 265 bytes.)
 *  - PUT KEY of a trust anchor in clear, no KCV (§11.8.2.3): PK.CA-KLOC.ECDSA 'B0' point ‖ 'F0' 01 reference;
 *    PK.TP_EX.AUT 'A1' modulus ‖ 'A0' exponent (extended APDU when the data passes 255 bytes).
 *  - STORE DATA of a certificate chain (Amendment F): 'A6' { '83' 02 KID KVN } 'BF21' { '7F21'… }, each
 *    certificate a GP '7F21' or an X.509 '30' (SEQUENCE) certificate (Amendment F v1.4 allows both).
 *  - GET DATA 'BF21' with 'A6' { '83' 02 KID KVN }: the stored chain.
 *
 * 'B0', 'A0' and 'A1' have the "constructed" bit set but hold raw values: responses are parsed one level deep.
 */
import { command, type CommandApdu } from '../apdu/command.ts';
import { concat } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import { encodeLength, encodeTlv } from '../core/tlv.ts';
import { GpError } from './errors.ts';
import { buildGetData } from './get-data.ts';
import { KeyType } from './keys.ts';
import { buildPutKey, type PutKeyRequest } from './put-key.ts';
import { Reader } from './reader.ts';
import { buildStoreDataBlocks } from './store-data.ts';

export const INS_GENERATE_KEY_PAIR = 0xf1;
/** Tag of the certificate store (Amendment F) and of the key reference template around it. */
export const TAG_CERTIFICATE_STORE = 0xbf21;
export const TAG_KEY_REFERENCE_TEMPLATE = 0xa6;

function kvnOf(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1 || v > 0x7f) throw new RangeError(`${what}: ${v} not in 01..7F`);
  return v;
}
function replaceOf(v: number | undefined): number {
  if (v === undefined || v === 0) return 0;
  return kvnOf(v, 'replaceKvn');
}
function kidOf(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0x7f) throw new RangeError(`kid: ${v} not in 00..7F`);
  return v;
}
function refOf(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`curveReference: ${v} is not a byte`);
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// GENERATE KEY PAIR

/** GENERATE KEY PAIR of an ECC key (SK.SD.ECKA, KID '11'/'13'/'15'): `80 F1 P1 KID 04 KVN F0 01 ref 00`. */
export function buildGenerateEcKeyPair(o: { kvn: number; kid: number; replaceKvn?: number; curveReference: number }): CommandApdu {
  const data = Uint8Array.of(kvnOf(o.kvn, 'kvn'), KeyType.ECC_KEY_PARAMETER_REFERENCE, 0x01, refOf(o.curveReference));
  return command(0x80, INS_GENERATE_KEY_PAIR, replaceOf(o.replaceKvn), kidOf(o.kid), data, 256);
}

/** GENERATE KEY PAIR of an RSA key (SK.SD.AUT, KID '11'): `80 F1 P1 KID 04 KVN A1 02 0400|0800 Le`. */
export function buildGenerateRsaKeyPair(o: { kvn: number; kid: number; replaceKvn?: number; modulusBits: 1024 | 2048 }): CommandApdu {
  if (o.modulusBits !== 1024 && o.modulusBits !== 2048) throw new RangeError(`modulusBits: ${String(o.modulusBits)} (1024 or 2048)`);
  const data = Uint8Array.of(kvnOf(o.kvn, 'kvn'), KeyType.RSA_MODULUS, 0x02, o.modulusBits >> 8, o.modulusBits & 0xff);
  // RSA-2048: 'A1 82 0100' modulus ‖ 'A0 03' exponent = 265 bytes, more than a short Le can ask for.
  return command(0x80, INS_GENERATE_KEY_PAIR, replaceOf(o.replaceKvn), kidOf(o.kid), data, o.modulusBits === 2048 ? 65536 : 256);
}

/** One tag byte and its BER length, then the value (raw: no children parsed). */
function readRaw(r: Reader, tag: number, what: string): Uint8Array {
  const at = r.offset;
  const t = r.u8(`tag of ${what}`);
  if (t !== tag) throw new GpError('BAD_DATA', `${what}: tag '${tag.toString(16).toUpperCase()}' expected, got '${t.toString(16).toUpperCase()}' at ${at}`);
  return r.lvBer(what);
}

/** The public point of a GENERATE KEY PAIR (ECC) response: 'B0' L '04' X Y, nothing after it. */
export function parseGeneratedEcPublicKey(data: Uint8Array): Uint8Array {
  const r = new Reader(data);
  const point = readRaw(r, KeyType.ECC_PUBLIC, 'ECC public key');
  r.end('ECC public key');
  if (point.length < 3 || point.length % 2 === 0 || point[0] !== 0x04) throw new GpError('BAD_DATA', 'ECC public key is not an uncompressed point');
  return point;
}

/** The public key of a GENERATE KEY PAIR (RSA) response: 'A1' modulus (128 or 256 bytes) ‖ 'A0' exponent. */
export function parseGeneratedRsaPublicKey(data: Uint8Array): { modulus: Uint8Array; exponent: Uint8Array } {
  const r = new Reader(data);
  const modulus = readRaw(r, KeyType.RSA_MODULUS, 'RSA modulus');
  const exponent = readRaw(r, KeyType.RSA_PUBLIC_EXPONENT, 'RSA public exponent');
  r.end('RSA public key');
  if ((modulus.length !== 128 && modulus.length !== 256) || (modulus[0]! & 0x80) === 0) {
    throw new GpError('BAD_DATA', `RSA modulus of ${modulus.length} bytes is not a full 1024- or 2048-bit modulus`);
  }
  if ((modulus[modulus.length - 1]! & 1) === 0) throw new GpError('BAD_DATA', 'RSA modulus is even');
  if (exponent.length < 1 || exponent.length > 4 || exponent[0] === 0 || (exponent[exponent.length - 1]! & 1) === 0 || (exponent.length === 1 && exponent[0]! < 3)) {
    throw new GpError('BAD_DATA', 'RSA public exponent must be an odd number from 3, 1..4 bytes without leading zero');
  }
  return { modulus, exponent };
}

// ---------------------------------------------------------------------------------------------------------
// PUT KEY of public trust anchors (components in clear, empty KCV)

const noSecret = (): Uint8Array => {
  throw new TypeError('a public key has no component to encrypt');
};

/** PUT KEY of PK.CA-KLOC.ECDSA (KID '10' or '20'..'2F'): 'B0' point ‖ 'F0' 01 reference, no KCV. */
export function buildPutEcTrustAnchor(o: { kvn: number; kid: number; replaceKvn?: number; curveReference: number; point: Uint8Array }): CommandApdu {
  if (!(o.point instanceof Uint8Array) || o.point.length < 3 || o.point[0] !== 0x04) throw new RangeError('point: an uncompressed point 04 X Y');
  return buildPutKey(
    {
      replaceKvn: replaceOf(o.replaceKvn),
      newKvn: kvnOf(o.kvn, 'kvn'),
      keyId: kidOf(o.kid),
      keys: [{ components: [{ type: KeyType.ECC_PUBLIC, value: o.point }, { type: KeyType.ECC_KEY_PARAMETER_REFERENCE, value: Uint8Array.of(refOf(o.curveReference)) }], kcv: new Uint8Array(0) }],
    },
    noSecret,
  );
}

/**
 * PUT KEY of PK.TP_EX.AUT (KID '10'): 'A1' modulus ‖ 'A0' exponent, no KCV. An RSA-2048 key makes 267 bytes of
 * data: the command is then sent in extended form (`buildPutKey` stops at 255 bytes; same coding otherwise).
 */
export function buildPutRsaTrustPoint(o: { kvn: number; kid: number; replaceKvn?: number; modulus: Uint8Array; exponent: Uint8Array }): CommandApdu {
  const { modulus, exponent } = o;
  if (!(modulus instanceof Uint8Array) || modulus.length < 64 || modulus.length > 512 || modulus[0] === 0) throw new RangeError('modulus: 64..512 bytes without leading zero');
  if (!(exponent instanceof Uint8Array) || exponent.length < 1 || exponent.length > 8 || exponent[0] === 0) throw new RangeError('exponent: 1..8 bytes without leading zero');
  const req: PutKeyRequest = {
    replaceKvn: replaceOf(o.replaceKvn),
    newKvn: kvnOf(o.kvn, 'kvn'),
    keyId: kidOf(o.kid),
    keys: [{ components: [{ type: KeyType.RSA_MODULUS, value: modulus }, { type: KeyType.RSA_PUBLIC_EXPONENT, value: exponent }], kcv: new Uint8Array(0) }],
  };
  const data = concat(
    Uint8Array.of(req.newKvn, KeyType.RSA_MODULUS),
    encodeLength(modulus.length),
    modulus,
    Uint8Array.of(KeyType.RSA_PUBLIC_EXPONENT),
    encodeLength(exponent.length),
    exponent,
    Uint8Array.of(0x00),
  );
  if (data.length <= 255) return buildPutKey(req, noSecret);
  return { ...command(0x80, 0xd8, req.replaceKvn, req.keyId, data, 256), extended: true };
}

// ---------------------------------------------------------------------------------------------------------
// Certificates

function keyReference(kid: number, kvn: number): Uint8Array {
  return encodeTlv(TAG_KEY_REFERENCE_TEMPLATE, encodeTlv(0x83, Uint8Array.of(kidOf(kid), kvnOf(kvn, 'kvn'))));
}

/** STORE DATA 'A6' { '83' KID KVN } 'BF21' { certificates… } (CERT.SD.ECKA chain, or the one CERT.SD.AUT), in blocks. */
export function buildStoreCertificates(o: { kid: number; kvn: number; certificates: readonly Uint8Array[] }): CommandApdu[] {
  if (o.certificates.length === 0) throw new RangeError('buildStoreCertificates: no certificate');
  for (const c of o.certificates) {
    const gp = c instanceof Uint8Array && c.length >= 4 && c[0] === 0x7f && c[1] === 0x21;
    const x509 = c instanceof Uint8Array && c.length >= 4 && c[0] === 0x30;
    if (!gp && !x509) throw new RangeError("each certificate is a whole '7F21' TLV or an X.509 SEQUENCE");
  }
  const data = concat(keyReference(o.kid, o.kvn), encodeTlv(TAG_CERTIFICATE_STORE, concat(...o.certificates)));
  return buildStoreDataBlocks(data, { format: 'ber' });
}

/** GET DATA 'BF21' for the chain stored with key KID/KVN: `80 CA BF 21 06 A6 04 83 02 KID KVN 00`. */
export function buildGetCertificates(o: { kid: number; kvn: number }): CommandApdu {
  return buildGetData(TAG_CERTIFICATE_STORE, { data: keyReference(o.kid, o.kvn) });
}

/** The certificates' bytes from a GET DATA 'BF21' response: the value of 'BF21' (GP class) — nothing after it. */
export function parseCertificateStore(data: Uint8Array): Uint8Array {
  const r = new Reader(data);
  const at = r.offset;
  const t1 = r.u8('tag');
  const t2 = r.u8('tag');
  if (((t1 << 8) | t2) !== TAG_CERTIFICATE_STORE) throw new CodecError('BAD_TAG', "'BF21' expected", at);
  const value = r.lvBer('certificate store');
  r.end('certificate store');
  if (value.length === 0) throw new GpError('BAD_DATA', 'empty certificate store');
  return value;
}
