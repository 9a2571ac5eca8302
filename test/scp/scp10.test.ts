/** SCP10 (GPCS 2.2.1 Appendix F) host ↔ card round trips and refusals; written from the spec (no public vectors). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import * as scp10 from '../../src/scp/scp10/index.ts';
import { encodeCommand, decodeCommand } from '../../src/apdu/command.ts';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const id = (b: number): Uint8Array => new Uint8Array(8).fill(b);
const sw = (r: Uint8Array): number => (r[r.length - 2]! << 8) | r[r.length - 1]!;
const data = (r: Uint8Array): Uint8Array => r.subarray(0, r.length - 2);

interface Pki {
  bits: number;
  tpEx: { id: Uint8Array; pair: { publicKey: KeyObject; privateKey: KeyObject } };
  tpIn: { id: Uint8Array; pair: { publicKey: KeyObject; privateKey: KeyObject } };
  oce: { publicKey: KeyObject; privateKey: KeyObject };
  sd: { publicKey: KeyObject; privateKey: KeyObject };
  other: { publicKey: KeyObject; privateKey: KeyObject };
}
const gen = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits });
const pkis = new Map<number, Pki>();
function pki(bits: number): Pki {
  let p = pkis.get(bits);
  if (!p) {
    p = { bits, tpEx: { id: id(0xe0), pair: gen(bits) }, tpIn: { id: id(0xe1), pair: gen(bits) }, oce: gen(bits), sd: gen(bits), other: gen(bits) };
    pkis.set(bits, p);
  }
  return p;
}

function setup(bits: number, i: number, scheme: scp10.CertificateScheme = i === 1 ? 'iso9796-2' : 'pkcs1') {
  const p = pki(bits);
  const oceCert = scp10.issueCertificate({ issuerId: p.tpEx.id, subjectId: id(0x0c), subjectKey: p.oce.publicKey, scheme }, p.tpEx.pair.privateKey);
  const sdCert = scp10.issueCertificate({ issuerId: p.tpIn.id, subjectId: id(0x5d), subjectKey: p.sd.publicKey, scheme }, p.tpIn.pair.privateKey);
  const card = new scp10.Scp10CardHandshake({
    options: [1, 2],
    trustPoint: { id: p.tpEx.id, publicKey: p.tpEx.pair.publicKey },
    sdPrivateKey: p.sd.privateKey,
    sdCertificate: sdCert,
    sdId: id(0x5d),
    random: rnd,
  });
  return { p, oceCert, sdCert, card };
}

function open(bits: number, i: number, level: number, internalAuth = true) {
  const { p, oceCert, card } = setup(bits, i);
  const tx = (c: Uint8Array) => card.process(c);
  assert.equal(sw(tx(scp10.buildManageSecurityEnvironment({ i })).response), 0x9000);
  assert.equal(sw(tx(scp10.buildVerifyCertificate(oceCert)).response), 0x9000);
  const gd = tx(scp10.buildGetCardCertificate()).response;
  assert.equal(sw(gd), 0x9000);
  const cardCert = scp10.verifyCardCertificate(data(gd), { id: p.tpIn.id, publicKey: p.tpIn.pair.publicKey });
  const init = scp10.beginInitiation({ i, level, oceId: id(0x0c), ocePrivateKey: p.oce.privateKey, card: cardCert, random: rnd });
  if (init.decipherCommand) assert.equal(sw(tx(init.decipherCommand).response), 0x9000);
  const ch = tx(scp10.buildGetChallenge()).response;
  assert.equal(sw(ch), 0x9000);
  assert.equal(data(ch).length, i === 2 ? 16 : 8);
  const ea = tx(scp10.buildExternalAuthenticate(init, data(ch)));
  assert.equal(sw(ea.response), 0x9000);
  if (i === 2) {
    assert.ok(ea.channel);
    if (!internalAuth) return { host: scp10.createKeyTransportChannel(init), cardCh: ea.channel, card, p, oceCert, init };
    const challenge = rnd(16);
    const ia = tx(scp10.buildInternalAuthenticate(init, challenge));
    assert.equal(sw(ia.response), 0x9000);
    return { host: scp10.createKeyTransportChannel(init, { challenge, signature: data(ia.response) }), cardCh: ea.channel, card, p, oceCert, init };
  }
  assert.equal(ea.channel, undefined);
  const challenge = rnd(8);
  const ia = tx(scp10.buildInternalAuthenticate(init, challenge));
  assert.equal(sw(ia.response), 0x9000);
  assert.ok(ia.channel);
  return { host: scp10.createKeyAgreementChannel(init, challenge, data(ia.response)), cardCh: ia.channel, card, p, oceCert, init };
}

/** Send a plain command through both channels; the card echoes data reversed + 9000. */
function exchange(host: scp10.Scp10HostChannel, cardCh: scp10.Scp10CardChannel, plain: Uint8Array): Uint8Array {
  const prot = host.wrapCommand(plain);
  const unwrapped = cardCh.unwrapCommand(prot);
  assert.deepEqual(decodeCommand(unwrapped), decodeCommand(plain));
  const cmd = decodeCommand(unwrapped);
  const resp = Uint8Array.from([...cmd.data].reverse().concat([0x90, 0x00]));
  return host.unwrapResponse(cardCh.wrapResponse(resp));
}

