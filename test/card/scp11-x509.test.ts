/**
 * X.509 certificates in the simulated SCP11 SSD (Amendment F v1.4 allows X.509 next to '7F21'; issue 8 §5.1):
 * STORE DATA 'A6' { '83' } 'BF21' of an X.509 CERT.SD.ECKA, GET DATA 'BF21' returning it byte-exact, refusals
 * that store nothing, and openScp11Session (host) reading the X.509 CERT.SD.ECKA chain and presenting an
 * X.509 OCE chain in PERFORM SECURITY OPERATION.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concat, fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import { encodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import { parseCertificateStore } from '../../src/gp/asymmetric-keys.ts';
import { buildGenerateEcKeyPair, buildGetStatus, buildPutEcTrustAnchor, buildStoreCertificates, buildStoreDataBlocks, parseGeneratedEcPublicKey } from '../../src/gp/index.ts';
import { openScp11Session, openSecureChannel, SecureChannelError, type HostSecureChannel } from '../../src/scp/index.ts';
import { parseCertificates, verifyChain } from '../../src/scp/scp11/index.ts';
import { generateKeyPair, type EcKeyPair, type EcPublicKey } from '../../src/crypto/index.ts';
import { createCard, SimulatedCard } from '../../src/card/index.ts';
import { InProcessChannel } from '../../src/transport/in-process.ts';
import { withGetResponse } from '../../src/apdu/get-response.ts';
import type { CardChannel } from '../../src/apdu/channel.ts';
import { buildX509, KU_KEY_AGREEMENT, KU_KEY_CERT_SIGN, type X509Spec } from '../scp/x509-helpers.ts';
import { counterRandom, installSsd, KEYS40, SSD1 } from './helpers.ts';

const CURVE = 'P-256';
const ISD = 'A000000151000000';
const CA_KLOC_ID = fromHex('C0C0C0');
const CA_KLCC_ID = fromHex('C1C1');

function spec(point: Uint8Array, over: Partial<X509Spec> = {}): X509Spec {
  return { serial: fromHex('11'), aki: CA_KLCC_ID, ski: fromHex('47524F5550'), keyUsage: KU_KEY_AGREEMENT, notBefore: '240101000000Z', notAfter: '391231235959Z', publicKey: { curve: CURVE, point }, ...over };
}

async function send(io: CardChannel, apdu: Uint8Array | string): Promise<{ data: string; sw: number }> {
  const r = decodeResponse(await io.transmit(typeof apdu === 'string' ? fromHex(apdu) : apdu));
  return { data: toHex(r.data), sw: r.sw };
}

async function sc(io: CardChannel, ch: HostSecureChannel, c: CommandApdu | string): Promise<{ data: string; sw: number }> {
  const plain = typeof c === 'string' ? fromHex(c) : encodeCommand(c);
  const r = decodeResponse(ch.unwrapResponse(await io.transmit(ch.wrapCommand(plain))));
  return { data: toHex(r.data), sw: r.sw };
}

async function scp03(io: CardChannel, aid: string): Promise<HostSecureChannel> {
  assert.equal((await send(io, `00A40400${(aid.length / 2).toString(16).padStart(2, '0')}${aid}00`)).sw, 0x9000);
  return openSecureChannel((a) => io.transmit(a), { keys: KEYS40, level: 0x01, hostChallenge: fromHex('0102030405060708') });
}

interface Rig {
  card: SimulatedCard;
  io: CardChannel;
  ssd: HostSecureChannel;
  caKloc: EcKeyPair;
  caKlcc: EcKeyPair;
  pkSd: EcPublicKey;
}

/** SCP11 SSD (i = 1B: 11a/b/c and certificate chains) with PK.CA-KLOC.ECDSA 1/10 and SK.SD.ECKA 1/11 generated on card; no certificate stored yet. */
async function provision(): Promise<Rig> {
  const card = createCard({ random: counterRandom() });
  // A 330-byte 'BF21' answer comes in parts (61xx): the terminal fetches the rest with GET RESPONSE.
  const io = withGetResponse(new InProcessChannel(card));
  const isd = await scp03(io, ISD);
  assert.equal((await sc(io, isd, installSsd(SSD1, ['GlobalRegistry'], { id: 0x11, i: 0x1b }))).sw, 0x9000);
  const caKloc = generateKeyPair(CURVE);
  const caKlcc = generateKeyPair(CURVE);
  const ssd = await scp03(io, SSD1);
  assert.deepEqual(await sc(io, ssd, buildPutEcTrustAnchor({ kvn: 1, kid: 0x10, curveReference: 0x00, point: caKloc.publicKey })), { data: '01', sw: 0x9000 });
  const g = await sc(io, ssd, buildGenerateEcKeyPair({ kvn: 1, kid: 0x11, curveReference: 0x00 }));
  assert.equal(g.sw, 0x9000);
  return { card, io, ssd, caKloc, caKlcc, pkSd: { curve: CURVE, point: parseGeneratedEcPublicKey(fromHex(g.data)) } };
}

