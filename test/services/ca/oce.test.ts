/**
 * Off-Card Entity certificates (sans HTTP) on SQLite and PostgreSQL: CERT.OCE.ECKA from an SCP11 CA verifies
 * with verifyChain against the CA key (Amendment F §6.1, key usage '00 80') and opens SCP11a and SCP11c with an
 * `Scp11Card` that holds the CA key as PK.CA-KLOC.ECDSA (§7.5, §7.6); CERT.OCE.AUT from an SCP10 CA verifies
 * with verifyCertificate against the trust point (GPCS 2.2.1 F.1.3.4); revocation, serials unique across SD and
 * OCE certificates, migration 0002 backfill, bad input writes nothing.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { concat, fromHex, toHex } from '../../../src/core/bytes.ts';
import { migrate } from '../../../src/platform/storage/migrate.ts';
import { dateOf, parseCertificate, verifyChain } from '../../../src/scp/scp11/certificate.ts';
import { generateKeyPair } from '../../../src/crypto/index.ts';
import { beginScp11, buildPerformSecurityOperations, completeScp11 } from '../../../src/scp/scp11/handshake.ts';
import { Scp11Card } from '../../../src/scp/scp11/card.ts';
import { verifyCertificate } from '../../../src/scp/scp10/certificate.ts';
import { rsaPublicNumbers } from '../../../src/crypto/index.ts';
import { createCa } from '../../../src/services/ca/authority.ts';
import { sha256Prefix8 } from '../../../src/services/ca/certify.ts';
import { getCertificate } from '../../../src/services/ca/certificates.ts';
import { CaError } from '../../../src/services/ca/errors.ts';
import { issueSdCertificate } from '../../../src/services/ca/issue.ts';
import { rsaPublicKeyObject, sha256Hex } from '../../../src/services/ca/keys.ts';
import { issueOceCertificate } from '../../../src/services/ca/oce.ts';
import { revocationList, revoke } from '../../../src/services/ca/revocation.ts';
import { CA_MIGRATIONS } from '../../../src/services/ca/schema.ts';
import { localTrustSource, TrustChecker } from '../../../src/services/ca/trust.ts';
import { forEachDatabase } from '../../platform/databases.ts';
import { CARD_ID, NOW, SD_AID, makeCaHarness } from './harness.ts';

const rejectsWith = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: unknown) => e instanceof CaError && e.code === code);
const sw = (r: Uint8Array) => toHex(r.subarray(r.length - 2));
const utf8 = (s: string) => new TextEncoder().encode(s);

/** An SSD as the provider's platform meets it: SK.SD.ECKA for 11a/11c, the CA key as PK.CA-KLOC.ECDSA (KVN 1, KID '10'). */
function ssd(caId: string, caPoint: Uint8Array, sdPrivateKey: Uint8Array, ownerId: Uint8Array): Scp11Card {
  return new Scp11Card({
    i: 0x01 | 0x08 | 0x10,
    sdKeys: [0x11, 0x15].map((kid) => ({ kvn: 0x01, kid, curve: 'P-256' as const, privateKey: sdPrivateKey })),
    trustAnchors: [{ kvn: 0x01, kid: 0x10, caId: fromHex(caId), publicKey: { curve: 'P-256', point: caPoint } }],
    ownerId,
    today: () => '20260315',
  });
}