const LEVELS = Array.from({ length: 16 }, (_, n) => (n & 3) | ((n >> 2) << 4)); // every combination of 01 02 10 20

for (const bits of [1024, 2048]) {
  for (const i of [1, 2]) {
    test(`F.1.2 SCP10 i=0${i} RSA-${bits}: every security level round trips (F.3.2)`, () => {
      for (const level of LEVELS) {
        const { host, cardCh } = open(bits, i, level);
        assert.equal(host.level, level);
        assert.equal(cardCh.level, level);
        for (const plain of [
          encodeCommand({ cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9) }),
          encodeCommand({ cla: 0x80, ins: 0xf2, p1: 0x80, p2: 0x02, data: Uint8Array.of(0x4f, 0), le: 256 }),
          encodeCommand({ cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x66, data: new Uint8Array(0), le: 256 }),
          encodeCommand({ cla: 0x01, ins: 0xa4, p1: 0x04, p2: 0x00, data: new Uint8Array(0) }),
        ]) {
          const out = exchange(host, cardCh, plain);
          assert.deepEqual(out, Uint8Array.from([...decodeCommand(plain).data].reverse().concat([0x90, 0x00])));
        }
      }
    });
  }
}

test('F.3.2.4 error SW is returned without R-MAC and accepted by the host', () => {
  const { host, cardCh } = open(1024, 2, 0x33);
  cardCh.unwrapCommand(host.wrapCommand(encodeCommand({ cla: 0x80, ins: 0xe4, p1: 0, p2: 0, data: Uint8Array.of(1) })));
  const r = cardCh.wrapResponse(Uint8Array.of(0x6a, 0x88));
  assert.deepEqual(r, Uint8Array.of(0x6a, 0x88));
  assert.deepEqual(host.unwrapResponse(r), Uint8Array.of(0x6a, 0x88));
});

test('F.3.2.1 C-MAC layout: 81 data, 97 Le, 8E MAC; CLA b4b3 = 11', () => {
  const { host } = open(1024, 2, 0x01);
  const prot = decodeCommand(host.wrapCommand(encodeCommand({ cla: 0x00, ins: 0xb0, p1: 0, p2: 0, data: Uint8Array.of(0xaa), le: 256 })));
  assert.equal(prot.cla, 0x0c);
  assert.deepEqual(prot.data.subarray(0, 6), Uint8Array.of(0x81, 0x01, 0xaa, 0x97, 0x01, 0x00));
  assert.deepEqual(prot.data.subarray(6, 8), Uint8Array.of(0x8e, 0x08));
  assert.equal(prot.data.length, 16);
});

test('F.1.6 a flipped bit in a protected command is refused (6982) and the session aborted', () => {
  for (const level of [0x01, 0x03, 0x02]) {
    const { host, cardCh } = open(1024, 2, level);
    const prot = host.wrapCommand(encodeCommand({ cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0, data: rnd(20) }));
    prot[prot.length - 3]! ^= 0x01;
    assert.throws(() => cardCh.unwrapCommand(prot), (e: unknown) => e instanceof Error && (e as { sw?: number }).sw === 0x6982);
    assert.equal(cardCh.active, false);
  }
});

test('F.1.6 a command without secure messaging at a C-MAC level is refused', () => {
  const { cardCh } = open(1024, 1, 0x01);
  assert.throws(() => cardCh.unwrapCommand(encodeCommand({ cla: 0x80, ins: 0xe2, p1: 0, p2: 0, data: Uint8Array.of(1) })), (e: unknown) => (e as { sw?: number }).sw === 0x6982);
});

