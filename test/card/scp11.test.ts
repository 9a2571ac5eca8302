/**
 * SCP11 in the simulator (GP Amendment F v1.4): an SSD installed with '81' = 11 xx holds PK.CA-KLOC.ECDSA
 * (PUT KEY 'B0' + 'F0'), generates SK.SD.ECKA on card (proprietary GENERATE KEY PAIR, INS 'F1'), stores its
 * CERT.SD.ECKA (STORE DATA 'A6' { '83' } 'BF21'), and opens SCP11a/b/c — all through the host side over an
 * InProcessChannel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concat, fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import { encodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import { buildGetStatus, buildPutKey, buildStoreDataBlocks } from '../../src/gp/index.ts';
import { openSecureChannel, type HostSecureChannel } from '../../src/scp/index.ts';
import {
  bcdDate,
  beginScp11,
  buildPerformSecurityOperations,
  completeScp11,
  KEY_USAGE_KEY_AGREEMENT,
  parseCertificates,
  signCertificate,
  verifyChain,
  type GpCertificate,
  type Scp11Variant,
} from '../../src/scp/scp11/index.ts';
import { generateKeyPair, type EcKeyPair, type EcPublicKey } from '../../src/crypto/index.ts';
import { createCard, SimulatedCard } from '../../src/card/index.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import { counterRandom, installSsd, KEYS40, SSD1 } from './helpers.ts';

const CURVE = 'P-256';
const KVN = 0x01;
/** Scp11I: 11a | 11b | 11c. */
const I_ABC = 0x13;
const base = { effectiveDate: bcdDate('20240101'), expirationDate: bcdDate('20391231') };

interface Rig {
  card: SimulatedCard;
  io: InProcessChannel;
  /** Every response the card gave. */
  responses: Uint8Array[];
}

function rig(card = createCard({ random: counterRandom() })): Rig {
  const responses: Uint8Array[] = [];
  const io = new InProcessChannel(card, { onExchange: (_c, r) => responses.push(r) });
  return { card, io, responses };
}

async function rawSend(r: Rig, apdu: Uint8Array | string): Promise<{ data: string; sw: number }> {
  const res = decodeResponse(await r.io.transmit(typeof apdu === 'string' ? fromHex(apdu) : apdu));
  return { data: toHex(res.data), sw: res.sw };
}

async function sc(r: Rig, ch: HostSecureChannel, c: CommandApdu | string): Promise<{ data: string; sw: number }> {
  const plain = typeof c === 'string' ? fromHex(c) : encodeCommand(c);
  const res = decodeResponse(ch.unwrapResponse(await r.io.transmit(ch.wrapCommand(plain))));
  return { data: toHex(res.data), sw: res.sw };
}

function select(aid: string): string {
  return `00A40400${(aid.length / 2).toString(16).padStart(2, '0')}${aid}00`;
}

async function scp03(r: Rig, aid: string, level = 0x01): Promise<HostSecureChannel> {
  assert.equal((await rawSend(r, select(aid))).sw, 0x9000);
  return openSecureChannel((apdu) => r.io.transmit(apdu), { keys: KEYS40, level, hostChallenge: fromHex('0102030405060708') });
}

function caKlocPutKey(ch: HostSecureChannel, ca: EcPublicKey, kid = 0x10): CommandApdu {
  return buildPutKey(
    {
      replaceKvn: 0,
      newKvn: KVN,
      keyId: kid,
      keys: [{ components: [{ type: 0xb0, value: ca.point }, { type: 0xf0, value: Uint8Array.of(0x00) }], kcv: new Uint8Array(0) }],
    },
    (p) => ch.encryptKeyData(p),
  );
}

function generate(kid: number, kvn = KVN, replace = 0, ref = 0x00): string {
  return `80F1${replace.toString(16).padStart(2, '0')}${kid.toString(16).padStart(2, '0')}04${kvn.toString(16).padStart(2, '0')}F001${ref.toString(16).padStart(2, '0')}00`;
}