forEachDatabase('SCP11 CA: CERT.OCE.ECKA verifies against the CA key and opens SCP11a/SCP11c on an SSD; revocation; audit', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = await createCa(h.deps, 'bank', 'scp11');
    const oce = generateKeyPair('P-256');
    const issued = await issueOceCertificate(h.deps, ca.caId, { publicKey: { point: oce.publicKey } }, 'bank');
    assert.equal(issued.kind, 'oce');
    const cert = parseCertificate(issued.certificate);
    const last = verifyChain([cert], { curve: 'P-256', point: ca.publicKey }, { today: '20260315' });
    assert.deepEqual(last.publicKey.point, oce.publicKey);
    assert.equal(toHex(cert.serialNumber), issued.serial);
    assert.equal(toHex(cert.caId), ca.caId);
    assert.equal(toHex(cert.keyUsage), '0080'); // Table 6-1: CERT.OCE.ECKA is a key agreement certificate
    assert.deepEqual(cert.subjectId, utf8('bank')); // default: the CA owner's id
    assert.equal(dateOf(cert.effectiveDate!), '20260315');
    assert.equal(dateOf(cert.expirationDate), '20270315');
    assert.deepEqual(
      { ...issued, certificate: toHex(issued.certificate) },
      {
        kind: 'oce', serial: issued.serial, caId: ca.caId, subjectId: toHex(utf8('bank')), keyUsage: 'keyAgreement', scheme: null,
        publicKeyFingerprint: sha256Hex(oce.publicKey), certificate: toHex(cert.encoded), certificateSha256: sha256Hex(cert.encoded),
        notBefore: NOW.toISOString(), notAfter: '2027-03-15T10:00:00.000Z', issuedAt: NOW.toISOString(), revokedAt: null, reason: null,
      },
    );
    assert.deepEqual(await db.query('SELECT * FROM ca_oce_certificates'), [{
      serial: issued.serial, ca_id: ca.caId, subject_id: toHex(utf8('bank')), public_key: oce.publicKey, key_fingerprint: sha256Hex(oce.publicKey),
      key_usage: 'keyAgreement', scheme: null, certificate: issued.certificate, certificate_sha256: issued.certificateSha256,
      not_before: NOW.toISOString(), not_after: '2027-03-15T10:00:00.000Z', issued_at: NOW.toISOString(), issued_by: 'bank', revoked_at: null, reason: null,
    }]);
    assert.deepEqual(await db.query('SELECT * FROM ca_serials'), [
      { serial: issued.serial, kind: 'oce', ca_id: ca.caId, certificate_sha256: issued.certificateSha256, issued_at: NOW.toISOString() },
    ]);
    assert.deepEqual(await db.query('SELECT serial FROM ca_certificates'), []);
    assert.deepEqual(await getCertificate(db, issued.serial.toLowerCase()), issued);

    // The SSD admits the OCE: PSO [CERT.OCE.ECKA] then MUTUAL AUTHENTICATE with SK.OCE.ECKA (§7.5, §7.6).
    const sd = generateKeyPair('P-256');
    for (const [variant, kid, level] of [['11a', 0x11, 0x33 | 0x80], ['11c', 0x15, 0x33 | 0x80]] as const) {
      const card = ssd(ca.caId, ca.publicKey, sd.privateKey, utf8('bank'));
      const pso = buildPerformSecurityOperations([issued.certificate], { kvn: 0x01, kid: 0x10 });
      assert.deepEqual(pso.map((c) => sw(card.performSecurityOperation(c))), ['9000']);
      const session = beginScp11({ variant, pkSdEcka: { curve: 'P-256', point: sd.publicKey }, kvn: 0x01, kid, keyUsage: 0x3c, skOceEcka: oce.privateKey });
      const r = card.authenticate(session.command);
      assert.equal(sw(r.response), '9000', variant);
      assert.equal(r.securityLevel, level); // AUTHENTICATED: the subject id is the SD provider identifier
      assert.deepEqual(r.oceSubjectId, utf8('bank'));
      const host = completeScp11(session, r.response);
      const plain = fromHex('80E2900003DF0101');
      assert.deepEqual(r.channel!.unwrapCommand(host.wrapCommand(plain)), plain);
      assert.deepEqual(host.unwrapResponse(r.channel!.wrapResponse(fromHex('CAFE9000'))), fromHex('CAFE9000'));
    }
    // An SSD provided for someone else admits it as ANY_AUTHENTICATED only.
    {
      const card = ssd(ca.caId, ca.publicKey, sd.privateKey, utf8('telco'));
      card.performSecurityOperation(buildPerformSecurityOperations([issued.certificate], { kvn: 0x01, kid: 0x10 })[0]!);
      const r = card.authenticate(beginScp11({ variant: '11a', pkSdEcka: { curve: 'P-256', point: sd.publicKey }, kvn: 0x01, keyUsage: 0x3c, skOceEcka: oce.privateKey }).command);
      assert.equal(r.securityLevel, 0x33 | 0x40);
    }
    // An SSD trusting another CA refuses it (6600), then MUTUAL AUTHENTICATE has no PK.OCE.ECKA (6985).
    const other = await createCa(h.deps, 'telco', 'scp11');
    {
      const card = ssd(other.caId, other.publicKey, sd.privateKey, utf8('bank'));
      assert.equal(sw(card.performSecurityOperation(buildPerformSecurityOperations([issued.certificate], { kvn: 0x01, kid: 0x10 })[0]!)), '6600');
      const r = card.authenticate(beginScp11({ variant: '11a', pkSdEcka: { curve: 'P-256', point: sd.publicKey }, kvn: 0x01, keyUsage: 0x3c, skOceEcka: oce.privateKey }).command);
      assert.equal(sw(r.response), '6985');
    }

    // Trust check and revocation: the OCE serial appears in the CA's list.
    const checker = new TrustChecker(localTrustSource(db), { now: () => NOW });
    assert.equal((await checker.check(ca.caId, issued.certificate)).serial, issued.serial);
    const revoked = await revoke(h.deps, issued.serial, 'keyCompromise', 'bank');
    assert.deepEqual(revoked, { ...issued, revokedAt: NOW.toISOString(), reason: 'keyCompromise' });
    assert.deepEqual(await revocationList(db, ca.caId), [{ serial: issued.serial, certificateSha256: issued.certificateSha256, revokedAt: NOW.toISOString(), reason: 'keyCompromise' }]);
    await rejectsWith(checker.check(ca.caId, issued.certificate), 'REVOKED');
    await rejectsWith(revoke(h.deps, issued.serial, 'superseded'), 'ALREADY_REVOKED');

    const audit = (await h.auditLog.read()).map((r) => ({ action: r.action, subject: r.subject, details: r.details }));
    assert.deepEqual(audit.map((a) => a.action), ['ca.create', 'ca.certificate.issue', 'ca.create', 'ca.certificate.revoke']);
    assert.deepEqual(audit[1], {
      action: 'ca.certificate.issue',
      subject: `oce:${ca.caId}/${toHex(utf8('bank'))}`,
      details: {
        kind: 'oce', caId: ca.caId, serial: issued.serial, subjectId: toHex(utf8('bank')), keyUsage: 'keyAgreement', scheme: null,
        publicKeyFingerprint: sha256Hex(oce.publicKey), certificateFingerprint: issued.certificateSha256, notAfter: '2027-03-15T10:00:00.000Z', by: 'bank',
      },
    });
    assert.deepEqual(audit[3], {
      action: 'ca.certificate.revoke',
      subject: `oce:${ca.caId}/${toHex(utf8('bank'))}`,
      details: { kind: 'oce', caId: ca.caId, serial: issued.serial, reason: 'keyCompromise', publicKeyFingerprint: sha256Hex(oce.publicKey), certificateFingerprint: issued.certificateSha256, by: 'bank' },
    });
    assert.equal((await h.auditLog.verify()).ok, true);
    // No OCE private key anywhere (it never reached the CA).
    const dump = JSON.stringify(await h.snapshot(), (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
    assert.equal(dump.includes(toHex(oce.privateKey)), false);
  } finally {
    await h.close();
  }
});