async function store(r: Rig, chain: readonly Uint8Array[]): Promise<number[]> {
  const out: number[] = [];
  for (const c of buildStoreCertificates({ kid: 0x11, kvn: 1, certificates: [...chain] })) out.push((await sc(r.io, r.ssd, c)).sw);
  return out;
}

const GET_BF21 = '80CABF2106A60483021101' + '00';

test("STORE DATA of an X.509 CERT.SD.ECKA; GET DATA 'BF21' returns it byte-exact and it verifies against PK.CA-KLCC", async () => {
  const r = await provision();
  const cert = buildX509(spec(r.pkSd.point), r.caKlcc);
  const sws = await store(r, [cert]);
  assert.deepEqual(sws, [0x9000, 0x9000]); // 330 bytes of STORE DATA: two blocks
  const got = await sc(r.io, r.ssd, GET_BF21);
  assert.equal(got.sw, 0x9000);
  assert.equal(got.data, toHex(encodeTlv(0xbf21, cert)));
  const leaf = verifyChain(parseCertificates(parseCertificateStore(fromHex(got.data))), { curve: CURVE, point: r.caKlcc.publicKey }, { today: '20260101' });
  assert.deepEqual(leaf.publicKey, r.pkSd);
  // A chain CA-KLCC → intermediate (X.509) → SD ('7F21' and X.509 mixed is accepted too).
  const ka = generateKeyPair(CURVE);
  const kaCert = buildX509(spec(ka.publicKey, { serial: fromHex('0B'), ski: fromHex('4B41'), keyUsage: KU_KEY_CERT_SIGN, subjectCn: 'KA-KLCC' }), r.caKlcc);
  const sdCert = buildX509(spec(r.pkSd.point, { aki: fromHex('4B41'), issuerCn: 'KA-KLCC' }), ka);
  assert.ok((await store(r, [kaCert, sdCert])).every((s) => s === 0x9000));
  const got2 = await sc(r.io, r.ssd, GET_BF21);
  assert.equal(got2.data, toHex(encodeTlv(0xbf21, concat(kaCert, sdCert))));
  assert.deepEqual(verifyChain(parseCertificates(parseCertificateStore(fromHex(got2.data))), { curve: CURVE, point: r.caKlcc.publicKey }).publicKey, r.pkSd);
});