test('F.3.2.4 a tampered R-MAC is rejected by the host and closes the channel', () => {
  const { host, cardCh } = open(1024, 1, 0x11);
  cardCh.unwrapCommand(host.wrapCommand(encodeCommand({ cla: 0x80, ins: 0xca, p1: 0, p2: 0x66, data: new Uint8Array(0), le: 256 })));
  const r = cardCh.wrapResponse(Uint8Array.of(1, 2, 3, 0x90, 0x00));
  r[2]! ^= 1;
  assert.throws(() => host.unwrapResponse(r), { code: 'BAD_RMAC' });
  assert.throws(() => host.wrapCommand(Uint8Array.of(0, 0xa4, 0, 0)), { code: 'NOT_AUTHENTICATED' });
});

test('F.3.2.7 sensitive data round trip with the DEK', () => {
  const { host, cardCh } = open(1024, 1, 0x03);
  const key = rnd(16);
  assert.deepEqual(cardCh.decryptKeyData(host.encryptKeyData(key)), key);
});

test('F.1.5 key transport: INTERNAL AUTHENTICATE may be omitted', () => {
  const { host, cardCh } = open(1024, 2, 0x13, false);
  exchange(host, cardCh, encodeCommand({ cla: 0x80, ins: 0xe2, p1: 0, p2: 0, data: Uint8Array.of(5) }));
});

// ---- refusals ----

function upToCert(bits = 1024, i = 2) {
  const s = setup(bits, i);
  assert.equal(sw(s.card.process(scp10.buildManageSecurityEnvironment({ i })).response), 0x9000);
  return s;
}

test('F.4.7 tampered certificate → 6300; malformed → 6A80', () => {
  for (const i of [1, 2]) {
    const { card, oceCert } = upToCert(1024, i);
    const bad = oceCert.slice();
    bad[bad.length - 5]! ^= 0x40;
    assert.equal(sw(card.process(scp10.buildVerifyCertificate(bad)).response), 0x6300);
    const { card: card2, oceCert: c2 } = upToCert(1024, i);
    assert.equal(sw(card2.process(scp10.buildVerifyCertificate(c2.subarray(0, c2.length - 3))).response), 0x6a80);
  }
});

test('F.1.3 certificate not chained to PK.TP_EX.AUT → 6300, and EXTERNAL AUTHENTICATE is then refused', () => {
  const { card, p } = upToCert();
  const rogue = scp10.issueCertificate({ issuerId: p.tpEx.id, subjectId: id(0x0c), subjectKey: p.oce.publicKey, scheme: 'pkcs1' }, p.other.privateKey);
  assert.equal(sw(card.process(scp10.buildVerifyCertificate(rogue)).response), 0x6300);
  assert.equal(sw(card.process(scp10.buildGetChallenge()).response), 0x6985);
});

test('F.1.3 certificate naming another issuer id → 6300', () => {
  const { card, p } = upToCert();
  const c = scp10.issueCertificate({ issuerId: id(0x77), subjectId: id(0x0c), subjectKey: p.oce.publicKey, scheme: 'pkcs1' }, p.tpEx.pair.privateKey);
  assert.equal(sw(card.process(scp10.buildVerifyCertificate(c)).response), 0x6300);
});

test('F.4.1 wrong signature on EXTERNAL AUTHENTICATE → 6300 (both options); no channel', () => {
  for (const i of [1, 2]) {
    const { card, oceCert, p, sdCert } = upToCert(1024, i);
    card.process(scp10.buildVerifyCertificate(oceCert));
    const cardCert = scp10.verifyCertificate(sdCert, { id: p.tpIn.id, publicKey: p.tpIn.pair.publicKey });
    // signed with a key that is not the certified PK.OCE.AUT
    const init = scp10.beginInitiation({ i, level: 0x01, oceId: id(0x0c), ocePrivateKey: p.other.privateKey, card: cardCert, random: rnd });
    if (init.decipherCommand) assert.equal(sw(card.process(init.decipherCommand).response), 0x9000);
    const ch = data(card.process(scp10.buildGetChallenge()).response);
    const r = card.process(scp10.buildExternalAuthenticate(init, ch));
    assert.equal(sw(r.response), 0x6300);
    assert.equal(r.channel, undefined);
  }
});

test('F.4.1 signature over a stale challenge → 6300; EXTERNAL AUTHENTICATE without GET CHALLENGE → 6985', () => {
  const { card, oceCert, p, sdCert } = upToCert(1024, 2);
  card.process(scp10.buildVerifyCertificate(oceCert));
  const cardCert = scp10.verifyCertificate(sdCert, { id: p.tpIn.id, publicKey: p.tpIn.pair.publicKey });
  const init = scp10.beginInitiation({ i: 2, level: 0, oceId: id(0x0c), ocePrivateKey: p.oce.privateKey, card: cardCert, random: rnd });
  card.process(init.decipherCommand!);
  assert.equal(sw(card.process(scp10.buildExternalAuthenticate(init, rnd(16))).response), 0x6985);
  const { card: c2, oceCert: o2 } = upToCert(1024, 2);
  c2.process(scp10.buildVerifyCertificate(o2));
  c2.process(init.decipherCommand!);
  c2.process(scp10.buildGetChallenge());
  assert.equal(sw(c2.process(scp10.buildExternalAuthenticate(init, rnd(16))).response), 0x6300);
});