function storeCertificate(kid: number, chain: readonly GpCertificate[]): CommandApdu[] {
  const data = concat(encodeTlv(0xa6, encodeTlv(0x83, Uint8Array.of(kid, KVN))), encodeTlv(0xbf21, concat(...chain.map((c) => c.encoded))));
  return buildStoreDataBlocks(data, { format: 'ber' });
}

interface Provisioned extends Rig {
  caKloc: EcKeyPair;
  caKlcc: EcKeyPair;
  oce: EcKeyPair;
  oceCert: GpCertificate;
  /** PK.SD.ECKA by KID, read back from the card's certificates. */
  pkSd: Map<number, EcPublicKey>;
}

function oceCertificate(oce: EcKeyPair, ca: EcKeyPair): GpCertificate {
  return signCertificate(
    { serialNumber: fromHex('01'), caId: fromHex('C0C0C0'), subjectId: fromHex('0102030405'), keyUsage: KEY_USAGE_KEY_AGREEMENT, ...base, publicKey: { curve: CURVE, point: oce.publicKey } },
    ca,
  );
}

/** ISD creates the SCP11 SSD; its initial keys load CA-KLOC, generate SK.SD.ECKA 11/13/15, store their certificates. */
async function provision(kids: readonly number[] = [0x11, 0x13, 0x15]): Promise<Provisioned> {
  const r = rig();
  const isd = await scp03(r, 'A000000151000000');
  assert.equal((await sc(r, isd, installSsd(SSD1, ['GlobalRegistry'], { id: 0x11, i: I_ABC }))).sw, 0x9000);
  const caKloc = generateKeyPair(CURVE);
  const caKlcc = generateKeyPair(CURVE);
  const oce = generateKeyPair(CURVE);
  const ssd = await scp03(r, SSD1);
  assert.deepEqual(await sc(r, ssd, caKlocPutKey(ssd, { curve: CURVE, point: caKloc.publicKey })), { data: '01', sw: 0x9000 });
  const pkSd = new Map<number, EcPublicKey>();
  for (const kid of kids) {
    const g = await sc(r, ssd, generate(kid));
    assert.equal(g.sw, 0x9000);
    assert.equal(g.data.slice(0, 4), 'B041');
    const point = fromHex(g.data.slice(4));
    const cert = signCertificate(
      { serialNumber: Uint8Array.of(kid), caId: fromHex('C1C1'), subjectId: fromHex('47524F5550'), keyUsage: KEY_USAGE_KEY_AGREEMENT, ...base, publicKey: { curve: CURVE, point } },
      caKlcc,
    );
    for (const c of storeCertificate(kid, [cert])) assert.equal((await sc(r, ssd, c)).sw, 0x9000);
    // Read CERT.SD.ECKA back (GET DATA 'BF21') and verify it against PK.CA-KLCC.
    const got = await sc(r, ssd, `80CABF2106A6048302${kid.toString(16)}${KVN.toString(16).padStart(2, '0')}00`);
    assert.equal(got.sw, 0x9000);
    assert.equal(got.data, toHex(encodeTlv(0xbf21, cert.encoded)));
    const leaf = verifyChain(parseCertificates(fromHex(got.data).subarray(4)), { curve: CURVE, point: caKlcc.publicKey });
    pkSd.set(kid, leaf.publicKey);
  }
  return { ...r, caKloc, caKlcc, oce, oceCert: oceCertificate(oce, caKloc), pkSd };
}

async function openScp11(p: Provisioned, variant: Scp11Variant, oceCert = p.oceCert, oce = p.oce): Promise<HostSecureChannel> {
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  if (variant !== '11b') {
    for (const c of buildPerformSecurityOperations([oceCert.encoded], { kvn: KVN, kid: 0x10 })) assert.equal((await rawSend(p, c)).sw, 0x9000);
  }
  const kid = variant === '11a' ? 0x11 : variant === '11b' ? 0x13 : 0x15;
  const session = beginScp11({ variant, pkSdEcka: p.pkSd.get(kid)!, kvn: KVN, ...(variant !== '11b' ? { skOceEcka: oce.privateKey } : {}) });
  return completeScp11(session, await p.io.transmit(session.command));
}

