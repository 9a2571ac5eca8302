/**
 * SCP11 with X.509 certificates (Amendment F v1.4 allows X.509 next to '7F21'; issue 8 §5.1): the DER
 * parser maps fields exactly, hostile DER is refused with a typed error, chains verify (also mixed with
 * '7F21'), and the card's PERFORM SECURITY OPERATION takes an X.509 OCE chain.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { concat, fromHex, toHex } from '../../src/core/bytes.ts';
import { CodecError } from '../../src/core/errors.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import {
  beginScp11,
  buildPerformSecurityOperations,
  CertificateError,
  completeScp11,
  parseCertificate,
  parseCertificates,
  verifyCertificateSignature,
  verifyChain,
} from '../../src/scp/scp11/index.ts';
import { parseX509Certificate, x509SignatureToPlain, type X509Certificate } from '../../src/scp/scp11/x509.ts';
import { webcrypto } from 'node:crypto';
import { generateKeyPair } from '../../src/crypto/index.ts';

type CryptoKeyPairOf = webcrypto.CryptoKeyPair;
import type { Scp11Card } from '../../src/scp/scp11/card.ts';
import { CA_KLOC_ID, CA_KVN, makeCard, makePki, OCE_ID, SD_KVN } from './scp11-helpers.ts';
import {
  buildX509,
  extension,
  KU_DIGITAL_SIGNATURE,
  KU_KEY_AGREEMENT,
  KU_KEY_CERT_SIGN,
  OID_ECDSA_SHA256,
  OID_ECDSA_SHA384,
  OID_SHA256_RSA,
  name,
  tbsOf,
  type X509Spec,
} from './x509-helpers.ts';

const sw = (r: Uint8Array) => ((r[r.length - 2]! << 8) | r[r.length - 1]!).toString(16).toUpperCase().padStart(4, '0');
const pki = makePki('P-256');
const KA_ID = fromHex('4B414B414B41');

const oceSpec: X509Spec = {
  serial: fromHex('00C0FFEE01'),
  issuerCn: 'KA-KLOC',
  aki: KA_ID,
  ski: OCE_ID,
  keyUsage: KU_KEY_AGREEMENT,
  notBefore: '240101000000Z',
  notAfter: '20391231235959Z',
  publicKey: { curve: 'P-256', point: pki.oce.publicKey },
};
const kaSpec: X509Spec = {
  serial: fromHex('0A'),
  issuerCn: 'CA-KLOC',
  subjectCn: 'KA-KLOC',
  aki: CA_KLOC_ID,
  ski: KA_ID,
  keyUsage: KU_KEY_CERT_SIGN | KU_DIGITAL_SIGNATURE,
  notBefore: '240101000000Z',
  notAfter: '391231235959Z',
  publicKey: { curve: 'P-256', point: pki.kaKloc.publicKey },
};
const kaX509 = buildX509(kaSpec, pki.caKloc);
const oceX509 = buildX509(oceSpec, pki.kaKloc);
/** OCE certificate signed directly by CA-KLOC. */
const oceDirect = buildX509({ ...oceSpec, aki: CA_KLOC_ID }, pki.caKloc);
const anchor = { curve: pki.curve, point: pki.caKloc.publicKey };

/** oceX509 with another signatureValue content. */
function withSignature(sigValue: Uint8Array): Uint8Array {
  const tbs = tbsOf(oceSpec);
  return encodeTlv(0x30, concat(tbs, encodeTlv(0x30, OID_ECDSA_SHA256), encodeTlv(0x03, concat(Uint8Array.of(0), sigValue))));
}

function codecCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CodecError, `CodecError expected, got ${String(e)}`);
    return e.code;
  }
  return 'no error';
}