forEachDatabase('SCP10 CA: CERT.OCE.AUT verifies against the trust point; default OCE id; duplicate bytes refused', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = await createCa(h.deps, 'bank', 'scp10', 'RSA-1024');
    const trustPoint = { id: fromHex(ca.caId), publicKey: rsaPublicKeyObject(ca.publicKey) };
    for (const [bits, scheme] of [[1024, 'pkcs1'], [2048, 'iso9796-2']] as const) {
      const oce = rsaPublicNumbers(generateKeyPairSync('rsa', { modulusLength: bits }).publicKey);
      const issued = await issueOceCertificate(h.deps, ca.caId, { publicKey: oce, scheme }, 'bank');
      const cert = verifyCertificate(issued.certificate, trustPoint);
      assert.equal(cert.scheme, scheme);
      assert.deepEqual(cert.issuerId, fromHex(ca.caId));
      // Default OCE id: the first 8 bytes of SHA-256(modulus ‖ exponent).
      assert.deepEqual(cert.subjectId, sha256Prefix8(concat(oce.modulus, oce.exponent)));
      assert.equal(issued.subjectId, toHex(cert.subjectId));
      assert.deepEqual(rsaPublicNumbers(cert.publicKey), oce);
      assert.deepEqual([issued.kind, issued.keyUsage, issued.scheme], ['oce', null, scheme]);
      const trusted = await new TrustChecker(localTrustSource(db), { now: () => NOW }).check(ca.caId, issued.certificate);
      assert.equal(trusted.subjectId, issued.subjectId);
    }
    const oce = rsaPublicNumbers(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
    const own = await issueOceCertificate(h.deps, ca.caId, { publicKey: oce, subjectId: fromHex('0102030405060708'), validityDays: 30 });
    assert.deepEqual(verifyCertificate(own.certificate, trustPoint).subjectId, fromHex('0102030405060708'));
    assert.equal(own.notAfter, '2026-04-14T10:00:00.000Z');
    // SCP10 certificates carry no serial: the same key and subject again would be the same bytes → refused, nothing written.
    const before = await h.snapshot();
    await rejectsWith(issueOceCertificate(h.deps, ca.caId, { publicKey: oce, subjectId: fromHex('0102030405060708') }), 'DUPLICATE_CERTIFICATE');
    assert.deepEqual(await h.snapshot(), before);
    // Revocation by fingerprint works for OCE certificates too.
    await revoke(h.deps, own.serial, 'superseded');
    await rejectsWith(new TrustChecker(localTrustSource(db), { now: () => NOW }).check(ca.caId, own.certificate), 'REVOKED');
  } finally {
    await h.close();
  }
}, { timeout: 120_000 });