const GET_STATUS = buildGetStatus({ scope: 0x40, aid: new Uint8Array(0) });

test('SCP11a/b/c (Amendment F §7.5–§7.7) on an SSD with on-card keys: GET STATUS inside each session', async () => {
  const p = await provision();
  for (const variant of ['11a', '11c', '11b'] as const) {
    const ch = await openScp11(p, variant);
    const st = await sc(p, ch, GET_STATUS);
    assert.equal(st.sw, 0x9000, variant);
    assert.match(st.data, new RegExp(`^E3..4F0B${SSD1}`), variant);
    // Current security level: C-MAC | C-DEC | R-MAC | R-ENC (KUQ '3C').
    assert.deepEqual(await sc(p, ch, '80CA00D300'), { data: 'D301B3', sw: 0x9000 }, variant);
  }
});

test('SCP11a removes the initial SCP03 key set; SCP11b sessions cannot manage keys (6982)', async () => {
  const p = await provision();
  await openScp11(p, '11a');
  // The issuer's initial key set 'FF' is gone: INITIALIZE UPDATE finds no key (6A88).
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(p, '80500000080102030405060708'+'00')).sw, 0x6a88);
  const before = p.card.serialize();
  const b = await openScp11(p, '11b');
  assert.equal((await sc(p, b, generate(0x11, 2))).sw, 0x6982);
  assert.equal((await sc(p, b, caKlocPutKey(b, { curve: CURVE, point: p.caKloc.publicKey }, 0x20))).sw, 0x6982);
  assert.equal(p.card.serialize(), before);
});

test('GENERATE KEY PAIR replaces SK.SD.ECKA inside an SCP11a session; the old certificate is dropped', async () => {
  const p = await provision([0x11]);
  const a = await openScp11(p, '11a');
  const g = await sc(p, a, generate(0x11, 2, KVN));
  assert.equal(g.sw, 0x9000);
  const state = JSON.parse(p.card.serialize());
  const sd = state.apps.find((x: { aid: string }) => x.aid === SSD1).securityDomain;
  const k = sd.keys.find((x: { kid: number; kvn: number }) => x.kid === 0x11);
  assert.deepEqual([k.kvn, k.type, k.param, k.certificate], [2, 0xb1, 0, undefined]);
  assert.equal(sd.keys.filter((x: { kid: number }) => x.kid === 0x11).length, 1);
  assert.deepEqual(sd.keyLog.map((e: { kvn: number; kid: number; publicKey: string }) => [e.kvn, e.kid, e.publicKey]), [
    [1, 0x11, toHex(p.pkSd.get(0x11)!.point)],
    [2, 0x11, g.data.slice(4)],
  ]);
  // No certificate yet for the new key: GET DATA 'BF21' answers 6A88.
  assert.equal((await sc(p, a, '80CABF2106A6048302110200')).sw, 0x6a88);
});

test('the private key never leaves the card: no response carries it; key information shows lengths only', async () => {
  const p = await provision();
  const ch = await openScp11(p, '11a');
  const kit = await sc(p, ch, '80CA00E000');
  assert.equal(kit.sw, 0x9000);
  // E0 { C0 { KID 10 KVN 01 B0 41 F0 01 } C0 { KID 11 KVN 01 B1 20 F0 01 } … }
  assert.ok(kit.data.includes('C0061001B041F001'));
  assert.ok(kit.data.includes('C0061101B120F001'));
  const state = JSON.parse(p.card.serialize());
  const privs: string[] = state.apps.find((x: { aid: string }) => x.aid === SSD1).securityDomain.keys
    .filter((k: { type: number }) => k.type === 0xb1)
    .map((k: { value: string }) => k.value);
  assert.equal(privs.length, 3);
  const all = p.responses.map(toHex).join('|');
  for (const v of privs) assert.ok(!all.includes(v));
});

