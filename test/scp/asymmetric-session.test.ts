/**
 * openScp11Session / openScp10Session against the simulator (Amendment F v1.4 §7.5–§7.6; GPCS 2.2.1 Appendix F),
 * counting the scripts (OTA round trips) each opener needs. The SSDs are provisioned with the gp builders of
 * src/gp/asymmetric-keys.ts (GENERATE KEY PAIR, PUT KEY trust anchor, STORE DATA certificates).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { continuesScript, type CardChannel } from '../../src/apdu/channel.ts';
import { encodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  buildGenerateEcKeyPair,
  buildGenerateRsaKeyPair,
  buildGetStatus,
  buildPutEcTrustAnchor,
  buildPutRsaTrustPoint,
  buildStoreCertificates,
  parseGeneratedEcPublicKey,
  parseGeneratedRsaPublicKey,
  parseKeyInformationTemplate,
} from '../../src/gp/index.ts';
import { openScp10Session, openScp11Session, openSecureChannel, SecureChannelError, type HostSecureChannel } from '../../src/scp/index.ts';
import { issueCertificate, type TrustedKey } from '../../src/scp/scp10/index.ts';
import { rsaPublicKey, rsaPublicNumbers } from '../../src/crypto/index.ts';
import { ApduError } from '../../src/apdu/errors.ts';
import {
  bcdDate,
  KEY_USAGE_KEY_AGREEMENT,
  signCertificate,
  type GpCertificate,
} from '../../src/scp/scp11/index.ts';
import { generateKeyPair, type EcKeyPair, type EcPublicKey } from '../../src/crypto/index.ts';
import { createCard, type SimulatedCard } from '../../src/card/index.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import { counterRandom, installSsd, KEYS40, SSD1 } from '../card/helpers.ts';

const CURVE = 'P-256';
const ISD = 'A000000151000000';
const base = { effectiveDate: bcdDate('20240101'), expirationDate: bcdDate('20391231') };

/** A transport with scripts (as OTA has), counting them and keeping every exchange. */
class ScriptChannel implements CardChannel {
  scripts = 0;
  readonly exchanges: { command: string; response: string }[] = [];
  readonly #io: InProcessChannel;
  constructor(card: SimulatedCard) {
    this.#io = new InProcessChannel(card, { onExchange: (c, r) => this.exchanges.push({ command: toHex(c), response: toHex(r) }) });
  }
  transmit(command: Uint8Array): Promise<Uint8Array> {
    return this.#io.transmit(command);
  }
  async transmitScript(commands: readonly Uint8Array[]): Promise<Uint8Array[]> {
    this.scripts++;
    const out: Uint8Array[] = [];
    for (const c of commands) {
      const r = await this.#io.transmit(c);
      out.push(r);
      if (!continuesScript((r[r.length - 2]! << 8) | r[r.length - 1]!)) break;
    }
    return out;
  }
}

async function plain(io: CardChannel, apdu: CommandApdu | string): Promise<{ data: string; sw: number }> {
  const r = decodeResponse(await io.transmit(typeof apdu === 'string' ? fromHex(apdu) : encodeCommand(apdu)));
  return { data: toHex(r.data), sw: r.sw };
}

async function sc(io: CardChannel, ch: HostSecureChannel, c: CommandApdu): Promise<{ data: string; sw: number }> {
  const r = decodeResponse(ch.unwrapResponse(await io.transmit(ch.wrapCommand(encodeCommand(c)))));
  return { data: toHex(r.data), sw: r.sw };
}

async function scp03(io: CardChannel, aid: string): Promise<HostSecureChannel> {
  assert.equal((await plain(io, `00A40400${(aid.length / 2).toString(16).padStart(2, '0')}${aid}00`)).sw, 0x9000);
  return openSecureChannel((apdu) => io.transmit(apdu), { keys: KEYS40, level: 0x01, hostChallenge: fromHex('0102030405060708') });
}

