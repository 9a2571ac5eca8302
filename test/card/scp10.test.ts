/**
 * SCP10 in the simulator (GPCS 2.2.1 Appendix F): an SSD installed with '81' = 10 i holds PK.TP_EX.AUT
 * (PUT KEY 'A1' + 'A0', KID '10'), generates SK.SD.AUT on card (proprietary GENERATE KEY PAIR 'F1' with
 * 'A1' 02 <bits>), stores CERT.SD.AUT (STORE DATA 'A6' { '83' } 'BF21' { '7F21' }) and opens SCP10 with the
 * host side of src/scp/scp10 — all over an InProcessChannel (with GET RESPONSE for 61xx).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { concat, fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeTlv, parseTlv } from '../../src/core/tlv.ts';
import { encodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import { withGetResponse } from '../../src/apdu/get-response.ts';
import type { CardChannel } from '../../src/apdu/channel.ts';
import { buildStoreDataBlocks, kcvFor } from '../../src/gp/index.ts';
import { openSecureChannel, type HostSecureChannel } from '../../src/scp/index.ts';
import * as scp10 from '../../src/scp/scp10/index.ts';
import { rsaPublicKey, rsaPublicNumbers } from '../../src/crypto/index.ts';
import { createCard, SimulatedCard } from '../../src/card/index.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import { counterRandom, installSsd, KEYS40, putKeySet, SSD1 } from './helpers.ts';

const ISD = 'A000000151000000';
const KVN = 0x01;
const CA_ID = fromHex('CA00000000000001');
const OCE_ID = fromHex('0CE0000000000001');
const SD_SUBJECT = fromHex('5D00000000000001');
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

type Pair = { publicKey: KeyObject; privateKey: KeyObject };
const pairs = new Map<string, Pair>();
function pair(name: string, bits: number): Pair {
  const k = `${name}/${bits}`;
  let p = pairs.get(k);
  if (!p) pairs.set(k, (p = generateKeyPairSync('rsa', { modulusLength: bits })));
  return p;
}

interface Rig {
  card: SimulatedCard;
  io: CardChannel;
  responses: Uint8Array[];
}

function rig(card = createCard({ random: counterRandom() })): Rig {
  const responses: Uint8Array[] = [];
  const io = withGetResponse(new InProcessChannel(card, { onExchange: (_c, r) => responses.push(r) }));
  return { card, io, responses };
}

async function rawSend(r: Rig, apdu: Uint8Array | string | CommandApdu): Promise<{ data: string; sw: number }> {
  const bytes = typeof apdu === 'string' ? fromHex(apdu) : apdu instanceof Uint8Array ? apdu : encodeCommand(apdu);
  const res = decodeResponse(await r.io.transmit(bytes));
  return { data: toHex(res.data), sw: res.sw };
}

async function sc(r: Rig, ch: HostSecureChannel, c: CommandApdu | string): Promise<{ data: string; sw: number }> {
  const plain = typeof c === 'string' ? fromHex(c) : encodeCommand(c);
  const res = decodeResponse(ch.unwrapResponse(await r.io.transmit(ch.wrapCommand(plain))));
  return { data: toHex(res.data), sw: res.sw };
}

const select = (aid: string): string => `00A40400${(aid.length / 2).toString(16).padStart(2, '0')}${aid}00`;

async function scp03(r: Rig, aid: string, level = 0x01, keys = KEYS40, kvn?: number): Promise<HostSecureChannel> {
  assert.equal((await rawSend(r, select(aid))).sw, 0x9000);
  return openSecureChannel((apdu) => r.io.transmit(apdu), { keys, level, hostChallenge: fromHex('0102030405060708'), ...(kvn ? { kvn } : {}) });
}

/** PUT KEY of PK.TP_EX.AUT: KVN ‖ 'A1' L N ‖ 'A0' L e ‖ '00' (no KCV); extended when the data passes 255 bytes. */
function putTrustPoint(key: KeyObject | { modulus: Uint8Array; exponent: Uint8Array }, kid = 0x10, kvn = KVN): CommandApdu {
  const { modulus, exponent } = 'modulus' in key ? key : rsaPublicNumbers(key);
  const data = concat(Uint8Array.of(kvn), encodeTlv(0xa1, modulus), encodeTlv(0xa0, exponent), Uint8Array.of(0));
  return { cla: 0x80, ins: 0xd8, p1: 0, p2: kid, data, le: 256, ...(data.length > 255 ? { extended: true } : {}) };
}