test('SCP11 keys persist: a card restored from its JSON state opens SCP11a', async () => {
  const p = await provision([0x11]);
  const copy = SimulatedCard.fromState(p.card.serialize(), p.card.catalogue, { random: counterRandom(7) });
  const q: Provisioned = { ...p, ...rig(copy) };
  const ch = await openScp11(q, '11a');
  assert.equal((await sc(q, ch, GET_STATUS)).sw, 0x9000);
});

test('refusals leave the state unchanged: wrong CA (6600), no CA-KLOC / no SK.SD.ECKA (6A88), generation outside a session (6982)', async () => {
  const p = await provision([0x11]);
  const before = p.card.serialize();
  // OCE certificate from another CA: PSO 6600, then MUTUAL AUTHENTICATE has no PK.OCE.ECKA (6985).
  const other = generateKeyPair(CURVE);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  const [pso] = buildPerformSecurityOperations([oceCertificate(p.oce, other).encoded], { kvn: KVN, kid: 0x10 });
  assert.equal((await rawSend(p, pso!)).sw, 0x6600);
  const s1 = beginScp11({ variant: '11a', pkSdEcka: p.pkSd.get(0x11)!, kvn: KVN, skOceEcka: p.oce.privateKey });
  assert.equal(decodeResponse(await p.io.transmit(s1.command)).sw, 0x6985);
  // PSO naming a CA-KLOC the SD does not hold (KID '20'): 6A88.
  const [pso2] = buildPerformSecurityOperations([p.oceCert.encoded], { kvn: KVN, kid: 0x20 });
  assert.equal((await rawSend(p, pso2!)).sw, 0x6a88);
  // SCP11c with no SK.SD.ECKA '15': 6A88.
  for (const c of buildPerformSecurityOperations([p.oceCert.encoded], { kvn: KVN, kid: 0x10 })) assert.equal((await rawSend(p, c)).sw, 0x9000);
  const s2 = beginScp11({ variant: '11c', pkSdEcka: p.pkSd.get(0x11)!, kvn: KVN, skOceEcka: p.oce.privateKey });
  assert.equal(decodeResponse(await p.io.transmit(s2.command)).sw, 0x6a88);
  // GENERATE KEY PAIR without a session: 6982.
  assert.equal((await rawSend(p, generate(0x13))).sw, 0x6982);
  assert.equal(p.card.serialize(), before);
});

test('GENERATE KEY PAIR and PUT KEY refusals (6A80 / 6A86 / 6A88 / 6985), state unchanged', async () => {
  const p = await provision([0x11]);
  const a = await openScp11(p, '11a');
  const before = p.card.serialize();
  assert.equal((await sc(p, a, generate(0x11))).sw, 0x6a80, 'key 1/11 exists');
  assert.equal((await sc(p, a, generate(0x12))).sw, 0x6a86, 'KID 12 is not an SK.SD.ECKA');
  assert.equal((await sc(p, a, generate(0x13, KVN, 0x05))).sw, 0x6a88, 'no key 5/13 to replace');
  assert.equal((await sc(p, a, generate(0x13, KVN, 0, 0x09))).sw, 0x6a80, 'unknown curve');
  // A point not on the curve; an ECC key under a KID that is no trust anchor.
  const bad = fromHex('04' + '11'.repeat(64));
  assert.equal((await sc(p, a, caKlocPutKey(a, { curve: CURVE, point: bad }, 0x20))).sw, 0x6a80);
  assert.equal((await sc(p, a, caKlocPutKey(a, { curve: CURVE, point: p.caKloc.publicKey }, 0x30))).sw, 0x6a80);
  assert.equal(p.card.serialize(), before);
  // A certificate for another key: 6A80; for a key that does not exist: 6A88.
  const stranger = signCertificate(
    { serialNumber: fromHex('09'), caId: fromHex('C1C1'), subjectId: fromHex('01'), keyUsage: KEY_USAGE_KEY_AGREEMENT, ...base, publicKey: { curve: CURVE, point: generateKeyPair(CURVE).publicKey } },
    p.caKlcc,
  );
  assert.equal((await sc(p, a, storeCertificate(0x11, [stranger])[0]!)).sw, 0x6a80);
  assert.equal((await sc(p, a, storeCertificate(0x15, [stranger])[0]!)).sw, 0x6a88);
  assert.equal(p.card.serialize(), before);
  // An SCP03 SD does not generate ECC keys (6985).
  const r = rig();
  const isd = await scp03(r, 'A000000151000000');
  assert.equal((await sc(r, isd, generate(0x11))).sw, 0x6985);
});

