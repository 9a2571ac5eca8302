/**
 * CA logic (sans HTTP) on SQLite and PostgreSQL: SCP11 certificates verify with verifyChain against the CA key
 * (Amendment F §6.1), SCP10 certificates with verifyCertificate (GPCS 2.2.1 F.1.3.4); the TrustChecker honours
 * revocation; the CA private key is stored sealed only and never audited; bad input writes nothing.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { parseCertificate, verifyChain, dateOf } from '../../../src/scp/scp11/certificate.ts';
import { generateKeyPair } from '../../../src/crypto/index.ts';
import { verifyCertificate } from '../../../src/scp/scp10/certificate.ts';
import { rsaPublicNumbers } from '../../../src/crypto/index.ts';
import { createCa, getCaRecord } from '../../../src/services/ca/authority.ts';
import { CaError } from '../../../src/services/ca/errors.ts';
import { defaultSubjectId, issueSdCertificate } from '../../../src/services/ca/issue.ts';
import { rsaPublicKeyObject, sealContext, sha256Hex } from '../../../src/services/ca/keys.ts';
import { isRevoked, revocationList, revoke } from '../../../src/services/ca/revocation.ts';
import { localTrustSource, TrustChecker } from '../../../src/services/ca/trust.ts';
import { forEachDatabase } from '../../platform/databases.ts';
import { CARD_ID, NOW, SD_AID, containsBytes, everyValue, makeCaHarness } from './harness.ts';

const rejectsWith = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: unknown) => e instanceof CaError && e.code === code);

forEachDatabase('SCP11 CA: issue, verifyChain against the CA key, trust check, revocation, audit', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = await createCa(h.deps, 'bank', 'scp11');
    assert.equal(ca.algorithm, 'P-256');
    assert.match(ca.caId, /^[0-9A-F]{16}$/);
    const caCert = parseCertificate(ca.certificate);
    assert.deepEqual(caCert.publicKey.point, ca.publicKey);
    assert.equal(toHex(caCert.keyUsage), '82');
    const sd = generateKeyPair('P-256');
    const issued = await issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: sd.publicKey } }, 'bank');
    const cert = parseCertificate(issued.certificate);
    const last = verifyChain([cert], { curve: 'P-256', point: ca.publicKey }, { today: '20260315' });
    assert.deepEqual(last.publicKey.point, sd.publicKey);
    assert.equal(toHex(cert.serialNumber), issued.serial);
    assert.equal(toHex(cert.caId), ca.caId);
    assert.equal(toHex(cert.subjectId), `${CARD_ID}${SD_AID}`);
    assert.deepEqual(cert.subjectId, defaultSubjectId(CARD_ID, SD_AID));
    assert.equal(toHex(cert.keyUsage), '0080');
    assert.equal(dateOf(cert.effectiveDate!), '20260315');
    assert.equal(dateOf(cert.expirationDate), '20270315');
    // The row, exactly.
    const rows = await db.query('SELECT serial, ca_id, card_id, sd_aid, subject_id, public_key, key_fingerprint, key_usage, certificate, not_before, not_after, issued_by, revoked_at, reason FROM ca_certificates');
    assert.deepEqual(rows, [{
      serial: issued.serial, ca_id: ca.caId, card_id: CARD_ID, sd_aid: SD_AID, subject_id: `${CARD_ID}${SD_AID}`, public_key: sd.publicKey,
      key_fingerprint: sha256Hex(sd.publicKey), key_usage: 'keyAgreement', certificate: issued.certificate,
      not_before: '2026-03-15T10:00:00.000Z', not_after: '2027-03-15T10:00:00.000Z', issued_by: 'bank', revoked_at: null, reason: null,
    }]);

    const checker = new TrustChecker(localTrustSource(db), { now: () => NOW });
    const trusted = await checker.check(ca.caId, issued.certificate);
    assert.equal(trusted.serial, issued.serial);
    // Expired, tampered, wrong CA → UNTRUSTED.
    await rejectsWith(new TrustChecker(localTrustSource(db), { now: () => new Date('2027-03-16T00:00:00Z') }).check(ca.caId, issued.certificate), 'UNTRUSTED');
    const tampered = issued.certificate.slice();
    tampered[tampered.length - 1]! ^= 0x01;
    await rejectsWith(checker.check(ca.caId, tampered), 'UNTRUSTED');
    const other = await createCa(h.deps, 'other', 'scp11');
    await rejectsWith(checker.check(other.caId, issued.certificate), 'UNTRUSTED');
    await rejectsWith(checker.check('0000000000000000', issued.certificate), 'UNKNOWN_CA');

    assert.equal(await isRevoked(db, issued.serial), false);
    const revoked = await revoke(h.deps, issued.serial, 'keyCompromise', 'operator');
    assert.equal(revoked.revokedAt, NOW.toISOString());
    assert.equal(await isRevoked(db, issued.serial), true);
    assert.deepEqual(await revocationList(db, ca.caId), [{ serial: issued.serial, certificateSha256: sha256Hex(issued.certificate), revokedAt: NOW.toISOString(), reason: 'keyCompromise' }]);
    assert.deepEqual(await revocationList(db, other.caId), []);
    await rejectsWith(checker.check(ca.caId, issued.certificate), 'REVOKED');
    await rejectsWith(revoke(h.deps, issued.serial, 'superseded'), 'ALREADY_REVOKED');
    await rejectsWith(revoke(h.deps, '0102030405060708', 'superseded'), 'UNKNOWN_CERTIFICATE');

    const audit = (await h.auditLog.read()).map((r) => ({ action: r.action, subject: r.subject, details: r.details }));
    assert.deepEqual(audit.map((a) => a.action), ['ca.create', 'ca.certificate.issue', 'ca.create', 'ca.certificate.revoke']);
    assert.deepEqual(audit[1], {
      action: 'ca.certificate.issue',
      subject: `card:${CARD_ID}/${SD_AID}`,
      details: {
        caId: ca.caId, serial: issued.serial, cardId: CARD_ID, sdAid: SD_AID, subjectId: `${CARD_ID}${SD_AID}`, keyUsage: 'keyAgreement',
        publicKeyFingerprint: sha256Hex(sd.publicKey), certificateFingerprint: sha256Hex(issued.certificate), notAfter: '2027-03-15T10:00:00.000Z', by: 'bank',
      },
    });
    assert.deepEqual(audit[3]!.details, { caId: ca.caId, serial: issued.serial, reason: 'keyCompromise', publicKeyFingerprint: sha256Hex(sd.publicKey), certificateFingerprint: sha256Hex(issued.certificate), by: 'operator' });
    assert.equal((await h.auditLog.verify()).ok, true);

    // The private key is stored sealed only: not in any row (bytes or hex), nor in the audit log.
    const record = (await getCaRecord(db, ca.caId))!;
    const d = await h.deps.sealer.unwrap(record.privateKeySealed, sealContext(ca.caId));
    assert.equal(d.length, 32);
    const values = await everyValue(db, ['cas', 'ca_certificates', 'audit_log']);
    for (const needle of [d, new TextEncoder().encode(toHex(d))]) assert.equal(values.some((v) => containsBytes(v, needle)), false);
    // The sealed blob does not open as another CA's key.
    await assert.rejects(h.deps.sealer.unwrap(record.privateKeySealed, sealContext(other.caId)));
  } finally {
    await h.close();
  }
});

forEachDatabase('SCP11 CA on P-384 and signature key usage', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = await createCa(h.deps, 'issuer', 'scp11', 'P-384');
    const sd = generateKeyPair('P-384');
    const issued = await issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: sd.publicKey }, keyUsage: 'signature', subjectId: fromHex('0102'), validityDays: 30 });
    const cert = parseCertificate(issued.certificate);
    assert.equal(toHex(cert.keyUsage), '82');
    assert.equal(toHex(cert.subjectId), '0102');
    assert.equal(dateOf(cert.expirationDate), '20260414');
    // As an intermediate ('82') it chains to the CA; then an SD key-agreement certificate signed by it verifies too.
    const sd2 = generateKeyPair('P-384');
    const { signCertificate, bcdDate, KEY_USAGE_KEY_AGREEMENT } = await import('../../../src/scp/scp11/certificate.ts');
    const leaf = signCertificate({ serialNumber: Uint8Array.of(1), caId: Uint8Array.of(2), subjectId: Uint8Array.of(3), keyUsage: KEY_USAGE_KEY_AGREEMENT, expirationDate: bcdDate('20300101'), publicKey: { curve: 'P-384', point: sd2.publicKey } }, { curve: 'P-384', privateKey: sd.privateKey });
    verifyChain([cert, leaf], { curve: 'P-384', point: ca.publicKey });
    // A P-256 point is refused by a P-384 CA; nothing is written.
    const before = await h.snapshot();
    await rejectsWith(issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: generateKeyPair('P-256').publicKey } }), 'BAD_PUBLIC_KEY');
    assert.deepEqual(await h.snapshot(), before);
  } finally {
    await h.close();
  }
});

forEachDatabase('SCP10 CA: issue, verifyCertificate against the trust point, revocation by fingerprint', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const ca = await createCa(h.deps, 'bank', 'scp10', 'RSA-1024');
    assert.equal(ca.rsa!.modulus.length, 128);
    const caKey = rsaPublicKeyObject(ca.publicKey);
    // The CA certificate is self-signed in the SCP10 format.
    const self = verifyCertificate(ca.certificate, { id: fromHex(ca.caId), publicKey: caKey });
    assert.equal(toHex(self.subjectId), ca.caId);
    for (const [bits, scheme] of [[1024, 'pkcs1'], [2048, 'iso9796-2']] as const) {
      const sd = generateKeyPairSync('rsa', { modulusLength: bits });
      const { modulus, exponent } = rsaPublicNumbers(sd.publicKey);
      const issued = await issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { modulus, exponent }, scheme, subjectId: fromHex('1122334455667788') });
      const cert = verifyCertificate(issued.certificate, { id: fromHex(ca.caId), publicKey: caKey });
      assert.equal(cert.scheme, scheme);
      assert.equal(toHex(cert.subjectId), '1122334455667788');
      assert.deepEqual(rsaPublicNumbers(cert.publicKey), { modulus, exponent });
      assert.equal(issued.keyUsage, null);
      const checker = new TrustChecker(localTrustSource(db), { now: () => NOW });
      const trusted = await checker.check(ca.caId, issued.certificate);
      assert.equal(trusted.serial, null);
      assert.equal(trusted.subjectId, '1122334455667788');
      await revoke(h.deps, issued.serial, 'superseded');
      await rejectsWith(checker.check(ca.caId, issued.certificate), 'REVOKED');
    }
    // Default subject id: first 8 bytes of SHA-256(ICCID ‖ AID).
    const sd = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const issued = await issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: rsaPublicNumbers(sd.publicKey) });
    assert.equal(issued.subjectId, sha256Hex(defaultSubjectId(CARD_ID, SD_AID)).slice(0, 16));
    // Another CA's certificate does not verify.
    const other = await createCa(h.deps, 'other-bank', 'scp10', 'RSA-1024');
    await rejectsWith(new TrustChecker(localTrustSource(db)).check(other.caId, issued.certificate), 'UNTRUSTED');

    // Bad requests write nothing.
    const before = await h.snapshot();
    const ec = generateKeyPair('P-256');
    await rejectsWith(issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { point: ec.publicKey } }), 'BAD_PUBLIC_KEY');
    await rejectsWith(issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: rsaPublicNumbers(sd.publicKey), keyUsage: 'keyAgreement' }), 'BAD_REQUEST');
    await rejectsWith(issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: rsaPublicNumbers(sd.publicKey), subjectId: fromHex('01') }), 'BAD_REQUEST');
    await rejectsWith(issueSdCertificate(h.deps, ca.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: { modulus: new Uint8Array(128).fill(0xff), exponent: Uint8Array.of(2) } }), 'BAD_PUBLIC_KEY');
    await rejectsWith(issueSdCertificate(h.deps, ca.caId, { cardId: '12', sdAid: SD_AID, publicKey: rsaPublicNumbers(sd.publicKey) }), 'BAD_REQUEST');
    // iso9796-2 needs a subject key larger than the room in the CA's signature block: RSA-1024 under RSA-2048 is refused.
    const big = await createCa(h.deps, 'big-bank', 'scp10');
    const mid = await h.snapshot();
    await rejectsWith(issueSdCertificate(h.deps, big.caId, { cardId: CARD_ID, sdAid: SD_AID, publicKey: rsaPublicNumbers(sd.publicKey), scheme: 'iso9796-2' }), 'BAD_REQUEST');
    await rejectsWith(issueSdCertificate(h.deps, 'FFFFFFFFFFFFFFFF', { cardId: CARD_ID, sdAid: SD_AID, publicKey: rsaPublicNumbers(sd.publicKey) }), 'UNKNOWN_CA');
    assert.deepEqual(await h.snapshot(), mid);
    assert.notDeepEqual(before, mid);

    // The sealed PKCS#8 and the private exponent appear nowhere in clear.
    const record = (await getCaRecord(db, ca.caId))!;
    const pkcs8 = await h.deps.sealer.unwrap(record.privateKeySealed, sealContext(ca.caId));
    const jwk = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    const dBytes = new Uint8Array(Buffer.from(jwk.d!, 'base64url'));
    const values = await everyValue(db, ['cas', 'ca_certificates', 'audit_log']);
    for (const needle of [pkcs8, dBytes, new TextEncoder().encode(toHex(dBytes))]) assert.equal(values.some((v) => containsBytes(v, needle)), false);
  } finally {
    await h.close();
  }
}, { timeout: 120_000 });

forEachDatabase('concurrent createCa for one owner and kind: exactly one CA, every other call ALREADY_EXISTS (never a storage error)', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => createCa(h.deps, 'shop', 'scp11')));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.ok(r.reason instanceof CaError && r.reason.code === 'ALREADY_EXISTS', String(r.reason));
    }
    assert.equal((await db.query("SELECT ca_id FROM cas WHERE owner = 'shop'")).length, 1);
  } finally {
    await h.close();
  }
});

forEachDatabase('createCa refuses bad owners, kinds and algorithms without writing', async ({ db }) => {
  const h = await makeCaHarness(db);
  try {
    const before = await h.snapshot();
    await rejectsWith(createCa(h.deps, 'bad owner', 'scp11'), 'BAD_REQUEST');
    await rejectsWith(createCa(h.deps, 'bank', 'scp12' as 'scp11'), 'BAD_REQUEST');
    await rejectsWith(createCa(h.deps, 'bank', 'scp11', 'RSA-2048'), 'BAD_REQUEST');
    await rejectsWith(createCa(h.deps, 'bank', 'scp10', 'P-256'), 'BAD_REQUEST');
    assert.deepEqual(await h.snapshot(), before);
    // one CA per owner and kind (issue 8 §4): a second is refused, whatever its algorithm
    await createCa(h.deps, 'bank', 'scp11');
    const one = await h.snapshot();
    await rejectsWith(createCa(h.deps, 'bank', 'scp11', 'P-384'), 'ALREADY_EXISTS');
    assert.deepEqual(await h.snapshot(), one);
  } finally {
    await h.close();
  }
});