function cert(subject: EcPublicKey, ca: EcKeyPair, serial: number): GpCertificate {
  return signCertificate({ serialNumber: Uint8Array.of(serial), caId: fromHex('C0C0C0'), subjectId: fromHex('0102030405'), keyUsage: KEY_USAGE_KEY_AGREEMENT, ...base, publicKey: subject }, ca);
}

interface Scp11Rig {
  card: SimulatedCard;
  io: ScriptChannel;
  caKloc: EcKeyPair;
  caKlcc: EcKeyPair;
  oce: EcKeyPair;
  oceCert: GpCertificate;
  /** PK.SD.ECKA by KID as GENERATE KEY PAIR answered it. */
  pkSd: Map<number, EcPublicKey>;
}

/** The issuer's part: SCP11 SSD, CA-KLOC by PUT KEY, SK.SD.ECKA '11' and '15' generated on card, CERT.SD.ECKA stored. */
async function provisionScp11(options: { storeCertificates?: boolean } = {}): Promise<Scp11Rig> {
  const card = createCard({ random: counterRandom() });
  const io = new ScriptChannel(card);
  const isd = await scp03(io, ISD);
  assert.equal((await sc(io, isd, installSsd(SSD1, ['GlobalRegistry'], { id: 0x11, i: 0x13 }))).sw, 0x9000);
  const caKloc = generateKeyPair(CURVE);
  const caKlcc = generateKeyPair(CURVE);
  const oce = generateKeyPair(CURVE);
  const ssd = await scp03(io, SSD1);
  assert.deepEqual(await sc(io, ssd, buildPutEcTrustAnchor({ kvn: 1, kid: 0x10, curveReference: 0x00, point: caKloc.publicKey })), { data: '01', sw: 0x9000 });
  const pkSd = new Map<number, EcPublicKey>();
  for (const kid of [0x11, 0x15]) {
    const g = await sc(io, ssd, buildGenerateEcKeyPair({ kvn: 1, kid, curveReference: 0x00 }));
    assert.equal(g.sw, 0x9000);
    const point = parseGeneratedEcPublicKey(fromHex(g.data));
    pkSd.set(kid, { curve: CURVE, point });
    if (options.storeCertificates !== false) {
      for (const c of buildStoreCertificates({ kid, kvn: 1, certificates: [cert({ curve: CURVE, point }, caKlcc, kid).encoded] })) assert.equal((await sc(io, ssd, c)).sw, 0x9000);
    }
  }
  io.scripts = 0;
  io.exchanges.length = 0;
  return { card, io, caKloc, caKlcc, oce, oceCert: cert({ curve: CURVE, point: oce.publicKey }, caKloc, 1), pkSd };
}

function scp11Options(r: Scp11Rig, variant: '11a' | '11c', card: 'pinned' | 'anchor', extra: Partial<Parameters<typeof openScp11Session>[1]> = {}): Parameters<typeof openScp11Session>[1] {
  const kid = variant === '11a' ? 0x11 : 0x15;
  return {
    sdAid: fromHex(SSD1),
    variant,
    level: 0x33,
    sdKey: { kvn: 1, kid },
    caKloc: { kvn: 1, kid: 0x10 },
    oceCertificates: [r.oceCert.encoded],
    ocePrivateKey: r.oce.privateKey,
    curve: CURVE,
    card: card === 'pinned' ? { publicKey: r.pkSd.get(kid)! } : { trustAnchor: { curve: CURVE, point: r.caKlcc.publicKey } },
    ...extra,
  };
}

const GET_STATUS = encodeCommand(buildGetStatus({ scope: 0x40, aid: new Uint8Array(0) }));
const GET_LEVEL = fromHex('80CA00D300');

/** GET STATUS and GET DATA 'D3' in one batch of the session: the SSD lists itself; level 33 → 'D3 01 B3'. */
async function roundTrip(s: Awaited<ReturnType<typeof openScp11Session>>): Promise<void> {
  const [st, lv] = (await s.transmitBatch([GET_STATUS, GET_LEVEL])).map((x) => decodeResponse(x));
  assert.equal(st!.sw, 0x9000);
  assert.match(toHex(st!.data), new RegExp(`^E3..4F0B${SSD1}`));
  assert.deepEqual([toHex(lv!.data), lv!.sw], ['D301B3', 0x9000]);
}