test('F.4.6 decipher with wrong padding / wrong key / bad session data → 6A80', () => {
  const { card, oceCert, p } = upToCert(1024, 2);
  card.process(scp10.buildVerifyCertificate(oceCert));
  // raw block with '00 01' instead of '00 02'
  const block = new Uint8Array(128);
  block[1] = 1;
  block.fill(0xff, 2, 100);
  block.set(Uint8Array.of(0xd3, 1, 0), 101);
  const raw = new Uint8Array(publicEncrypt({ key: p.sd.publicKey, padding: constants.RSA_NO_PADDING }, block));
  const cmd = (d: Uint8Array) => encodeCommand({ cla: 0, ins: 0x2a, p1: 0x80, p2: 0x84, data: d });
  assert.equal(sw(card.process(cmd(raw)).response), 0x6a80);
  const s2 = upToCert(1024, 2);
  s2.card.process(scp10.buildVerifyCertificate(s2.oceCert));
  const junk = new Uint8Array(publicEncrypt({ key: p.sd.publicKey, padding: constants.RSA_PKCS1_PADDING }, Uint8Array.of(0xd3, 1, 0x01)));
  assert.equal(sw(s2.card.process(cmd(junk)).response), 0x6a80); // level 01 but no CRT
  const s3 = upToCert(1024, 2);
  s3.card.process(scp10.buildVerifyCertificate(s3.oceCert));
  assert.equal(sw(s3.card.process(cmd(rnd(127))).response), 0x6a80); // truncated
  const s4 = upToCert(1024, 2);
  s4.card.process(scp10.buildVerifyCertificate(s4.oceCert));
  assert.equal(sw(s4.card.process(cmd(new Uint8Array(128).fill(0xff))).response), 0x6a80); // ≥ modulus
});

test('F.4 truncated / overlong data in each command', () => {
  const { card, oceCert } = upToCert(1024, 2);
  assert.equal(sw(card.process(Uint8Array.of(0, 0x22, 0xc1, 0xb6, 5, 0x80, 2, 0x10)).response), 0x6700);
  assert.equal(sw(card.process(scp10.buildManageSecurityEnvironment({ i: 2 })).response), 0x9000);
  assert.equal(sw(card.process(encodeCommand({ cla: 0, ins: 0x22, p1: 0xc1, p2: 0xb6, data: Uint8Array.of(0x80, 2, 0x10) })).response), 0x6a80);
  assert.equal(sw(card.process(encodeCommand({ cla: 0, ins: 0x22, p1: 0xc1, p2: 0xb6, data: Uint8Array.of(0x80, 2, 0x10, 0x07) })).response), 0x9484);
  card.process(scp10.buildManageSecurityEnvironment({ i: 2 }));
  const over = new Uint8Array(oceCert.length + 1);
  over.set(oceCert);
  assert.equal(sw(card.process(scp10.buildVerifyCertificate(over)).response), 0x6a80);
  const s = open(1024, 2, 0, false);
  // GET CHALLENGE with data, EXTERNAL AUTHENTICATE of the wrong length, INTERNAL AUTHENTICATE of the wrong length
  s.card.process(scp10.buildManageSecurityEnvironment({ i: 2 }));
  s.card.process(scp10.buildVerifyCertificate(s.oceCert));
  assert.equal(sw(s.card.process(encodeCommand({ cla: 0, ins: 0x84, p1: 0, p2: 0, data: Uint8Array.of(1), le: 256 })).response), 0x6700);
  s.card.process(scp10.buildManageSecurityEnvironment({ i: 2 }));
  s.card.process(scp10.buildVerifyCertificate(s.oceCert));
  s.card.process(s.init.decipherCommand!);
  s.card.process(scp10.buildGetChallenge());
  assert.equal(sw(s.card.process(encodeCommand({ cla: 0, ins: 0x82, p1: 0, p2: 0, data: rnd(127) })).response), 0x6700);
  const u = setup(1024, 2);
  const tx = (c: Uint8Array) => u.card.process(c);
  tx(scp10.buildManageSecurityEnvironment({ i: 2 }));
  tx(scp10.buildVerifyCertificate(u.oceCert));
  const cc = scp10.verifyCertificate(u.sdCert, { id: u.p.tpIn.id, publicKey: u.p.tpIn.pair.publicKey });
  const init = scp10.beginInitiation({ i: 2, level: 0, oceId: id(0x0c), ocePrivateKey: u.p.oce.privateKey, card: cc, random: rnd });
  tx(init.decipherCommand!);
  tx(scp10.buildExternalAuthenticate(init, data(tx(scp10.buildGetChallenge()).response)));
  assert.equal(sw(tx(encodeCommand({ cla: 0, ins: 0x88, p1: 0, p2: 0, data: rnd(23), le: 256 })).response), 0x6700);
});