forEachDatabase('issueOceCertificate refuses bad requests without writing', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ec = await createCa(h.deps, 'bank', 'scp11');
    const rsa = await createCa(h.deps, 'bank', 'scp10', 'RSA-1024');
    const point = generateKeyPair('P-256').publicKey;
    const numbers = rsaPublicNumbers(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
    const before = await h.snapshot();
    const cases: [string, Parameters<typeof issueOceCertificate>[2], string][] = [
      ['FFFFFFFFFFFFFFFF', { publicKey: { point } }, 'UNKNOWN_CA'],
      [ec.caId, { publicKey: numbers }, 'BAD_PUBLIC_KEY'],
      [ec.caId, { publicKey: { point: generateKeyPair('P-384').publicKey } }, 'BAD_PUBLIC_KEY'],
      [ec.caId, { publicKey: { point: concat(Uint8Array.of(4), new Uint8Array(64)) } }, 'BAD_PUBLIC_KEY'],
      [ec.caId, { publicKey: { point }, scheme: 'pkcs1' }, 'BAD_REQUEST'],
      [ec.caId, { publicKey: { point }, subjectId: new Uint8Array(0) }, 'BAD_REQUEST'],
      [ec.caId, { publicKey: { point }, subjectId: new Uint8Array(128) }, 'BAD_REQUEST'],
      [ec.caId, { publicKey: { point }, validityDays: 0 }, 'BAD_REQUEST'],
      [ec.caId, { publicKey: { point }, validityDays: 3651 }, 'BAD_REQUEST'],
      [ec.caId, { publicKey: { point }, keyUsage: 'signature' } as never, 'BAD_REQUEST'],
      [rsa.caId, { publicKey: { point } }, 'BAD_PUBLIC_KEY'],
      [rsa.caId, { publicKey: numbers, subjectId: new Uint8Array(7) }, 'BAD_REQUEST'],
      [rsa.caId, { publicKey: { modulus: numbers.modulus, exponent: Uint8Array.of(2) } }, 'BAD_PUBLIC_KEY'],
      [rsa.caId, { publicKey: numbers, scheme: 'x931' as 'pkcs1' }, 'BAD_REQUEST'],
    ];
    for (const [caId, req, code] of cases) await rejectsWith(issueOceCertificate(h.deps, caId, req), code);
    assert.deepEqual(await h.snapshot(), before);
  } finally {
    await h.close();
  }
});