/** GENERATE KEY PAIR RSA: 80 F1 P1 KID 05 KVN A1 02 <bits> Le. */
function generateRsa(bits: number, kvn = KVN, replace = 0, kid = 0x11, extendedLe = bits > 1024): CommandApdu {
  return { cla: 0x80, ins: 0xf1, p1: replace, p2: kid, data: Uint8Array.of(kvn, 0xa1, 0x02, bits >> 8, bits & 0xff), le: extendedLe ? 65536 : 256, ...(extendedLe ? { extended: true } : {}) };
}

/** Parse 'A1' L N ‖ 'A0' L e exactly. */
function parsePublic(hex: string, bytes: number): { modulus: Uint8Array; exponent: Uint8Array; key: KeyObject } {
  const head = bytes === 128 ? 'A18180' : 'A1820100';
  assert.equal(hex.slice(0, head.length), head);
  const modulus = fromHex(hex.slice(head.length, head.length + bytes * 2));
  assert.equal(hex.slice(head.length + bytes * 2), 'A003010001');
  assert.ok(modulus[0]! & 0x80);
  const exponent = fromHex('010001');
  return { modulus, exponent, key: rsaPublicKey(modulus, exponent) };
}

function storeCertificate(value: Uint8Array, kid = 0x11, kvn = KVN): CommandApdu[] {
  return buildStoreDataBlocks(concat(encodeTlv(0xa6, encodeTlv(0x83, Uint8Array.of(kid, kvn))), encodeTlv(0xbf21, value)), { format: 'ber' });
}

/** KDD of the selected SD (INITIALIZE UPDATE response, first 10 bytes); the handshake is abandoned after. */
async function kdd(r: Rig): Promise<Uint8Array> {
  const iu = await rawSend(r, '80500000080102030405060708' + '00');
  assert.equal(iu.sw, 0x9000);
  return fromHex(iu.data.slice(0, 20));
}

interface Provisioned extends Rig {
  i: number;
  bits: number;
  tp: Pair;
  oce: Pair;
  oceCert: Uint8Array;
  /** PK.SD.AUT as returned by GENERATE KEY PAIR, with the card id the SD uses before a certificate. */
  sdKey: { subjectId: Uint8Array; publicKey: KeyObject };
  generated: string;
}

const scheme = (i: number): scp10.CertificateScheme => (i === 1 ? 'iso9796-2' : 'pkcs1');

/** ISD creates the SCP10 SSD; with its initial SCP03 keys 'FF': PUT KEY PK.TP_EX.AUT, GENERATE KEY PAIR SK.SD.AUT. */
async function provision(i: number, bits = 1024, r = rig()): Promise<Provisioned> {
  const isd = await scp03(r, ISD);
  assert.equal((await sc(r, isd, installSsd(SSD1, [], { id: 0x10, i }))).sw, 0x9000);
  const tp = pair('tp', bits);
  const oce = pair('oce', bits);
  const ssd = await scp03(r, SSD1);
  assert.deepEqual(await sc(r, ssd, putTrustPoint(tp.publicKey)), { data: '01', sw: 0x9000 });
  const g = await sc(r, ssd, generateRsa(bits));
  assert.equal(g.sw, 0x9000);
  const pub = parsePublic(g.data, bits / 8);
  assert.equal((await rawSend(r, select(SSD1))).sw, 0x9000);
  const id = (await kdd(r)).slice(2);
  const oceCert = scp10.issueCertificate({ issuerId: CA_ID, subjectId: OCE_ID, subjectKey: oce.publicKey, scheme: scheme(i) }, tp.privateKey);
  return { ...r, i, bits, tp, oce, oceCert, sdKey: { subjectId: id, publicKey: pub.key }, generated: g.data };
}

interface OpenOptions {
  level?: number;
  oceCert?: Uint8Array;
  /** Read CERT.SD.AUT with GET DATA '7F21' and verify it against this trust point instead of using `sdKey`. */
  trustPointIn?: { id: Uint8Array; publicKey: KeyObject };
}