describe('X.509 certificate parser (RFC 5280 §4.1 → GP certificate fields)', () => {
  test('round trip: every mapped field, the signed bytes and the encoding are exact', () => {
    const c = parseCertificate(oceX509) as X509Certificate;
    assert.equal(c.format, 'x509');
    assert.equal(c.signatureHash, 'sha256');
    assert.deepEqual(c.encoded, oceX509);
    assert.deepEqual(c.signedData, tbsOf(oceSpec));
    assert.equal(toHex(c.serialNumber), '00C0FFEE01');
    assert.deepEqual(c.caId, KA_ID);
    assert.deepEqual(c.subjectId, name('subject')); // the subject DN stands for '5F20' (§6.2.1.5)
    assert.deepEqual(c.subjectName, name('subject'));
    assert.deepEqual(c.issuerName, name('KA-KLOC'));
    assert.deepEqual(c.subjectKeyId, OCE_ID);
    assert.equal(toHex(c.keyUsage), '0080');
    assert.equal(toHex(c.effectiveDate!), '20240101');
    assert.equal(toHex(c.expirationDate), '20391231');
    assert.deepEqual(c.publicKey, { curve: 'P-256', point: pki.oce.publicKey });
    assert.equal(c.authorizations, undefined);
    const ka = parseX509Certificate(kaX509);
    assert.equal(toHex(ka.keyUsage), '82');
    assert.equal(toHex(ka.expirationDate), '20391231');
    assert.equal(verifyCertificateSignature(ka, anchor), true);
    assert.equal(verifyCertificateSignature(c, { curve: 'P-256', point: pki.kaKloc.publicKey }), true);
    assert.equal(verifyCertificateSignature(c, anchor), false);
  });

  test('GP extensions of Annex C and the mandatory certificatePolicies: subject id, authorizations, discretionary data', () => {
    const gp = (n: number, inner: Uint8Array, critical: boolean) => extension(concat(fromHex('060C2A864886FC6B64000A0200'), Uint8Array.of(n)), encodeTlv(0x04, inner), critical);
    const policies = extension(fromHex('0603551D20'), fromHex('300F300D060B2A864886FC6B64000A0201' + '00'), true);
    const der = buildX509({ ...oceSpec, extraExtensions: [policies, gp(2, OCE_ID, true), gp(1, fromHex('8E05A000000151'), true), gp(0, fromHex('5302CAFE'), false)] }, pki.kaKloc);
    const c = parseX509Certificate(der);
    assert.deepEqual(c.subjectId, OCE_ID); // id-sd-subject-id wins over the subject DN
    assert.equal(toHex(c.authorizations!), '8E05A000000151');
    assert.deepEqual(c.discretionary, { tag: 0x53, value: fromHex('CAFE') });
    assert.equal(verifyCertificateSignature(c, { curve: 'P-256', point: pki.kaKloc.publicKey }), true);
    assert.equal(codecCode(() => parseX509Certificate(buildX509({ ...oceSpec, extraExtensions: [gp(0, fromHex('5400'), false)] }, pki.kaKloc))), 'BAD_VALUE');
    assert.equal(codecCode(() => parseX509Certificate(buildX509({ ...oceSpec, extraExtensions: [gp(2, new Uint8Array(0), true)] }, pki.kaKloc))), 'BAD_LENGTH');
    assert.equal(codecCode(() => parseX509Certificate(buildX509({ ...oceSpec, extraExtensions: [extension(fromHex('060C2A864886FC6B64000A020002'), fromHex('020100'), true)] }, pki.kaKloc))), 'BAD_VALUE');
    // Card: the id-sd-subject-id equal to the SD owner → AUTHENTICATED; 'BF20' without the mechanism → 6A81.
    const direct = (exts: Uint8Array[]) => buildX509({ ...oceSpec, aki: CA_KLOC_ID, issuerCn: 'issuer', extraExtensions: exts }, pki.caKloc);
    const card = makeCard(pki, { ownerId: OCE_ID });
    assert.equal(pso(card, [direct([policies, gp(2, OCE_ID, true)])]), '9000');
    const s = beginScp11({ variant: '11a', pkSdEcka: { curve: pki.curve, point: pki.sd.publicKey }, kvn: SD_KVN, keyUsage: 0x34, skOceEcka: pki.oce.privateKey });
    assert.equal(card.authenticate(s.command).securityLevel, 0x11 | 0x80);
    assert.equal(pso(makeCard(pki, { i: 0x11 }), [direct([gp(1, fromHex('8E05A000000151'), true)])]), '6A81');
  });

  test("parseCertificates takes '7F21' and X.509 certificates in one sequence", () => {
    const mixed = parseCertificates(concat(kaX509, pki.oceCertViaKa.encoded, oceX509));
    assert.deepEqual(mixed.map((x) => toHex(x.serialNumber)), ['0A', '02', '00C0FFEE01']);
    assert.deepEqual(mixed.map((x) => x.encoded[0]), [0x30, 0x7f, 0x30]);
  });

  test('DER signature → r ‖ s: padded to the curve size; negative, non-minimal or oversized integers refused', () => {
    assert.equal(toHex(x509SignatureToPlain(fromHex('30080202010002020080'), 4)!), '0000010000000080');
    assert.equal(x509SignatureToPlain(fromHex('300602018002017F'), 4), undefined); // r negative
    assert.equal(x509SignatureToPlain(fromHex('30070202000102017F'), 4), undefined); // r non-minimal
    assert.equal(x509SignatureToPlain(fromHex('300A0205010203040502017F'), 4), undefined); // r too long
    assert.equal(x509SignatureToPlain(fromHex('3003020101'), 4), undefined); // one integer
  });

  const hostile: [string, () => Uint8Array, string][] = [
    ['empty', () => new Uint8Array(0), 'TRUNCATED'],
    ['truncated DER', () => oceX509.subarray(0, oceX509.length - 10), 'TRUNCATED'],
    ['outer tag SET instead of SEQUENCE', () => concat(Uint8Array.of(0x31), oceX509.subarray(1)), 'BAD_TAG'],
    ['outer length one byte too long', () => concat(oceX509.subarray(0, 2), Uint8Array.of(oceX509[2]!, oceX509[3]! + 1), oceX509.subarray(4)), 'TRUNCATED'],
    ['non-minimal length', () => fromHex('30820003020100'), 'BAD_LENGTH'],
    ['trailing byte', () => concat(oceX509, Uint8Array.of(0)), 'TRAILING_DATA'],
    ['signature algorithm sha256WithRSAEncryption', () => buildX509({ ...oceSpec, sigAlg: OID_SHA256_RSA }, pki.kaKloc), 'BAD_VALUE'],
    ['no keyUsage', () => buildX509({ ...oceSpec, keyUsage: undefined }, pki.kaKloc), 'TRUNCATED'],
    ['no authorityKeyIdentifier', () => buildX509({ ...oceSpec, aki: undefined }, pki.kaKloc), 'TRUNCATED'],
    ['no subjectKeyIdentifier', () => buildX509({ ...oceSpec, ski: undefined }, pki.kaKloc), 'TRUNCATED'],
    ['keyUsage digitalSignature alone (neither keyCertSign nor keyAgreement)', () => buildX509({ ...oceSpec, keyUsage: KU_DIGITAL_SIGNATURE }, pki.kaKloc), 'BAD_VALUE'],
    ['keyUsage keyAgreement + digitalSignature', () => buildX509({ ...oceSpec, keyUsage: KU_KEY_AGREEMENT | KU_DIGITAL_SIGNATURE }, pki.kaKloc), 'BAD_VALUE'],
    ['keyUsage keyAgreement + keyCertSign (ambiguous)', () => buildX509({ ...oceSpec, keyUsage: KU_KEY_AGREEMENT | KU_KEY_CERT_SIGN }, pki.kaKloc), 'BAD_VALUE'],
    ['unknown critical extension', () => buildX509({ ...oceSpec, extraExtensions: [extension(fromHex('06032A0304'), fromHex('0500'), true)] }, pki.kaKloc), 'BAD_VALUE'],
    ['keyUsage BIT STRING with non-zero unused bits', () => buildX509({ ...oceSpec, keyUsage: undefined, extraExtensions: [extension(fromHex('0603551D0F'), fromHex('0302030C'), true)] }, pki.kaKloc), 'BAD_VALUE'],
    ['keyUsage BIT STRING with 8 unused bits', () => buildX509({ ...oceSpec, keyUsage: undefined, extraExtensions: [extension(fromHex('0603551D0F'), fromHex('03020808'), true)] }, pki.kaKloc), 'BAD_VALUE'],
    ['repeated extension', () => buildX509({ ...oceSpec, extraExtensions: [extension(fromHex('0603551D0E'), fromHex('040101'))] }, pki.kaKloc), 'BAD_VALUE'],
    ['public key not on the curve', () => buildX509({ ...oceSpec, publicKey: { curve: 'P-256', point: concat(Uint8Array.of(4), new Uint8Array(64).fill(1)) } }, pki.kaKloc), 'BAD_VALUE'],
    [
      'outer signature algorithm differs from the tbsCertificate one',
      () => {
        const tbs = tbsOf(oceSpec);
        const rest = oceX509.subarray(4 + tbs.length);
        const swapped = Uint8Array.from(rest);
        swapped[swapped.indexOf(0x02, 4)] = 0x03; // ecdsa-with-SHA256 → SHA384 in signatureAlgorithm only
        return concat(oceX509.subarray(0, 4 + tbs.length), swapped);
      },
      'BAD_VALUE',
    ],
    ['version v1 (no [0] version)', () => buildX509({ ...oceSpec, omitVersion: true }, pki.kaKloc), 'BAD_TAG'],
    ['version v2', () => buildX509({ ...oceSpec, version: 1 }, pki.kaKloc), 'BAD_VALUE'],
    ['UTCTime without Z', () => buildX509({ ...oceSpec, notBefore: '2401010000000' }, pki.kaKloc), 'BAD_VALUE'],
    ['ECDSA-Sig-Value with one INTEGER', () => withSignature(fromHex('3003020101')), 'BAD_VALUE'],
    ['signatureValue not a SEQUENCE', () => withSignature(fromHex('020101')), 'BAD_VALUE'],
  ];
  for (const [what, make, code] of hostile) {
    test(`refused: ${what} → CodecError ${code}`, () => {
      const bytes = make();
      assert.equal(codecCode(() => parseX509Certificate(bytes)), code);
      if (bytes.length > 0) assert.notEqual(codecCode(() => parseCertificates(bytes)), 'no error');
    });
  }

  test('bad signature, wrong issuer, hash not the issuer curve’s: verification fails (CertificateError BAD_SIGNATURE)', () => {
    const tampered = Uint8Array.from(oceX509);
    tampered[tampered.length - 5]! ^= 0x01; // inside s
    const sig384 = buildX509({ ...oceSpec, sigAlg: OID_ECDSA_SHA384 }, pki.kaKloc); // signed with SHA-256 by P-256 key, claims SHA-384
    const kaKey = { curve: 'P-256' as const, point: pki.kaKloc.publicKey };
    assert.equal(verifyCertificateSignature(parseX509Certificate(tampered), kaKey), false);
    assert.equal(verifyCertificateSignature(parseX509Certificate(sig384), kaKey), false);
    const code = (chain: Uint8Array[]) => {
      try {
        verifyChain(parseCertificates(concat(...chain)), anchor);
        return 'ok';
      } catch (e) {
        assert.ok(e instanceof CertificateError);
        return `${e.code}@${e.index}`;
      }
    };
    assert.equal(code([kaX509, oceX509]), 'ok');
    assert.equal(code([kaX509, tampered]), 'BAD_SIGNATURE@1');
    // §6.2.1.2: the issuer Name must be the issuing certificate's subject Name.
    assert.equal(code([kaX509, buildX509({ ...oceSpec, issuerCn: 'OTHER' }, pki.kaKloc)]), 'ISSUER_MISMATCH@1');
    assert.equal(code([oceX509]), 'BAD_SIGNATURE@0');
    assert.equal(code([kaX509]), 'BAD_KEY_USAGE@0');
    assert.equal(code([kaX509, buildX509({ ...oceSpec, notAfter: '250101000000Z' }, pki.kaKloc)]), 'ok');
    assert.throws(() => verifyChain(parseCertificates(concat(kaX509, buildX509({ ...oceSpec, notAfter: '250101000000Z' }, pki.kaKloc))), anchor, { today: '20260101' }), (e) => e instanceof CertificateError && e.code === 'EXPIRED');
  });
});