test('refused X.509 CERT.SD.ECKA (malformed DER, another key, RSA signature algorithm) → 6A80 and nothing stored', async () => {
  const r = await provision();
  const good = buildX509(spec(r.pkSd.point), r.caKlcc);
  assert.ok((await store(r, [good])).every((s) => s === 0x9000));
  const before = r.card.serialize();
  const truncated = good.subarray(0, good.length - 3);
  const tamperedKey = buildX509(spec(generateKeyPair(CURVE).publicKey), r.caKlcc);
  const badAlg = buildX509({ ...spec(r.pkSd.point), sigAlg: fromHex('06092A864886F70D01010B') }, r.caKlcc);
  const wrongTag = concat(Uint8Array.of(0x31), good.subarray(1));
  for (const bad of [truncated, tamperedKey, badAlg, wrongTag]) {
    const data = concat(encodeTlv(0xa6, encodeTlv(0x83, Uint8Array.of(0x11, 0x01))), encodeTlv(0xbf21, bad));
    const sws: number[] = [];
    for (const c of buildStoreDataBlocks(data, { format: 'ber' })) sws.push((await sc(r.io, r.ssd, c)).sw);
    assert.equal(sws.at(-1), 0x6a80);
    assert.equal(r.card.serialize(), before);
  }
  assert.equal((await sc(r.io, r.ssd, GET_BF21)).data, toHex(encodeTlv(0xbf21, good)));
});

test('openScp11Session: host verifies the X.509 CERT.SD.ECKA (GET DATA BF21) and presents an X.509 OCE chain (PSO) → SCP11a level 33', async () => {
  const r = await provision();
  assert.ok((await store(r, [buildX509(spec(r.pkSd.point), r.caKlcc)])).every((s) => s === 0x9000));
  const ka = generateKeyPair(CURVE);
  const oce = generateKeyPair(CURVE);
  const kaCert = buildX509(spec(ka.publicKey, { serial: fromHex('0A'), aki: CA_KLOC_ID, ski: fromHex('4B41'), keyUsage: KU_KEY_CERT_SIGN, subjectCn: 'KA-KLOC' }), r.caKloc);
  const oceCert = buildX509(spec(oce.publicKey, { serial: fromHex('01'), aki: fromHex('4B41'), ski: fromHex('0102030405'), issuerCn: 'KA-KLOC' }), ka);
  const options = {
    sdAid: fromHex(SSD1),
    variant: '11a' as const,
    level: 0x33,
    sdKey: { kvn: 1, kid: 0x11 },
    caKloc: { kvn: 1, kid: 0x10 },
    oceCertificates: [kaCert, oceCert],
    ocePrivateKey: oce.privateKey,
    curve: CURVE,
    card: { trustAnchor: { curve: CURVE, point: r.caKlcc.publicKey } },
    today: '20260101',
  } as const;
  const s = await openScp11Session(r.io, options);
  assert.deepEqual([s.channel.scp, s.channel.level], [3, 0x33]);
  // The X.509 CERT.SD.ECKA persists: a card restored from its JSON state serves it and opens the same session.
  const copy = SimulatedCard.fromState(r.card.serialize(), r.card.catalogue, { random: counterRandom(7) });
  const s2 = await openScp11Session(withGetResponse(new InProcessChannel(copy)), options);
  assert.deepEqual([s2.channel.scp, s2.channel.level], [3, 0x33]);
  const [st] = (await s.transmitBatch([encodeCommand(buildGetStatus({ scope: 0x40, aid: new Uint8Array(0) }))])).map((x) => decodeResponse(x));
  assert.equal(st!.sw, 0x9000);
  assert.match(toHex(st!.data), new RegExp(`^E3..4F0B${SSD1}`));
  // The OCE chain's intermediate tampered: the card refuses it (PSO 6600) and the session does not open.
  const tampered = Uint8Array.from(kaCert);
  tampered[tampered.length - 5]! ^= 0x01;
  await assert.rejects(openScp11Session(r.io, { ...options, oceCertificates: [tampered, oceCert] }), (e: unknown) => e instanceof SecureChannelError && e.sw === 0x6600);
  // The trust anchor is not the CA-KLCC that signed the X.509 CERT.SD.ECKA.
  await assert.rejects(
    openScp11Session(r.io, { ...options, card: { trustAnchor: { curve: CURVE, point: generateKeyPair(CURVE).publicKey } } }),
    (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_CARD_CRYPTOGRAM',
  );
});