test("ICCID (GET DATA '5A', ISD only, no session) and SELECT of an SSD AID: 9000 when it exists, 6A82 when not", async () => {
  const r = rig(createCard({ random: counterRandom(), iccid: fromHex('98001032547698103214') }));
  assert.equal((await rawSend(r, select('A000000151000000'))).sw, 0x9000);
  assert.deepEqual(await rawSend(r, '80CA005A00'), { data: '5A0A98001032547698103214', sw: 0x9000 });
  assert.deepEqual(await rawSend(r, '00CA005A00'), { data: '98001032547698103214', sw: 0x9000 });
  assert.equal((await rawSend(r, select(SSD1))).sw, 0x6a82);
  const isd = await scp03(r, 'A000000151000000');
  assert.equal((await sc(r, isd, installSsd(SSD1, [], { id: 0x11, i: I_ABC }))).sw, 0x9000);
  assert.equal((await rawSend(r, select(SSD1))).sw, 0x9000);
  // The SSD does not expose the ICCID (6A88); a card without one answers 6A88 on the ISD too.
  assert.equal((await rawSend(r, '80CA005A00')).sw, 0x6a88);
  const none = rig(createCard({ random: counterRandom(), iccid: new Uint8Array(0) }));
  assert.equal((await rawSend(none, select('A000000151000000'))).sw, 0x9000);
  assert.equal((await rawSend(none, '80CA005A00')).sw, 0x6a88);
});

test('a replayed SCP11c MUTUAL AUTHENTICATE is refused (6A80), also after a new selection', async () => {
  const p = await provision([0x15]);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  const psos = buildPerformSecurityOperations([p.oceCert.encoded], { kvn: KVN, kid: 0x10 });
  for (const c of psos) assert.equal((await rawSend(p, c)).sw, 0x9000);
  const s = beginScp11({ variant: '11c', pkSdEcka: p.pkSd.get(0x15)!, kvn: KVN, skOceEcka: p.oce.privateKey });
  assert.equal(decodeResponse(await p.io.transmit(s.command)).sw, 0x9000);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  for (const c of psos) assert.equal((await rawSend(p, c)).sw, 0x9000);
  assert.equal(decodeResponse(await p.io.transmit(s.command)).sw, 0x6a80);
});

test('card state files with bad ECC keys are refused (CardStateError)', async () => {
  const p = await provision([0x11]);
  const good = JSON.parse(p.card.serialize());
  const sdOf = (st: { apps: { aid: string; securityDomain: { keys: Record<string, unknown>[] } }[] }) => st.apps.find((a) => a.aid === SSD1)!.securityDomain;
  const mutations: ((k: Record<string, unknown>) => void)[] = [
    (k) => { k['value'] = (k['value'] as string).slice(2); }, // 31-byte P-256 private key
    (k) => { k['param'] = 0x09; }, // unknown curve
    (k) => { delete k['param']; },
    (k) => { k['type'] = 0x88; }, // AES key with a certificate
  ];
  for (const m of mutations) {
    const st = structuredClone(good);
    m(sdOf(st).keys.find((k) => k['kid'] === 0x11)!);
    assert.throws(() => SimulatedCard.fromState(JSON.stringify(st)), (e: unknown) => (e as { code?: string }).code === 'INVALID_STATE');
  }
});

// ---- CA identifiers and allowlist (Amendment F v1.4 §7.5.1, §7.9–§7.10; issue 8 §5) ----

function storeCaId(kind: 0 | 1, id: string, kid: number, kvn = KVN): CommandApdu[] {
  const a6 = encodeTlv(0xa6, concat(encodeTlv(0x80, Uint8Array.of(kind)), encodeTlv(0x42, fromHex(id)), encodeTlv(0x83, Uint8Array.of(kid, kvn))));
  return buildStoreDataBlocks(a6, { format: 'ber' });
}