/** SELECT, MSE, PSO [verify certificate], (GET DATA '7F21'), [PSO decipher], GET CHALLENGE, EXTERNAL / INTERNAL AUTHENTICATE. */
async function openScp10(p: Provisioned, o: OpenOptions = {}): Promise<HostSecureChannel> {
  const level = o.level ?? 0x13;
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(p, scp10.buildManageSecurityEnvironment({ i: p.i }))).sw, 0x9000);
  assert.equal((await rawSend(p, scp10.buildVerifyCertificate(o.oceCert ?? p.oceCert))).sw, 0x9000);
  let card: { subjectId: Uint8Array; publicKey: KeyObject } = p.sdKey;
  if (o.trustPointIn) {
    const gd = await rawSend(p, scp10.buildGetCardCertificate());
    assert.equal(gd.sw, 0x9000);
    card = scp10.verifyCardCertificate(fromHex(gd.data), o.trustPointIn);
  }
  const init = scp10.beginInitiation({ i: p.i, level, oceId: OCE_ID, ocePrivateKey: p.oce.privateKey, card, random: rnd });
  if (init.decipherCommand) assert.equal((await rawSend(p, init.decipherCommand)).sw, 0x9000);
  const ch = await rawSend(p, scp10.buildGetChallenge());
  assert.equal(ch.sw, 0x9000);
  assert.equal((await rawSend(p, scp10.buildExternalAuthenticate(init, fromHex(ch.data)))).sw, 0x9000);
  const challenge = rnd(p.i === 2 ? 16 : 8);
  const ia = await rawSend(p, scp10.buildInternalAuthenticate(init, challenge));
  assert.equal(ia.sw, 0x9000);
  return p.i === 2
    ? scp10.createKeyTransportChannel(init, { challenge, signature: fromHex(ia.data) })
    : scp10.createKeyAgreementChannel(init, challenge, fromHex(ia.data));
}

function sdState(card: SimulatedCard) {
  const st = JSON.parse(card.serialize());
  return st.apps.find((x: { aid: string }) => x.aid === SSD1).securityDomain as {
    scp: number;
    i: number;
    keys: { kvn: number; kid: number; type: number; value: string; exponent?: string; certificate?: string }[];
    keyLog: { kvn: number; kid: number; publicKey: string; exponent?: string; param?: number }[];
  };
}

for (const i of [2, 1]) {
  test(`F.1 SCP10 i=0${i} SSD, RSA-1024: trust point by PUT KEY, SK.SD.AUT generated on card, SCP10 with the returned key, KVN 'FF' gone`, async () => {
    const p = await provision(i);
    const ch = await openScp10(p);
    // Current security level: C-MAC | C-ENC | R-MAC ('13') with the session bit.
    assert.deepEqual(await sc(p, ch, '80CA00D300'), { data: 'D30193', sw: 0x9000 });
    // The first SCP10 session deleted the initial key set: INITIALIZE UPDATE finds no key (6A88).
    assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
    assert.equal((await rawSend(p, '80500000080102030405060708' + '00')).sw, 0x6a88);
    assert.deepEqual(sdState(p.card).keys.map((k) => [k.kvn, k.kid, k.type]), [[1, 0x10, 0xa1], [1, 0x11, 0xa2]]);
    assert.deepEqual(sdState(p.card).keyLog.map((e) => [e.kvn, e.kid, e.publicKey, e.exponent, e.param]), [[1, 0x11, p.generated.slice(6, 6 + 256), '010001', undefined]]);
    // No certificate stored yet: GET DATA '7F21' answers 6A88.
    const again = await openScp10(p);
    assert.equal((await sc(p, again, '80CA7F2100')).sw, 0x6a88);
  });
}