for (const variant of ['11a', '11c'] as const) {
  test(`SCP${variant} with the pinned PK.SD.ECKA: one script (SELECT + PSO + MUTUAL AUTHENTICATE), level 33 round trip`, async () => {
    const r = await provisionScp11();
    const s = await openScp11Session(r.io, scp11Options(r, variant, 'pinned'));
    assert.equal(r.io.scripts, 1);
    assert.deepEqual(r.io.exchanges.map((e) => e.command.slice(0, 8)), [`00A40400`, '802A0110', `80820115`.replace('15', variant === '11a' ? '11' : '15')]);
    assert.deepEqual([s.channel.scp, s.channel.kvn, s.channel.level], [3, 1, 0x33]);
    await roundTrip(s);
    assert.equal(r.io.scripts, 2);
  });

  test(`SCP${variant} with the CA-KLCC trust anchor: two scripts (SELECT + GET DATA 'BF21' | PSO + MUTUAL AUTHENTICATE)`, async () => {
    const r = await provisionScp11();
    const s = await openScp11Session(r.io, scp11Options(r, variant, 'anchor', { today: '20250601' }));
    assert.equal(r.io.scripts, 2);
    const kid = variant === '11a' ? '11' : '15';
    assert.equal(r.io.exchanges[1]!.command, `80CABF2106A6048302${kid}0100`);
    assert.deepEqual(r.io.exchanges.map((e) => e.command.slice(0, 8)), ['00A40400', '80CABF21', '802A0110', `808201${kid}`]);
    await roundTrip(s);
  });

  test(`SCP${variant}: a pinned key the card does not hold → BAD_CARD_CRYPTOGRAM`, async () => {
    const r = await provisionScp11();
    const wrong = { curve: CURVE, point: generateKeyPair(CURVE).publicKey } as const;
    await assert.rejects(openScp11Session(r.io, scp11Options(r, variant, 'pinned', { card: { publicKey: wrong } })), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_CARD_CRYPTOGRAM');
    assert.equal(r.io.scripts, 1);
  });
}

test('SCP11c deferred: no script to open; SELECT + PSO + MUTUAL AUTHENTICATE travel with the first batch', async () => {
  const r = await provisionScp11();
  const s = await openScp11Session(r.io, scp11Options(r, '11c', 'pinned', { deferAuthentication: true }));
  assert.equal(r.io.scripts, 0);
  assert.equal(s.authenticationPending, true);
  await roundTrip(s);
  assert.equal(r.io.scripts, 1);
  assert.deepEqual(r.io.exchanges.map((e) => e.command.slice(0, 8)), ['00A40400', '802A0110', '80820115', '84F24002', '84CA00D3']);
  // With the trust anchor: one script (SELECT + GET DATA), the rest with the first batch.
  const r2 = await provisionScp11();
  const s2 = await openScp11Session(r2.io, scp11Options(r2, '11c', 'anchor', { deferAuthentication: true }));
  assert.equal(r2.io.scripts, 1);
  await roundTrip(s2);
  assert.equal(r2.io.scripts, 2);
});

test('SCP11c deferred with a wrong pinned key: the first batch fails with BAD_CARD_CRYPTOGRAM and the card ran none of its commands', async () => {
  const r = await provisionScp11();
  const wrong = { curve: CURVE, point: generateKeyPair(CURVE).publicKey } as const;
  const s = await openScp11Session(r.io, scp11Options(r, '11c', 'pinned', { deferAuthentication: true, card: { publicKey: wrong } }));
  await assert.rejects(s.transmitBatch([GET_STATUS]), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_CARD_CRYPTOGRAM');
  // MUTUAL AUTHENTICATE answered 9000 with the card's own key; the wrapped GET STATUS did not verify: 6982.
  assert.deepEqual(r.io.exchanges.map((e) => e.response.slice(-4)), ['9000', '9000', '9000', '6982']);
  await assert.rejects(s.transmitBatch([GET_STATUS]), { code: 'NOT_AUTHENTICATED' });
});

test('SCP11a deferAuthentication is a caller mistake (TypeError) before any I/O', async () => {
  const r = await provisionScp11();
  await assert.rejects(openScp11Session(r.io, scp11Options(r, '11a', 'pinned', { deferAuthentication: true })), TypeError);
  await assert.rejects(openScp11Session(r.io, scp11Options(r, '11a', 'pinned', { level: 0x03 })), RangeError);
  await assert.rejects(openScp11Session(r.io, scp11Options(r, '11a', 'pinned', { ocePrivateKey: generateKeyPair(CURVE).privateKey })), TypeError);
  assert.equal(r.io.exchanges.length, 0);
});

test('SCP11: an OCE chain from another CA is refused by PSO (6600), nothing after it runs', async () => {
  for (const variant of ['11a', '11c'] as const) {
    const r = await provisionScp11();
    const rogueCa = generateKeyPair(CURVE);
    const rogue = cert({ curve: CURVE, point: r.oce.publicKey }, rogueCa, 1);
    await assert.rejects(
      openScp11Session(r.io, scp11Options(r, variant, 'pinned', { oceCertificates: [rogue.encoded] })),
      (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_STATUS' && e.sw === 0x6600,
    );
    assert.deepEqual(r.io.exchanges.map((e) => e.response.slice(-4)), ['9000', '6600']);
  }
});

test('SCP11 trust anchor: a CERT.SD.ECKA from another CA → BAD_CARD_CRYPTOGRAM before anything is sent; no certificate stored → 6A88', async () => {
  const r = await provisionScp11();
  const other = generateKeyPair(CURVE);
  await assert.rejects(
    openScp11Session(r.io, scp11Options(r, '11a', 'anchor', { card: { trustAnchor: { curve: CURVE, point: other.publicKey } } })),
    (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_CARD_CRYPTOGRAM' && e.sw === undefined,
  );
  assert.equal(r.io.exchanges.length, 2, 'SELECT + GET DATA only');
  const bare = await provisionScp11({ storeCertificates: false });
  await assert.rejects(openScp11Session(bare.io, scp11Options(bare, '11c', 'anchor')), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_STATUS' && e.sw === 0x6a88);
});

test('SCP11: SELECT of an SD the card does not have → ApduError 6A82', async () => {
  const r = await provisionScp11();
  await assert.rejects(openScp11Session(r.io, scp11Options(r, '11a', 'pinned', { sdAid: fromHex('A0000001515353445344FF') })), (e: unknown) => e instanceof ApduError && e.sw === 0x6a82);
  assert.equal(r.io.exchanges.length, 1);
});

test('SCP11a at level 11; the first SCP11a session removed the initial SCP03 key set', async () => {
  const r = await provisionScp11();
  const s = await openScp11Session(r.io, scp11Options(r, '11a', 'pinned', { level: 0x11 }));
  assert.equal(s.channel.level, 0x11);
  assert.deepEqual(decodeResponse(await s.transmit(GET_LEVEL)), { data: fromHex('D30191'), sw: 0x9000 });
  await assert.rejects(scp03(r.io, SSD1), (e: unknown) => (e as { sw?: number }).sw === 0x6a88);
});

// ---------------------------------------------------------------------------------------------------------
// SCP10 (GPCS 2.2.1 Appendix F) against the simulator's SCP10 SD

const rsaPairs = new Map<number, { publicKey: KeyObject; privateKey: KeyObject }[]>();
/** Key pairs of a size, made once per run: [PK.TP_EX.AUT, PK.TP_IN.AUT, OCE, rogue CA]. */
function rsa(bits: 1024 | 2048): { publicKey: KeyObject; privateKey: KeyObject }[] {
  let p = rsaPairs.get(bits);
  if (p === undefined) rsaPairs.set(bits, (p = [0, 1, 2, 3].map(() => generateKeyPairSync('rsa', { modulusLength: bits }))));
  return p;
}
const TP_EX_ID = fromHex('E0E0E0E0E0E0E0E0');
const TP_IN_ID = fromHex('E1E1E1E1E1E1E1E1');
const OCE_ID = fromHex('0C0C0C0C0C0C0C0C');
const CARD_ID = fromHex('5D5D5D5D5D5D5D5D');

interface Scp10Rig {
  io: ScriptChannel;
  i: 1 | 2;
  tpEx: { publicKey: KeyObject; privateKey: KeyObject };
  tpIn: TrustedKey;
  oce: { publicKey: KeyObject; privateKey: KeyObject };
  oceCert: Uint8Array;
  /** PK.SD.AUT as GENERATE KEY PAIR answered it. */
  pkSd: KeyObject;
  /** The card id before a certificate is stored: rightmost 8 bytes of the KDD (INITIALIZE UPDATE answer). */
  kddId: Uint8Array;
  rogueCa: { publicKey: KeyObject; privateKey: KeyObject };
}

/** The issuer's part for SCP10: SSD '81' = 10 i, PK.TP_EX.AUT by PUT KEY, SK.SD.AUT generated on card, CERT.SD.AUT stored. */
async function provisionScp10(i: 1 | 2, bits: 1024 | 2048, options: { storeCertificate?: boolean } = {}): Promise<Scp10Rig> {
  const [tpEx, tpIn, oce, rogueCa] = rsa(bits) as [typeof rsaPairs extends Map<number, (infer T)[]> ? T : never, { publicKey: KeyObject; privateKey: KeyObject }, { publicKey: KeyObject; privateKey: KeyObject }, { publicKey: KeyObject; privateKey: KeyObject }];
  const card = createCard({ random: counterRandom() });
  const io = new ScriptChannel(card);
  const isd = await scp03(io, ISD);
  assert.equal((await sc(io, isd, installSsd(SSD1, ['GlobalRegistry'], { id: 0x10, i }))).sw, 0x9000);
  const ssd = await scp03(io, SSD1);
  const iu = io.exchanges.findLast((e) => e.command.startsWith('8050'))!;
  const kddId = fromHex(iu.response.slice(4, 20));
  const tp = rsaPublicNumbers(tpEx.publicKey);
  assert.deepEqual(await sc(io, ssd, buildPutRsaTrustPoint({ kvn: 1, kid: 0x10, ...tp })), { data: '01', sw: 0x9000 });
  const g = await sc(io, ssd, buildGenerateRsaKeyPair({ kvn: 1, kid: 0x11, modulusBits: bits }));
  assert.equal(g.sw, 0x9000);
  const pub = parseGeneratedRsaPublicKey(fromHex(g.data));
  assert.equal(pub.modulus.length, bits / 8);
  const pkSd = rsaPublicKey(pub.modulus, pub.exponent);
  if (options.storeCertificate !== false) {
    const sdCert = issueCertificate({ issuerId: TP_IN_ID, subjectId: CARD_ID, subjectKey: pkSd, scheme: 'pkcs1' }, tpIn.privateKey);
    for (const c of buildStoreCertificates({ kid: 0x11, kvn: 1, certificates: [sdCert] })) assert.equal((await sc(io, ssd, c)).sw, 0x9000);
  }
  const oceCert = issueCertificate({ issuerId: TP_EX_ID, subjectId: OCE_ID, subjectKey: oce.publicKey, scheme: 'pkcs1' }, tpEx.privateKey);
  io.scripts = 0;
  io.exchanges.length = 0;
  return { io, i, tpEx, tpIn: { id: TP_IN_ID, publicKey: tpIn.publicKey }, oce, oceCert, pkSd, kddId, rogueCa };
}

function scp10Options(r: Scp10Rig, card: 'pinned' | 'trust point', extra: Partial<Parameters<typeof openScp10Session>[1]> = {}): Parameters<typeof openScp10Session>[1] {
  return {
    sdAid: fromHex(SSD1),
    i: r.i,
    level: 0x33,
    oceCertificates: [r.oceCert],
    ocePrivateKey: r.oce.privateKey,
    oceId: OCE_ID,
    card: card === 'pinned' ? { publicKey: r.pkSd, id: r.kddId } : { trustPoint: r.tpIn },
    ...extra,
  };
}

const INS = (e: { command: string }): string => e.command.slice(2, 4);

for (const bits of [1024, 2048] as const) {
  for (const i of [1, 2] as const) {
    test(`SCP10 i=0${i} RSA-${bits}, pinned PK.SD.AUT (no certificate on card): two scripts, level 33 round trip`, async () => {
      const r = await provisionScp10(i, bits, { storeCertificate: false });
      const s = await openScp10Session(r.io, scp10Options(r, 'pinned'));
      assert.equal(r.io.scripts, 2);
      // SELECT, MSE, PSO verify, [PSO decipher], GET CHALLENGE | EXTERNAL AUTHENTICATE, INTERNAL AUTHENTICATE
      assert.deepEqual(r.io.exchanges.map(INS), i === 2 ? ['A4', '22', '2A', '2A', '84', '82', '88'] : ['A4', '22', '2A', '84', '82', '88']);
      assert.ok(r.io.exchanges.every((e) => e.response.endsWith('9000')));
      assert.deepEqual([s.channel.scp, s.channel.i, s.channel.level], [10, i, 0x33]);
      await roundTrip(s);
    });

    test(`SCP10 i=0${i} RSA-${bits}, PK.TP_IN.AUT trust point: GET DATA '7F21' in the first script, ${i === 1 ? 'two' : 'three'} scripts`, async () => {
      const r = await provisionScp10(i, bits);
      const s = await openScp10Session(r.io, scp10Options(r, 'trust point'));
      assert.equal(r.io.scripts, i === 1 ? 2 : 3);
      assert.deepEqual(r.io.exchanges.map(INS), i === 2 ? ['A4', 'CA', '22', '2A', '2A', '84', '82', '88'] : ['A4', 'CA', '22', '2A', '84', '82', '88']);
      assert.equal(r.io.exchanges[1]!.command, '80CA7F21000000');
      await roundTrip(s);
    });
  }
}

test('SCP10: CERT.SD.AUT not from the trust point → BAD_CARD_CRYPTOGRAM before anything is signed; no certificate stored → 6A88', async () => {
  for (const i of [1, 2] as const) {
    const r = await provisionScp10(i, 1024);
    await assert.rejects(
      openScp10Session(r.io, scp10Options(r, 'trust point', { card: { trustPoint: { id: TP_IN_ID, publicKey: r.rogueCa.publicKey } } })),
      (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_CARD_CRYPTOGRAM' && e.sw === undefined,
    );
    // Only the first script ran: no decipher, no EXTERNAL AUTHENTICATE.
    assert.equal(r.io.scripts, 1);
    assert.ok(!r.io.exchanges.some((e) => ['82', '88'].includes(INS(e)) || e.command.startsWith('002A8084')));
  }
  const bare = await provisionScp10(2, 1024, { storeCertificate: false });
  await assert.rejects(openScp10Session(bare.io, scp10Options(bare, 'trust point')), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_STATUS' && e.sw === 0x6a88);
});

test('SCP10: an OCE certificate from another CA is refused by PSO verify certificate (6300)', async () => {
  for (const i of [1, 2] as const) {
    const r = await provisionScp10(i, 1024);
    const rogue = issueCertificate({ issuerId: TP_EX_ID, subjectId: OCE_ID, subjectKey: r.oce.publicKey, scheme: 'pkcs1' }, r.rogueCa.privateKey);
    await assert.rejects(openScp10Session(r.io, scp10Options(r, 'pinned', { oceCertificates: [rogue] })), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_STATUS' && e.sw === 0x6300);
  }
});

test('SCP10: a pinned PK.SD.AUT the card does not hold is refused (i=02: PSO decipher 6A80 → BAD_CARD_CRYPTOGRAM; i=01: EXTERNAL AUTHENTICATE 6300)', async () => {
  const other = rsa(1024)[3]!.publicKey;
  const r2 = await provisionScp10(2, 1024);
  await assert.rejects(openScp10Session(r2.io, scp10Options(r2, 'pinned', { card: { publicKey: other, id: CARD_ID } })), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_CARD_CRYPTOGRAM' && e.sw === 0x6a80);
  assert.equal(r2.io.scripts, 1);
  const r1 = await provisionScp10(1, 1024);
  await assert.rejects(openScp10Session(r1.io, scp10Options(r1, 'pinned', { card: { publicKey: other, id: CARD_ID } })), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_STATUS' && e.sw === 0x6300);
  assert.equal(r1.io.scripts, 2);
});

test('SCP10: the first SCP10 session removed the initial SCP03 key set (KVN FF)', async () => {
  const r = await provisionScp10(2, 1024);
  await openScp10Session(r.io, scp10Options(r, 'pinned'));
  await assert.rejects(scp03(r.io, SSD1), (e: unknown) => (e as { sw?: number }).sw === 0x6a88);
});

test('SCP10 sessions carry scripts of several commands at every level (separate C-MAC / R-MAC keys); an error SW keeps them in step', async () => {
  for (const i of [1, 2] as const) {
    for (const level of [0x00, 0x01, 0x03, 0x11, 0x13, 0x31, 0x33]) {
      const r = await provisionScp10(i, 1024, { storeCertificate: false });
      const s = await openScp10Session(r.io, scp10Options(r, 'pinned', { level }));
      const lv = toHex(Uint8Array.of(0xd3, 0x01, level | 0x80, 0x90, 0x00));
      assert.deepEqual((await s.transmitBatch([GET_LEVEL, GET_LEVEL, fromHex('80CA00C900')])).map(toHex), [lv, lv, '6A88'], `i=${i} level ${level}`);
      assert.deepEqual((await s.transmitBatch([GET_LEVEL, GET_LEVEL])).map(toHex), [lv, lv], `i=${i} level ${level}`);
    }
  }
});

test("GET DATA 'E0' inside the sessions: parseKeyInformationTemplate reads 'A1'/'A0'/'A2'/'A3' and 'B0'/'B1'/'F0' (lengths only)", async () => {
  const kit = async (s: { transmit(c: Uint8Array): Promise<Uint8Array> }) => {
    const r = decodeResponse(await s.transmit(fromHex('80CA00E000')));
    assert.equal(r.sw, 0x9000);
    return parseKeyInformationTemplate(r.data).map((k) => [k.keyId, k.kvn, ...k.components.map((c) => `${c.type.toString(16)}:${c.length}`)]);
  };
  const r10 = await provisionScp10(2, 2048);
  // Basic format: a length of 256 is coded '00'.
  assert.deepEqual(await kit(await openScp10Session(r10.io, scp10Options(r10, 'trust point'))), [[0x10, 1, 'a1:0', 'a0:3'], [0x11, 1, 'a2:0', 'a3:0']]);
  const r11 = await provisionScp11();
  assert.deepEqual(await kit(await openScp11Session(r11.io, scp11Options(r11, '11a', 'pinned'))), [[0x10, 1, 'b0:65', 'f0:1'], [0x11, 1, 'b1:32', 'f0:1'], [0x15, 1, 'b1:32', 'f0:1']]);
});

test('generateKeyPair keeps the private scalar at the curve size (OpenSSL drops leading zero bytes)', async () => {
  const { generateKeyPair: gen, publicKeyOf: pub } = await import('../../src/crypto/index.ts');
  for (let i = 0; i < 6000; i++) {
    const k = gen('P-256');
    assert.equal(k.privateKey.length, 32);
    if (k.privateKey[0] === 0) {
      assert.deepEqual(pub('P-256', k.privateKey), k.publicKey);
      return;
    }
  }
  assert.fail('no scalar with a leading zero byte in 6000 draws (probability about 6e-11)');
});