function storeAllowlist(serials: readonly string[], kid = 0x10, kvn = KVN): CommandApdu[] {
  const data = concat(encodeTlv(0xa6, encodeTlv(0x83, Uint8Array.of(kid, kvn))), encodeTlv(0x70, concat(...serials.map((s) => encodeTlv(0x93, fromHex(s))))));
  return buildStoreDataBlocks(data, { format: 'ber' });
}

async function storeAll(p: Provisioned, ch: HostSecureChannel, cmds: readonly CommandApdu[]): Promise<number> {
  let sw = 0;
  for (const c of cmds) sw = (await sc(p, ch, c)).sw;
  return sw;
}

test('STORE DATA CA-KLOC identifier: PSO with P1 = 00 finds PK.CA-KLOC.ECDSA by the certificate\'s CA id; persisted', async () => {
  const p = await provision([0x11]);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  const byId = buildPerformSecurityOperations([p.oceCert.encoded], { kvn: 0, kid: 0 });
  assert.equal((await rawSend(p, byId[0]!)).sw, 0x6a88, 'no CA-KLOC identifier stored yet');
  const ssd = await scp03(p, SSD1);
  assert.equal(await storeAll(p, ssd, storeCaId(0, 'C0C0C0', 0x10)), 0x9000);
  const state = JSON.parse(p.card.serialize());
  const sd = state.apps.find((x: { aid: string }) => x.aid === SSD1).securityDomain;
  assert.equal(sd.keys.find((k: { kid: number }) => k.kid === 0x10).caId, 'C0C0C0');
  // Reloaded from its state, the card still knows it.
  const reloaded = rig(SimulatedCard.fromState(p.card.serialize(), undefined, { random: counterRandom(7) }));
  reloaded.card.powerOn();
  const q = { ...p, ...reloaded };
  assert.equal((await rawSend(q, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(q, byId[0]!)).sw, 0x9000);
  const session = beginScp11({ variant: '11a', pkSdEcka: p.pkSd.get(0x11)!, kvn: KVN, skOceEcka: p.oce.privateKey });
  const ch = await completeScp11(session, await q.io.transmit(session.command));
  assert.equal((await sc(q, ch, GET_STATUS)).sw, 0x9000);
});

test('STORE DATA CA-KLCC identifier: MUTUAL AUTHENTICATE with P1 = 00 finds SK.SD.ECKA by it', async () => {
  const p = await provision([0x11]);
  const ssd = await scp03(p, SSD1);
  assert.equal(await storeAll(p, ssd, storeCaId(1, 'C1C1', 0x11)), 0x9000);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  for (const c of buildPerformSecurityOperations([p.oceCert.encoded], { kvn: KVN, kid: 0x10 })) assert.equal((await rawSend(p, c)).sw, 0x9000);
  const session = beginScp11({ variant: '11a', pkSdEcka: p.pkSd.get(0x11)!, kvn: 0, kid: 0x11, caKlccId: fromHex('C1C1'), skOceEcka: p.oce.privateKey });
  const ch = await completeScp11(session, await p.io.transmit(session.command));
  assert.equal((await sc(p, ch, GET_STATUS)).sw, 0x9000);
});

test('STORE DATA allowlist: a certificate serial not on it → 6640; on it → 9000; empty list removes it; bad forms refused', async () => {
  const p = await provision([0x11]);
  const ssd = await scp03(p, SSD1);
  assert.equal(await storeAll(p, ssd, storeAllowlist(['02', '0303'])), 0x9000);
  const pso = buildPerformSecurityOperations([p.oceCert.encoded], { kvn: KVN, kid: 0x10 });
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(p, pso[0]!)).sw, 0x6640, 'serial 01 is not on the allowlist');
  const ssd2 = await scp03(p, SSD1);
  assert.equal(await storeAll(p, ssd2, storeAllowlist(['02', '01'])), 0x9000);
  const sd = JSON.parse(p.card.serialize()).apps.find((x: { aid: string }) => x.aid === SSD1).securityDomain;
  assert.deepEqual(sd.keys.find((k: { kid: number }) => k.kid === 0x10).allowlist, ['02', '01']);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(p, pso[0]!)).sw, 0x9000);
  const ssd3 = await scp03(p, SSD1);
  const before = p.card.serialize();
  // Hostile forms: a '94' in the list, an unknown key, a private key as anchor, a bad '80', a 21-byte serial.
  for (const [cmds, sw] of [
    [buildStoreDataBlocks(concat(encodeTlv(0xa6, encodeTlv(0x83, Uint8Array.of(0x10, KVN))), encodeTlv(0x70, encodeTlv(0x94, fromHex('01')))), { format: 'ber' }), 0x6a80],
    [storeAllowlist(['01'], 0x20), 0x6a88],
    [storeAllowlist(['01'], 0x11), 0x6a88],
    [buildStoreDataBlocks(encodeTlv(0xa6, concat(encodeTlv(0x80, Uint8Array.of(2)), encodeTlv(0x42, fromHex('01')), encodeTlv(0x83, Uint8Array.of(0x10, KVN)))), { format: 'ber' }), 0x6a80],
    [storeCaId(0, 'C0', 0x11), 0x6a88],
    [storeAllowlist(['00'.repeat(21)]), 0x6a80],
  ] as const) {
    assert.equal(await storeAll(p, ssd3, cmds), sw);
  }
  assert.equal(p.card.serialize(), before, 'refused STORE DATA changed nothing');
  assert.equal(await storeAll(p, ssd3, storeAllowlist([])), 0x9000);
  const after = JSON.parse(p.card.serialize()).apps.find((x: { aid: string }) => x.aid === SSD1).securityDomain;
  assert.equal(after.keys.find((k: { kid: number }) => k.kid === 0x10).allowlist, undefined);
});