/** PSO of `certs` (X.509 certificates exceed one 255-byte block: P1 b8 chains them); returns the last SW after asserting every earlier one is 9000. */
function pso(card: Scp11Card, certs: Uint8Array[], ref = { kvn: CA_KVN, kid: 0x10 }): string {
  const sws = buildPerformSecurityOperations(certs, ref).map((c) => sw(card.performSecurityOperation(c)));
  assert.deepEqual(sws.slice(0, -1), sws.slice(0, -1).map(() => '9000'));
  return sws.at(-1)!;
}

describe('card PERFORM SECURITY OPERATION with X.509 (§7.5)', () => {
  test('SCP11a where the OCE presents an X.509 chain CA-KLOC → KA-KLOC → OCE; protected commands round-trip', () => {
    const card = makeCard(pki);
    assert.equal(pso(makeCard(pki), [kaX509, buildX509({ ...oceSpec, issuerCn: 'OTHER' }, pki.kaKloc)]), '6600'); // issuer Name ≠ KA subject
    assert.equal(pso(card, [kaX509, oceX509]), '9000');
    const s = beginScp11({ variant: '11a', pkSdEcka: { curve: pki.curve, point: pki.sd.publicKey }, kvn: SD_KVN, keyUsage: 0x3c, skOceEcka: pki.oce.privateKey });
    const r = card.authenticate(s.command);
    assert.equal(sw(r.response), '9000');
    const host = completeScp11(s, r.response);
    const plain = fromHex('80F28000024F00');
    assert.deepEqual(r.channel!.unwrapCommand(host.wrapCommand(plain)), plain);
    assert.deepEqual(host.unwrapResponse(r.channel!.wrapResponse(fromHex('AA9000'))), fromHex('AA9000'));
  });
  test('SCP11a with a single X.509 OCE certificate; P1 = 00 finds CA-KLOC by authorityKeyIdentifier; the subject DN decides AUTHENTICATED', () => {
    for (const [ownerId, level] of [[name('subject'), 0x11 | 0x80], [OCE_ID, 0x11 | 0x40]] as const) {
      const card = makeCard(pki, { ownerId });
      assert.equal(pso(card, [oceDirect], { kvn: 0, kid: 0 }), '9000');
      const s = beginScp11({ variant: '11a', pkSdEcka: { curve: pki.curve, point: pki.sd.publicKey }, kvn: SD_KVN, keyUsage: 0x34, skOceEcka: pki.oce.privateKey });
      const r = card.authenticate(s.command);
      assert.equal(sw(r.response), '9000');
      assert.equal(r.securityLevel, level);
    }
  });
  test('tampered X.509 OCE certificate → 6600 and no OCE key is kept (MUTUAL AUTHENTICATE after it → 6985)', () => {
    const tampered = Uint8Array.from(oceDirect);
    tampered[tampered.length - 5]! ^= 0x01;
    const card = makeCard(pki);
    assert.equal(pso(card, [tampered]), '6600');
    const s = beginScp11({ variant: '11a', pkSdEcka: { curve: pki.curve, point: pki.sd.publicKey }, kvn: SD_KVN, keyUsage: 0x34, skOceEcka: pki.oce.privateKey });
    const r = card.authenticate(s.command);
    assert.equal(sw(r.response), '6985');
    assert.equal(r.channel, undefined);
  });
  test('X.509 hostile PSO data: malformed → 6A80, signature certificate as the last → 6600, other CA → 6600', () => {
    assert.equal(pso(makeCard(pki), [oceDirect.subarray(0, 40)]), '6A80');
    assert.equal(pso(makeCard(pki), [buildX509({ ...oceSpec, sigAlg: OID_SHA256_RSA }, pki.caKloc)]), '6A80');
    assert.equal(pso(makeCard(pki), [kaX509]), '6600');
    assert.equal(pso(makeCard(pki), [buildX509({ ...oceSpec, aki: CA_KLOC_ID }, generateKeyPair('P-256'))]), '6600');
  });
});