test('inside an SCP10 session: a new pair replaces SK.SD.AUT, its certificate is stored, the next session reads it with GET DATA 7F21', async () => {
  for (const i of [2, 1]) {
    const p = await provision(i);
    const ch = await openScp10(p, { level: 0x01 });
    const g = await sc(p, ch, generateRsa(1024, 2, KVN));
    assert.equal(g.sw, 0x9000);
    const pub = parsePublic(g.data, 128);
    assert.notEqual(g.data, p.generated);
    const cert = scp10.issueCertificate({ issuerId: CA_ID, subjectId: SD_SUBJECT, subjectKey: pub.key, scheme: scheme(i) }, p.tp.privateKey);
    for (const c of storeCertificate(cert, 0x11, 2)) assert.equal((await sc(p, ch, c)).sw, 0x9000);
    // Both GET DATA forms answer the certificate: '7F21' and 'BF21' { 'A6' { '83' 11 02 } }.
    assert.deepEqual(await sc(p, ch, '80CA7F2100'), { data: toHex(cert), sw: 0x9000 });
    assert.deepEqual(await sc(p, ch, '80CABF2106A6048302110200'), { data: toHex(encodeTlv(0xbf21, cert)), sw: 0x9000 });
    // Reopen: the host gets PK.SD.AUT and the card id from CERT.SD.AUT, verified against its trust point.
    const next = await openScp10({ ...p, sdKey: { subjectId: new Uint8Array(8), publicKey: p.sdKey.publicKey } }, { level: 0x33, trustPointIn: { id: CA_ID, publicKey: p.tp.publicKey } });
    assert.deepEqual(await sc(p, next, '80CA00D300'), { data: 'D301B3', sw: 0x9000 });
    // ISO class GET DATA without a session: the certificate's value only (F.4.3).
    assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
    assert.deepEqual(await rawSend(p, '00CA7F2100'), { data: toHex(parseTlv(cert).value), sw: 0x9000 });
    // The replaced key is gone; the old PK.SD.AUT no longer opens the SD (i=02: PSO decipher fails, 6A80).
    assert.deepEqual(sdState(p.card).keys.filter((k) => k.kid === 0x11).map((k) => [k.kvn, k.certificate]), [[2, toHex(cert)]]);
  }
});

test('management inside SCP10: PUT KEY of an AES key set under the SCP10 DEK, then SCP03 opens with it', async () => {
  const p = await provision(2);
  const ch = await openScp10(p, { level: 0x03 });
  const k = fromHex('00112233445566778899AABBCCDDEEFF');
  const keys = { enc: k, mac: k, dek: k };
  const r = await sc(p, ch, putKeySet(ch, 0, 0x30, [k, k, k]));
  assert.deepEqual(r, { data: '30' + toHex(kcvFor(0x88, k)).repeat(3), sw: 0x9000 });
  const s03 = await scp03(p, SSD1, 0x01, keys, 0x30);
  assert.equal((await sc(p, s03, '80CA00D300')).sw, 0x9000);
});

test('RSA-2048: PUT KEY with extended length, GENERATE KEY PAIR with extended Le and with short Le (61xx, GET RESPONSE), SCP10 i=02', async () => {
  const p = await provision(2, 2048);
  assert.equal(p.generated.length, (4 + 256 + 5) * 2);
  // Short Le: 256 bytes then 6109, fetched by GET RESPONSE (the transport's withGetResponse).
  const ch = await openScp10(p, { level: 0x01 });
  const g = await sc(p, ch, generateRsa(2048, 2, 0, 0x11, false));
  assert.equal(g.sw, 0x9000);
  parsePublic(g.data, 256);
  const last = p.responses[p.responses.length - 1]!;
  assert.equal(toHex(last.subarray(last.length - 2)), '9000');
  assert.ok(p.responses.some((x) => toHex(x.subarray(x.length - 2)).startsWith('61')));
  assert.deepEqual(await sc(p, ch, '80CA00D300'), { data: 'D30181', sw: 0x9000 });
});