forEachDatabase('serials are unique across SD and OCE certificates (a drawn serial already taken is drawn again)', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = await createCa(h.deps, 'bank', 'scp11');
    const draws = (...serials: string[]) => {
      const queue = serials.map(fromHex);
      return (n: number) => {
        const next = queue.shift();
        assert.ok(next !== undefined && next.length === n, 'unexpected draw');
        return next.slice();
      };
    };
    const sd = await issueSdCertificate({ ...h.deps, random: draws('1111111111111111') }, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: generateKeyPair('P-256').publicKey } });
    assert.equal(sd.serial, '1111111111111111');
    const oce = await issueOceCertificate({ ...h.deps, random: draws('1111111111111111', '2222222222222222') }, ca.caId, { publicKey: { point: generateKeyPair('P-256').publicKey } });
    assert.equal(oce.serial, '2222222222222222');
    assert.equal(toHex(parseCertificate(oce.certificate).serialNumber), '2222222222222222');
    // And the other way round: an SD certificate does not take an OCE serial.
    const sd2 = await issueSdCertificate({ ...h.deps, random: draws('2222222222222222', '3333333333333333') }, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: generateKeyPair('P-256').publicKey } });
    assert.equal(sd2.serial, '3333333333333333');
    assert.deepEqual(await db.query('SELECT serial, kind FROM ca_serials ORDER BY serial'), [
      { serial: '1111111111111111', kind: 'sd' }, { serial: '2222222222222222', kind: 'oce' }, { serial: '3333333333333333', kind: 'sd' },
    ]);
    assert.equal((await getCertificate(db, '1111111111111111'))?.kind, 'sd');
    assert.equal((await getCertificate(db, '2222222222222222'))?.kind, 'oce');
    // Three taken serials in a row: refused, nothing written.
    const before = await h.snapshot();
    await assert.rejects(
      issueOceCertificate({ ...h.deps, random: draws('1111111111111111', '2222222222222222', '3333333333333333') }, ca.caId, { publicKey: { point: generateKeyPair('P-256').publicKey } }),
      /no free certificate serial/,
    );
    assert.deepEqual(await h.snapshot(), before);
  } finally {
    await h.close();
  }
});

forEachDatabase('migration 0002 registers the serials of existing SD certificates and keeps their revocations listed', async ({ db }) => {
  await migrate(db, CA_MIGRATIONS.slice(0, 1), { component: 'ca' });
  await db.execute("INSERT INTO cas (ca_id, owner, kind, algorithm, public_key, certificate, private_key_sealed, created_at) VALUES ('00000000000000CA', 'bank', 'scp11', 'P-256', $1, $1, $1, '2026-01-01T00:00:00.000Z')", [Uint8Array.of(1)]);
  for (const [serial, revoked] of [['0000000000000001', null], ['0000000000000002', '2026-02-01T00:00:00.000Z']] as const) {
    await db.execute(
      `INSERT INTO ca_certificates (serial, ca_id, card_id, sd_aid, subject_id, public_key, key_fingerprint, key_usage, certificate, certificate_sha256,
         not_before, not_after, issued_at, issued_by, revoked_at, reason)
       VALUES ($1, '00000000000000CA', $2, $3, '01', $4, 'FP', 'keyAgreement', $4, $5, '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'bank', $6, $7)`,
      [serial, CARD_ID, SD_AID, fromHex(serial), `SHA${serial}`, revoked, revoked === null ? null : 'superseded'],
    );
  }
  await migrate(db, CA_MIGRATIONS, { component: 'ca' });
  assert.deepEqual(await db.query('SELECT * FROM ca_serials ORDER BY serial'), [
    { serial: '0000000000000001', kind: 'sd', ca_id: '00000000000000CA', certificate_sha256: 'SHA0000000000000001', issued_at: '2026-01-01T00:00:00.000Z' },
    { serial: '0000000000000002', kind: 'sd', ca_id: '00000000000000CA', certificate_sha256: 'SHA0000000000000002', issued_at: '2026-01-01T00:00:00.000Z' },
  ]);
  assert.deepEqual(await revocationList(db, '00000000000000CA'), [
    { serial: '0000000000000002', certificateSha256: 'SHA0000000000000002', revokedAt: '2026-02-01T00:00:00.000Z', reason: 'superseded' },
  ]);
  assert.deepEqual(await db.query('SELECT * FROM ca_oce_certificates'), []);
});