test('F.4.4 INTERNAL AUTHENTICATE naming another OCE id → 6A80', () => {
  const u = setup(1024, 1);
  const tx = (c: Uint8Array) => u.card.process(c);
  tx(scp10.buildManageSecurityEnvironment({ i: 1 }));
  tx(scp10.buildVerifyCertificate(u.oceCert));
  const cc = scp10.verifyCertificate(u.sdCert, { id: u.p.tpIn.id, publicKey: u.p.tpIn.pair.publicKey });
  const init = scp10.beginInitiation({ i: 1, level: 0x01, oceId: id(0x0d), ocePrivateKey: u.p.oce.privateKey, card: cc, random: rnd });
  assert.equal(sw(tx(scp10.buildExternalAuthenticate(init, data(tx(scp10.buildGetChallenge()).response))).response), 0x9000);
  assert.equal(sw(tx(scp10.buildInternalAuthenticate(init, rnd(8))).response), 0x6a80);
});

test('F.1.4.3 host rejects a forged card signature (both options)', () => {
  const s = open(1024, 1, 0x01);
  assert.throws(() => scp10.createKeyAgreementChannel(s.init, rnd(8), rnd(128)), { code: 'BAD_CARD_CRYPTOGRAM' });
  const t = open(1024, 2, 0x01);
  assert.throws(() => scp10.createKeyTransportChannel(t.init, { challenge: rnd(16), signature: rnd(128) }), { code: 'BAD_CARD_CRYPTOGRAM' });
});

test('F.4.5 MANAGE SECURITY ENVIRONMENT terminates an open session', () => {
  const { cardCh, card } = open(1024, 2, 0x01);
  assert.equal(cardCh.active, true);
  card.process(scp10.buildManageSecurityEnvironment({ i: 2 }));
  assert.equal(cardCh.active, false);
});

// ---- certificates ----

test('F.1.3.4 certificate issue/verify round trip, both schemes, both sizes', () => {
  for (const bits of [1024, 2048]) {
    const p = pki(bits);
    for (const scheme of ['pkcs1', 'iso9796-2'] as const) {
      const enc = scp10.issueCertificate({ issuerId: id(1), subjectId: id(2), subjectKey: p.oce.publicKey, scheme }, p.tpEx.pair.privateKey);
      assert.equal(enc[0], 0x7f);
      assert.equal(enc[1], 0x21);
      const c = scp10.verifyCertificate(enc, { id: id(1), publicKey: p.tpEx.pair.publicKey });
      assert.equal(c.scheme, scheme);
      assert.deepEqual(c.subjectId, id(2));
      assert.deepEqual(c.publicKey.export({ format: 'der', type: 'spki' }), p.oce.publicKey.export({ format: 'der', type: 'spki' }));
    }
  }
});

test('F.1.3.4 hostile certificate inputs are refused with 6A80 or 6300, never a crash', () => {
  const p = pki(1024);
  const signer = { id: id(1), publicKey: p.tpEx.pair.publicKey };
  const good = scp10.issueCertificate({ issuerId: id(1), subjectId: id(2), subjectKey: p.oce.publicKey, scheme: 'pkcs1' }, p.tpEx.pair.privateKey);
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    Uint8Array.of(0x7f, 0x21, 0x00),
    Uint8Array.of(0x7f, 0x21, 0x82, 0xff, 0xff),
    good.subarray(0, 10),
    Uint8Array.of(...good, 0x00),
    Uint8Array.of(0x7f, 0x22, ...good.subarray(2)),
    Uint8Array.of(0x7f, 0x21, 0x02, 0x9e, 0x00),
  ];
  for (let n = 0; n < 200; n++) {
    const m = good.slice();
    m[Math.floor(Math.random() * m.length)]! ^= 1 << Math.floor(Math.random() * 8);
    cases.push(m);
  }
  for (const c of cases) {
    assert.throws(() => scp10.verifyCertificate(c, signer), (e: unknown) => [0x6a80, 0x6300].includes((e as { sw?: number }).sw ?? 0));
  }
});