test('the private key never leaves the card; key information lists RSA keys with types and lengths', async () => {
  const p = await provision(2);
  const ch = await openScp10(p);
  const kit = await sc(p, ch, '80CA00E000');
  assert.equal(kit.sw, 0x9000);
  // E0 { C0 { 10 01 A1 80 A0 03 } C0 { 11 01 A2 80 A3 80 } }
  assert.equal(kit.data, 'E010C0061001A180A003C0061101A280A380');
  const priv = sdState(p.card).keys.find((k) => k.type === 0xa2)!;
  const jwk = createPrivateKey({ key: Buffer.from(priv.value, 'hex'), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  // d, p, q and the CRT exponents appear in no response (the PKCS#8 value also holds the public modulus).
  const secrets = [jwk.d!, jwk.p!, jwk.q!, jwk.dp!, jwk.dq!, jwk.qi!].map((b) => Buffer.from(b, 'base64url').toString('hex').toUpperCase());
  const all = p.responses.map(toHex).join('|');
  assert.ok(all.includes(toHex(rsaPublicNumbers(p.sdKey.publicKey).modulus)));
  for (const s of secrets) assert.ok(!all.includes(s.slice(0, 32)));
});

test('SCP10 keys persist: a card restored from its JSON state opens SCP10 (with and without a certificate)', async () => {
  const p = await provision(1);
  const copy = SimulatedCard.fromState(p.card.serialize(), p.card.catalogue, { random: counterRandom(7) });
  const q: Provisioned = { ...p, ...rig(copy) };
  const ch = await openScp10(q);
  const g = await sc(q, ch, generateRsa(1024, 2));
  const pub = parsePublic(g.data, 128);
  const cert = scp10.issueCertificate({ issuerId: CA_ID, subjectId: SD_SUBJECT, subjectKey: pub.key, scheme: 'pkcs1' }, p.tp.privateKey);
  for (const c of storeCertificate(cert, 0x11, 2)) assert.equal((await sc(q, ch, c)).sw, 0x9000);
  const json = q.card.serialize();
  const again = SimulatedCard.fromState(json, q.card.catalogue, { random: counterRandom(9) });
  assert.equal(again.serialize(), json);
  const z: Provisioned = { ...q, ...rig(again) };
  const s = await openScp10(z, { trustPointIn: { id: CA_ID, publicKey: p.tp.publicKey } });
  assert.equal((await sc(z, s, '80CA00D300')).sw, 0x9000);
});

test('card state files with bad RSA keys are refused (CardStateError)', async () => {
  const p = await provision(2);
  const good = JSON.parse(p.card.serialize());
  type K = Record<string, unknown>;
  const sdOf = (st: { apps: { aid: string; securityDomain: Record<string, unknown> & { keys: K[] } }[] }) => st.apps.find((a) => a.aid === SSD1)!.securityDomain;
  const tpOf = (st: typeof good) => sdOf(st).keys.find((k) => k['kid'] === 0x10)!;
  const skOf = (st: typeof good) => sdOf(st).keys.find((k) => k['kid'] === 0x11)!;
  const mutations: ((st: typeof good) => void)[] = [
    (st) => { tpOf(st)['exponent'] = '010000'; }, // even exponent
    (st) => { delete tpOf(st)['exponent']; },
    (st) => { tpOf(st)['value'] = '7F' + (tpOf(st)['value'] as string).slice(2); }, // top bit clear
    (st) => { tpOf(st)['value'] = (tpOf(st)['value'] as string).slice(2); }, // 127 bytes
    (st) => { skOf(st)['value'] = (skOf(st)['value'] as string).slice(0, -2); }, // truncated PKCS#8
    (st) => { skOf(st)['exponent'] = '03'; },
    (st) => { skOf(st)['certificate'] = '4201FF'; }, // not a '7F21'
    (st) => { skOf(st)['param'] = 0; },
    (st) => { sdOf(st)['i'] = 3; }, // SCP10 i=03
    (st) => { sdOf(st)['keyLog'] = [{ event: 'generate', kvn: 1, kid: 0x11, publicKey: '00'.repeat(128), exponent: '010001' }]; },
  ];
  for (const m of mutations) {
    const st = structuredClone(good);
    m(st);
    assert.throws(() => SimulatedCard.fromState(JSON.stringify(st)), (e: unknown) => (e as { code?: string }).code === 'INVALID_STATE', m.toString());
  }
  assert.equal(SimulatedCard.fromState(JSON.stringify(good)).serialize(), p.card.serialize());
});

test('refusals: wrong trust point (PSO 6300), unsupported option (9484), SD without keys (6A88), state unchanged', async () => {
  const p = await provision(2);
  const before = p.card.serialize();
  // An OCE certificate from another CA key: PSO 6300; GET CHALLENGE then finds no initiation (6985).
  const rogue = scp10.issueCertificate({ issuerId: CA_ID, subjectId: OCE_ID, subjectKey: p.oce.publicKey, scheme: 'pkcs1' }, pair('rogue', 1024).privateKey);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(p, scp10.buildManageSecurityEnvironment({ i: 2 }))).sw, 0x9000);
  assert.equal((await rawSend(p, scp10.buildVerifyCertificate(rogue))).sw, 0x6300);
  assert.equal((await rawSend(p, scp10.buildGetChallenge())).sw, 0x6985);
  // MSE '83' naming another trust point id than the certificate's issuer: PSO 6300.
  assert.equal((await rawSend(p, scp10.buildManageSecurityEnvironment({ i: 2, publicKeyRef: fromHex('0102030405060708') }))).sw, 0x9000);
  assert.equal((await rawSend(p, scp10.buildVerifyCertificate(p.oceCert))).sw, 0x6300);
  // This SD runs option 02 only.
  assert.equal((await rawSend(p, scp10.buildManageSecurityEnvironment({ i: 1 }))).sw, 0x9484);
  // SCP10 commands with a GP class or secure messaging: 6E00.
  assert.equal((await rawSend(p, '80220000')).sw, 0x6e00);
  assert.equal((await rawSend(p, '0C84000000')).sw, 0x6e00);
  // EXTERNAL AUTHENTICATE without an initiation: 6985.
  assert.equal((await rawSend(p, '0082000004' + '00000000')).sw, 0x6985);
  assert.equal(p.card.serialize(), before);
  // An SCP10 SD without PK.TP_EX.AUT / SK.SD.AUT yet: 6A88.
  const r = rig();
  const isd = await scp03(r, ISD);
  assert.equal((await sc(r, isd, installSsd(SSD1, [], { id: 0x10, i: 1 }))).sw, 0x9000);
  // SCP10 'i' other than 01 / 02: INSTALL refused (6A80).
  assert.equal((await sc(r, isd, installSsd('A000000151535344534402', [], { id: 0x10, i: 3 }))).sw, 0x6a80);
  assert.equal((await rawSend(r, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(r, scp10.buildManageSecurityEnvironment({ i: 1 }))).sw, 0x6a88);
  assert.equal((await rawSend(r, '80CA7F2100')).sw, 0x6a88);
});

test('SCP10 commands in an SCP03-only SD are not SCP10 (6D00 / 6E00)', async () => {
  const r = rig();
  assert.equal((await rawSend(r, select(ISD))).sw, 0x9000);
  assert.equal((await rawSend(r, scp10.buildManageSecurityEnvironment({ i: 2 }))).sw, 0x6d00);
  assert.equal((await rawSend(r, scp10.buildVerifyCertificate(new Uint8Array(8)))).sw, 0x6d00);
  assert.equal((await rawSend(r, scp10.buildGetChallenge())).sw, 0x6d00);
  assert.equal((await rawSend(r, '0082000004' + '00000000')).sw, 0x6e00);
  assert.equal((await rawSend(r, '0088000004' + '00000000' + '00')).sw, 0x6d00);
  assert.equal((await rawSend(r, '80CA7F2100')).sw, 0x6a88);
});

test('GENERATE KEY PAIR, PUT KEY and STORE DATA refusals with exact status words; state unchanged', async () => {
  const p = await provision(2);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  const ssd = await scp03(p, SSD1);
  const before = p.card.serialize();
  assert.equal((await sc(p, ssd, generateRsa(0x0300))).sw, 0x6a80, 'RSA-768');
  assert.equal((await sc(p, ssd, generateRsa(1024, 1))).sw, 0x6a80, 'key 1/11 exists');
  assert.equal((await sc(p, ssd, generateRsa(1024, 2, 0, 0x13))).sw, 0x6a86, 'KID 13 is not SK.SD.AUT');
  assert.equal((await sc(p, ssd, generateRsa(1024, 2, 5))).sw, 0x6a88, 'no key 5/11 to replace');
  assert.equal((await sc(p, ssd, '80F1001104020F010000')).sw, 0x6a80, 'malformed data');
  assert.equal((await sc(p, ssd, '80F1001104' + '02F00100' + '00')).sw, 0x6985, 'ECC in an SCP10 SD');
  const tp = rsaPublicNumbers(p.tp.publicKey);
  const bad = (modulus: Uint8Array, exponent = tp.exponent, kid = 0x10) => putTrustPoint({ modulus, exponent }, kid, 2);
  assert.equal((await sc(p, ssd, bad(tp.modulus.subarray(1)))).sw, 0x6a80, '127-byte modulus');
  assert.equal((await sc(p, ssd, bad(concat(Uint8Array.of(0x7f), tp.modulus.subarray(1))))).sw, 0x6a80, 'top bit clear');
  assert.equal((await sc(p, ssd, bad(tp.modulus, Uint8Array.of(1, 0, 0)))).sw, 0x6a80, 'even exponent');
  assert.equal((await sc(p, ssd, bad(tp.modulus, Uint8Array.of(1, 0, 0, 0, 1)))).sw, 0x6a80, '5-byte exponent');
  assert.equal((await sc(p, ssd, bad(tp.modulus, tp.exponent, 0x11))).sw, 0x6a80, 'KID 11');
  // Certificates: for another public key 6A80; two certificates 6A80; for a key that does not exist 6A88.
  const other = scp10.issueCertificate({ issuerId: CA_ID, subjectId: SD_SUBJECT, subjectKey: pair('other', 1024).publicKey, scheme: 'pkcs1' }, p.tp.privateKey);
  const mine = scp10.issueCertificate({ issuerId: CA_ID, subjectId: SD_SUBJECT, subjectKey: p.sdKey.publicKey, scheme: 'pkcs1' }, p.tp.privateKey);
  const blocks = (v: Uint8Array, kid = 0x11) => storeCertificate(v, kid);
  for (const [v, kid, sw] of [[other, 0x11, 0x6a80], [concat(mine, mine), 0x11, 0x6a80], [mine, 0x15, 0x6a88], [mine.subarray(0, 40), 0x11, 0x6a80]] as const) {
    const cs = blocks(v, kid);
    for (const [n, c] of cs.entries()) assert.equal((await sc(p, ssd, c)).sw, n === cs.length - 1 ? sw : 0x9000);
  }
  assert.equal(p.card.serialize(), before);
  // RSA key generation in an SCP11 SD, RSA trust point in an SCP11 SD.
  const r = rig();
  const isd = await scp03(r, ISD);
  assert.equal((await sc(r, isd, installSsd(SSD1, [], { id: 0x11, i: 0x13 }))).sw, 0x9000);
  const s11 = await scp03(r, SSD1);
  assert.equal((await sc(r, s11, generateRsa(1024))).sw, 0x6985);
  assert.equal((await sc(r, s11, putTrustPoint(p.tp.publicKey))).sw, 0x6a80);
  // ... and in the SCP03 ISD.
  const isd2 = await scp03(r, ISD);
  assert.equal((await sc(r, isd2, generateRsa(1024))).sw, 0x6985);
  assert.equal((await sc(r, isd2, putTrustPoint(p.tp.publicKey))).sw, 0x6a80);
});

test('the old SK.SD.AUT no longer opens the SD once a certified pair replaced it; SCP10 without C-MAC cannot generate (6982)', async () => {
  const p = await provision(2);
  const ch = await openScp10(p, { level: 0x00 });
  assert.equal((await sc(p, ch, generateRsa(1024, 2, KVN))).sw, 0x6982);
  const ch2 = await openScp10(p, { level: 0x01 });
  const g = await sc(p, ch2, generateRsa(1024, 2, KVN));
  assert.equal(g.sw, 0x9000);
  // The host still using the old PK.SD.AUT: PSO [decipher] cannot be decrypted (6A80).
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(p, scp10.buildManageSecurityEnvironment({ i: 2 }))).sw, 0x9000);
  assert.equal((await rawSend(p, scp10.buildVerifyCertificate(p.oceCert))).sw, 0x9000);
  const init = scp10.beginInitiation({ i: 2, level: 0x01, oceId: OCE_ID, ocePrivateKey: p.oce.privateKey, card: p.sdKey, random: rnd });
  assert.equal((await rawSend(p, init.decipherCommand!)).sw, 0x6a80);
});