test('ISO command chaining of PSO (CLA 90) and of a long STORE DATA inside the SCP11 session (issue 8 §5.3)', async () => {
  const { splitChained } = await import('../../src/apdu/chaining.ts');
  const { decodeCommand } = await import('../../src/apdu/command.ts');
  const { transmitChained } = await import('../../src/scp/index.ts');
  const p = await provision([0x11]);
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  const [pso] = buildPerformSecurityOperations([p.oceCert.encoded], { kvn: KVN, kid: 0x10 });
  const pieces = splitChained(decodeCommand(pso!), 64);
  assert.ok(pieces.length >= 3);
  for (const [n, piece] of pieces.entries()) {
    const apdu = encodeCommand(piece);
    assert.equal(apdu[0], n < pieces.length - 1 ? 0x90 : 0x80);
    assert.equal((await rawSend(p, apdu)).sw, 0x9000);
  }
  const session = beginScp11({ variant: '11a', pkSdEcka: p.pkSd.get(0x11)!, kvn: KVN, skOceEcka: p.oce.privateKey });
  const ch = await completeScp11(session, await p.io.transmit(session.command));
  // A 300-byte STORE DATA (SD Manager URL) as chained short APDUs with CLA 94 … 84, then the session goes on.
  const store = encodeCommand({ cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0x00, data: encodeTlv(0x5f50, new Uint8Array(300).fill(0x41)) });
  assert.equal(toHex(await transmitChained((a) => p.io.transmit(a), ch, store)), '9000');
  const sd = JSON.parse(p.card.serialize()).apps.find((x: { aid: string }) => x.aid === SSD1).securityDomain;
  assert.equal(sd.data['5F50'], '41'.repeat(300));
  assert.equal((await sc(p, ch, GET_STATUS)).sw, 0x9000);
  // A PSO chain interrupted by another PSO header → 6883.
  assert.equal((await rawSend(p, select(SSD1))).sw, 0x9000);
  assert.equal((await rawSend(p, encodeCommand(pieces[0]!))).sw, 0x9000);
  assert.equal((await rawSend(p, encodeCommand({ ...pieces[pieces.length - 1]!, p2: 0x20 }))).sw, 0x6883);
});
