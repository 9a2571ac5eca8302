/** SCP11 (GP Amendment F v1.4): GP certificates, host↔card round trips, negative cases. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { concat, fromHex, toHex } from '../../src/core/bytes.ts';
import { CodecError } from '../../src/core/errors.ts';
import { SecureChannelError } from '../../src/scp/errors.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import {
  beginScp11,
  buildPerformSecurityOperations,
  CertificateError,
  completeScp11,
  parseCertificate,
  parseCertificates,
  scp11cScriptChannel,
  signCertificate,
  verifyChain,
  type Scp11HostOptions,
  type Scp11Variant,
} from '../../src/scp/scp11/index.ts';
import { generateKeyPair } from '../../src/crypto/index.ts';
import type { Scp11Card } from '../../src/scp/scp11/card.ts';
import { CA_KVN, makeCard, makePki, OCE_ID, SD_KVN, type Pki } from './scp11-helpers.ts';

const sw = (r: Uint8Array) => ((r[r.length - 2]! << 8) | r[r.length - 1]!).toString(16).toUpperCase().padStart(4, '0');

const pki = makePki('P-256');

describe('GP certificate 7F21 (Amendment F §6.1)', () => {
  test('encode → parse round trip keeps every field and the signed bytes', () => {
    const c = parseCertificate(pki.oceCert.encoded);
    assert.deepEqual(c.encoded, pki.oceCert.encoded);
    assert.deepEqual(c.signedData, pki.oceCert.signedData);
    assert.deepEqual(c.subjectId, OCE_ID);
    assert.deepEqual(c.keyUsage, fromHex('0080'));
    assert.equal(c.publicKey.curve, 'P-256');
    assert.equal(c.encoded[0], 0x7f);
    assert.equal(c.encoded[1], 0x21);
    assert.equal(c.signature.length, 64);
    assert.deepEqual(parseCertificates(concat(pki.kaCert.encoded, pki.oceCertViaKa.encoded)).map((x) => toHex(x.serialNumber)), ['0A', '02']);
  });

  test('verifyChain: CA → KA → OCE passes; tampered, wrong CA, wrong key usage, expired fail', () => {
    const anchor = { curve: pki.curve, point: pki.caKloc.publicKey };
    assert.deepEqual(verifyChain([pki.kaCert, pki.oceCertViaKa], anchor, { today: '20260101' }).subjectId, OCE_ID);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof CertificateError);
        return e.code;
      }
      return 'no error';
    };
    const wrongCa = { curve: pki.curve, point: pki.caKlcc.publicKey };
    assert.equal(code(() => verifyChain([pki.oceCert], wrongCa)), 'BAD_SIGNATURE');
    assert.equal(code(() => verifyChain([pki.kaCert], anchor)), 'BAD_KEY_USAGE');
    assert.equal(code(() => verifyChain([pki.oceCert], anchor, { today: '20400101' })), 'EXPIRED');
    assert.equal(code(() => verifyChain([pki.oceCert], anchor, { today: '20231231' })), 'NOT_YET_VALID');
    assert.equal(code(() => verifyChain([pki.oceCert], anchor, { allowlist: [fromHex('99')] })), 'NOT_IN_ALLOWLIST');
  });

  test('hostile inputs throw CodecError with an offset', () => {
    const good = pki.oceCert.encoded;
    const cases: [string, Uint8Array, string][] = [
      ['truncated', good.subarray(0, good.length - 1), 'TRUNCATED'],
      ['trailing byte', concat(good, Uint8Array.of(0)), 'TRAILING_DATA'],
      ['wrong outer tag', concat(Uint8Array.of(0x7f, 0x22), good.subarray(2)), 'BAD_TAG'],
      ['empty', new Uint8Array(0), 'TRUNCATED'],
      ['fields out of order', encodeTlv(0x7f21, concat(encodeTlv(0x42, fromHex('01')), encodeTlv(0x93, fromHex('01')))), 'BAD_TAG'],
      ['missing signature', encodeTlv(0x7f21, pki.oceCert.signedData), 'TRUNCATED'],
      ['serial of 17 bytes', encodeTlv(0x7f21, concat(encodeTlv(0x93, new Uint8Array(17)), pki.oceCert.signedData.subarray(3))), 'BAD_LENGTH'],
      ['non-minimal length', concat(Uint8Array.of(0x7f, 0x21, 0x82, 0x00, good[2]!), good.subarray(3)), 'BAD_LENGTH'],
    ];
    for (const [name, bytes, want] of cases) {
      assert.throws(() => parseCertificate(bytes), (e: unknown) => e instanceof CodecError && e.code === want && typeof e.offset === 'number', name);
    }
    // A point not on the curve ('B0' changed) is rejected as BAD_VALUE.
    const i = toHex(good).indexOf('B041') / 2 + 10;
    const bad = good.slice();
    bad[i]! ^= 0x01;
    assert.throws(() => parseCertificate(bad), (e: unknown) => e instanceof CodecError && e.code === 'BAD_VALUE');
    // A bad BCD date.
    assert.throws(
      () => signCertificate({ ...pki.oceCert, expirationDate: fromHex('2039AA31') }, pki.caKloc),
      RangeError,
    );
  });
});

interface Opened {
  host: ReturnType<typeof completeScp11>;
  card: NonNullable<ReturnType<Scp11Card['authenticate']>['channel']>;
  securityLevel: number;
}

function pso(card: Scp11Card, certs: Uint8Array[]): string[] {
  return buildPerformSecurityOperations(certs, { kvn: CA_KVN, kid: 0x10 }).map((c) => sw(card.performSecurityOperation(c)));
}

function hostOptions(p: Pki, variant: Scp11Variant, keyUsage: number): Scp11HostOptions {
  return { variant, pkSdEcka: { curve: p.curve, point: p.sd.publicKey }, kvn: SD_KVN, keyUsage, ...(variant === '11b' ? {} : { skOceEcka: p.oce.privateKey }) };
}

function open(p: Pki, variant: Scp11Variant, keyUsage: number, card = makeCard(p)): Opened {
  if (variant !== '11b') assert.deepEqual(pso(card, [p.oceCert.encoded]), ['9000']);
  const session = beginScp11(hostOptions(p, variant, keyUsage));
  const r = card.authenticate(session.command);
  assert.equal(sw(r.response), '9000');
  return { host: completeScp11(session, r.response), card: r.channel!, securityLevel: r.securityLevel };
}

function exchange(o: Opened, plain: Uint8Array, responseData: Uint8Array): void {
  const wrapped = o.host.wrapCommand(plain);
  const unwrapped = o.card.unwrapCommand(wrapped);
  assert.deepEqual(unwrapped, plain);
  const resp = o.card.wrapResponse(concat(responseData, fromHex('9000')));
  assert.deepEqual(o.host.unwrapResponse(resp), concat(responseData, fromHex('9000')));
}

describe('host ↔ card round trips (Tables 4-3, 4-4; §5.3.2)', () => {
  const combos: [Scp11Variant, number, number][] = [
    ['11a', 0x34, 0x11 | 0x80],
    ['11a', 0x3c, 0x33 | 0x80],
    ['11b', 0x34, 0x11],
    ['11b', 0x3c, 0x33],
    ['11c', 0x34, 0x11 | 0x80],
    ['11c', 0x3c, 0x33 | 0x80],
    ['11c', 0x1c, 0x03 | 0x80],
    ['11c', 0x74, 0x13 | 0x80],
  ];
  for (const [variant, kuq, level] of combos) {
    test(`SCP${variant} key usage ${kuq.toString(16).toUpperCase()} → level ${level.toString(16).toUpperCase()}`, () => {
      const o = open(pki, variant, kuq);
      assert.equal(o.securityLevel, level);
      assert.equal(o.host.level, level & 0x3f);
      for (let n = 0; n < 3; n++) exchange(o, fromHex(`80E2900003DF010${n}`), fromHex('CAFE'));
    });
  }
  for (const curve of ['P-384', 'brainpoolP256r1'] as const) {
    test(`SCP11a and SCP11b on ${curve}`, () => {
      const p = makePki(curve);
      exchange(open(p, '11a', 0x3c), fromHex('80CA006600'), fromHex('0102'));
      exchange(open(p, '11b', 0x34), fromHex('80CA006600'), fromHex('0102'));
    });
  }
  test('SCP11a through a certificate chain CA-KLOC → KA-KLOC → OCE', () => {
    const card = makeCard(pki);
    assert.deepEqual(pso(card, [pki.kaCert.encoded, pki.oceCertViaKa.encoded]), ['9000', '9000']);
    const s = beginScp11(hostOptions(pki, '11a', 0x3c));
    const r = card.authenticate(s.command);
    exchange({ host: completeScp11(s, r.response), card: r.channel!, securityLevel: r.securityLevel }, fromHex('80F28000024F00'), fromHex('AA'));
  });
  test('an OCE that is not the SD owner gets ANY_AUTHENTICATED', () => {
    const o = open(pki, '11a', 0x34, makeCard(pki, { ownerId: fromHex('FFFF') }));
    assert.equal(o.securityLevel, 0x11 | 0x40);
  });
  test('SCP11c script channel: the host precomputes the receipt and the wrapped script', () => {
    const card = makeCard(pki);
    pso(card, [pki.oceCert.encoded]);
    const s = beginScp11(hostOptions(pki, '11c', 0x3c));
    const { channel, receipt } = scp11cScriptChannel(s);
    const script = [fromHex('80E2900003DF0101'), fromHex('80E2900003DF0102')].map((c) => channel.wrapCommand(c));
    const r = card.authenticate(s.command);
    assert.deepEqual(r.response.subarray(r.response.length - 18, r.response.length - 2), receipt);
    assert.deepEqual(r.channel!.unwrapCommand(script[0]!), fromHex('80E2900003DF0101'));
    assert.deepEqual(r.channel!.unwrapCommand(script[1]!), fromHex('80E2900003DF0102'));
  });
  test('PSO splits a certificate over 255 bytes with P1 b8 (§7.5.2.1)', () => {
    const big = signCertificate({ ...pki.oceCert, authorizations: new Uint8Array(300) }, pki.caKloc);
    const cmds = buildPerformSecurityOperations([big.encoded], { kvn: 1, kid: 0x10 });
    assert.equal(cmds.length, 2);
    assert.equal(cmds[0]![2], 0x81);
    assert.equal(cmds[1]![2], 0x01);
    const card = makeCard(pki, { i: 0x01 | 0x08 | 0x20 });
    assert.deepEqual(cmds.map((c) => sw(card.performSecurityOperation(c))), ['9000', '9000']);
  });
});

describe('negative cases and their status words (Tables 7-13, 7-19, 7-23)', () => {
  test('tampered certificate signature → 6600', () => {
    const bad = pki.oceCert.encoded.slice();
    bad[bad.length - 1]! ^= 0x01;
    assert.deepEqual(pso(makeCard(pki), [bad]), ['6600']);
  });
  test('certificate from the wrong CA → 6600, then MUTUAL AUTHENTICATE → 6985', () => {
    const rogueCa = generateKeyPair('P-256');
    const rogue = signCertificate({ ...pki.oceCert }, rogueCa);
    const card = makeCard(pki);
    assert.deepEqual(pso(card, [rogue.encoded]), ['6600']);
    assert.equal(sw(card.authenticate(beginScp11(hostOptions(pki, '11a', 0x34)).command).response), '6985');
  });
  test('unknown PK.CA-KLOC reference → 6A88', () => {
    const card = makeCard(pki);
    assert.equal(sw(card.performSecurityOperation(buildPerformSecurityOperations([pki.oceCert.encoded], { kvn: 5, kid: 0x10 })[0]!)), '6A88');
  });
  test('wrong key usage: a signature certificate as the last one → 6600; chain not supported → 6A86', () => {
    assert.deepEqual(pso(makeCard(pki), [pki.kaCert.encoded]), ['6600']);
    assert.deepEqual(pso(makeCard(pki, { i: 0x01 }), [pki.kaCert.encoded, pki.oceCertViaKa.encoded]), ['6A86', '6600']);
  });
  test('allowlist without the serial number → 6640', () => {
    const card = makeCard(pki, {
      trustAnchors: [{ kvn: CA_KVN, kid: 0x10, publicKey: { curve: 'P-256', point: pki.caKloc.publicKey }, allowlist: [fromHex('99')] }],
    });
    assert.deepEqual(pso(card, [pki.oceCert.encoded]), ['6640']);
  });
  test("'BF20' without the authorization mechanism → 6A81", () => {
    const withAuth = signCertificate({ ...pki.oceCert, authorizations: fromHex('0101') }, pki.caKloc);
    assert.deepEqual(pso(makeCard(pki, { i: 0x11 }), [withAuth.encoded]), ['6A81']);
  });
  test('truncated and overlong TLVs in PSO data → 6A80', () => {
    const good = pki.oceCert.encoded;
    for (const bad of [good.subarray(0, 40), concat(good, fromHex('00')), concat(Uint8Array.of(0x7f, 0x21, 0x81, 0xff), good.subarray(3))]) {
      const cmd = buildPerformSecurityOperations([bad], { kvn: CA_KVN, kid: 0x10 });
      assert.equal(sw(makeCard(pki).performSecurityOperation(cmd[0]!)), '6A80');
    }
  });
  test('truncated, overlong and wrong MUTUAL AUTHENTICATE data → 6A80; wrong key → 6A88', () => {
    const s = beginScp11(hostOptions(pki, '11a', 0x3c));
    const data = s.command.subarray(5, s.command.length - 1);
    const cmd = (d: Uint8Array, p2 = 0x11) => concat(Uint8Array.of(0x80, 0x82, SD_KVN, p2, d.length), d, Uint8Array.of(0));
    const run = (c: Uint8Array) => {
      const card = makeCard(pki);
      pso(card, [pki.oceCert.encoded]);
      return sw(card.authenticate(c).response);
    };
    assert.equal(run(cmd(data)), '9000');
    assert.equal(run(cmd(data.subarray(0, data.length - 1))), '6A80');
    assert.equal(run(cmd(concat(data, fromHex('00')))), '6A80');
    const kuq1c = data.slice();
    kuq1c[kuq1c.indexOf(0x3c)] = 0x1c; // '1C' is SCP11c only
    assert.equal(run(cmd(kuq1c)), '6A80');
    const offCurve = data.slice();
    offCurve[offCurve.length - 1]! ^= 0x01;
    assert.equal(run(cmd(offCurve)), '6A80');
    assert.equal(run(cmd(data, 0x13)), '6A88');
  });
  test('wrong receipt: the host rejects it (BAD_CARD_CRYPTOGRAM) and a non-9000 is BAD_STATUS', () => {
    const card = makeCard(pki);
    pso(card, [pki.oceCert.encoded]);
    const s = beginScp11(hostOptions(pki, '11a', 0x3c));
    const r = card.authenticate(s.command).response.slice();
    r[r.length - 3]! ^= 0x01;
    assert.throws(() => completeScp11(s, r), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_CARD_CRYPTOGRAM');
    assert.throws(() => completeScp11(beginScp11(hostOptions(pki, '11b', 0x34)), fromHex('6A88')), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_STATUS' && e.sw === 0x6a88);
  });
  test('replayed ePK.OCE.ECKA (SCP11c MUTUAL AUTHENTICATE sent twice) → 6A80; no PSO before → 6985', () => {
    const card = makeCard(pki);
    pso(card, [pki.oceCert.encoded]);
    const s = beginScp11(hostOptions(pki, '11c', 0x3c));
    assert.equal(sw(card.authenticate(s.command).response), '9000');
    assert.equal(sw(card.authenticate(s.command).response), '6985');
    pso(card, [pki.oceCert.encoded]);
    assert.equal(sw(card.authenticate(s.command).response), '6A80');
  });
  test('a flipped bit in a protected command aborts the card session (6982)', () => {
    const o = open(pki, '11b', 0x3c);
    const w = o.host.wrapCommand(fromHex('80CA006600'));
    w[w.length - 2]! ^= 0x01;
    assert.throws(() => o.card.unwrapCommand(w), (e: unknown) => e instanceof SecureChannelError && e.sw === 0x6982);
    assert.equal(o.card.active, false);
  });
  test('a receipt from another session does not open the channel (different ePK.SD each time)', () => {
    const card = makeCard(pki);
    const s1 = beginScp11(hostOptions(pki, '11b', 0x34));
    const s2 = beginScp11(hostOptions(pki, '11b', 0x34));
    const r1 = card.authenticate(s1.command).response;
    assert.throws(() => completeScp11(s2, r1), SecureChannelError);
  });
});