describe('interoperability: X.509 certificates made by @peculiar/x509 (an independent encoder)', () => {
  test('fields map, the signature verifies, and the card takes the OCE certificate in PSO → SCP11a', async () => {
    await import('reflect-metadata'); // @peculiar/x509 needs it loaded first
    const x509 = await import('@peculiar/x509');
    const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
    const ca = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPairOf;
    const oce = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPairOf;
    const ski = await x509.SubjectKeyIdentifierExtension.create(oce.publicKey);
    const aki = await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '7a0102',
      subject: 'CN=OCE',
      issuer: 'CN=CA-KLOC',
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2051-06-30T00:00:00Z'), // GeneralizedTime (after 2049)
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      publicKey: oce.publicKey,
      signingKey: ca.privateKey,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyAgreement, true), ski, aki],
    });
    const der = new Uint8Array(cert.rawData);
    const caPoint = new Uint8Array(await webcrypto.subtle.exportKey('raw', ca.publicKey));
    const ocePoint = new Uint8Array(await webcrypto.subtle.exportKey('raw', oce.publicKey));
    const c = parseCertificate(der);
    assert.equal(toHex(c.serialNumber), '7A0102');
    assert.equal(toHex(c.subjectId), toHex(new Uint8Array(cert.subjectName.toArrayBuffer())));
    assert.equal(toHex((c as X509Certificate).subjectKeyId), ski.keyId.toUpperCase());
    assert.equal(toHex(c.caId), aki.keyId!.toUpperCase());
    assert.equal(toHex(c.keyUsage), '0080');
    assert.equal(toHex(c.effectiveDate!), '20240101');
    assert.equal(toHex(c.expirationDate), '20510630');
    assert.deepEqual(c.publicKey, { curve: 'P-256', point: ocePoint });
    assert.equal(verifyCertificateSignature(c, { curve: 'P-256', point: caPoint }), true);
    // The card with this CA as PK.CA-KLOC.ECDSA (found by the AKI with P1 = 00) opens SCP11a for the OCE.
    const card = makeCard(pki, { trustAnchors: [{ kvn: CA_KVN, kid: 0x10, caId: c.caId, publicKey: { curve: 'P-256', point: caPoint } }] });
    assert.equal(pso(card, [der], { kvn: 0, kid: 0 }), '9000');
    const jwk = await webcrypto.subtle.exportKey('jwk', oce.privateKey);
    const d = new Uint8Array(Buffer.from(jwk.d!, 'base64url'));
    const s = beginScp11({ variant: '11a', pkSdEcka: { curve: pki.curve, point: pki.sd.publicKey }, kvn: SD_KVN, keyUsage: 0x34, skOceEcka: d });
    const r = card.authenticate(s.command);
    assert.equal(sw(r.response), '9000');
    const host = completeScp11(s, r.response);
    assert.deepEqual(r.channel!.unwrapCommand(host.wrapCommand(fromHex('80CA006600'))), fromHex('80CA006600'));
  });
});
