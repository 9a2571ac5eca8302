/** SCP02 (GlobalPlatform Card Specification 2.2.1 Appendix E, explicit initiation): host ↔ card behaviour. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concat, fromHex, toHex } from '../../src/core/bytes.ts';
import { desCbcEncrypt, desEcbEncrypt, retailMac } from '../../src/crypto/des.ts';
import { padIso9797M2 } from '../../src/crypto/padding.ts';
import { maxShortCommandData } from '../../src/scp/level.ts';
import * as scp02 from '../../src/scp/scp02/index.ts';
import { Scp02SecureMessaging } from '../../src/scp/scp02/wrap.ts';
import { AID, cardContext, countingRandom, keysOf, openPair, scp02IFor } from './helpers.ts';

const COMMANDS = ['80F22002', '80CA006600', '80F220020A4F0212345C054F9F70C5', '80E60C00' + '20' + '11'.repeat(32) + '00', '00A4040008A000000151000000'];
const RESPONSES = ['9000', '6A82', '6310', 'E3' + '0F'.repeat(16) + '9000', '01'.repeat(200) + '6283', '61FF'];

for (const baseI of [0x15, 0x55]) {
  for (const level of [0x00, 0x01, 0x03, 0x10, 0x11, 0x13]) {
    const i = scp02IFor(baseI, level);
    test(`SCP02 i=${i.toString(16)} level ${level.toString(16).padStart(2, '0')}: E.4.4–E.4.6 host↔card round trip`, () => {
      const { host, card } = openPair(2, { keys: keysOf(16), i, level });
      assert.equal(host.i, i);
      for (let n = 0; n < COMMANDS.length; n++) {
        const plain = fromHex(COMMANDS[n]!);
        const wrapped = host.wrapCommand(plain);
        if (level & 0x01) assert.equal(wrapped[0]! & 0x04, 0x04);
        else assert.equal(toHex(wrapped), toHex(plain));
        assert.equal(toHex(card.unwrapCommand(wrapped)), toHex(plain));
        const rsp = RESPONSES[n % RESPONSES.length]!;
        const protectedRsp = card.wrapResponse(fromHex(rsp));
        if (level & 0x10) assert.equal(protectedRsp.length, fromHex(rsp).length + 8, 'R-MAC on every response');
        else assert.equal(toHex(protectedRsp), rsp);
        assert.equal(toHex(host.unwrapResponse(protectedRsp)), rsp);
      }
    });
  }
}

/** A pair whose session keys are known: sequence counter 0. */
function knownPair(level: number, i = 0x75) {
  const keys = keysOf(16);
  const pair = openPair(2, { keys, i, level });
  return { ...pair, keys, sk: scp02.deriveSessionKeys(keys, fromHex('0000')) };
}

test('SCP02 E.3.4 / E.4.4: C-MAC = retail MAC over the modified APDU with the encrypted previous C-MAC as ICV', () => {
  const { host, sk } = knownPair(0x01, 0x15);
  const first = host.wrapCommand(fromHex('80F22002'));
  const second = host.wrapCommand(fromHex('80CA006600'));
  const icv = desEcbEncrypt(sk.cmac.subarray(0, 8), first.subarray(5, 13));
  assert.equal(toHex(second.subarray(5, 13)), toHex(retailMac(sk.cmac, fromHex('84CA006608'), icv)));
});

test('SCP02 E.4.6: C-MAC over the clear data, then data padded and 3DES-CBC encrypted (zero ICV); no data, no encryption', () => {
  const { host, sk } = knownPair(0x03);
  const noData = host.wrapCommand(fromHex('80F22002'));
  assert.equal(noData[4], 8);
  const data = fromHex('4F0212345C054F9F70C5');
  const w = host.wrapCommand(concat(fromHex('80F220020A'), data));
  assert.equal(w[4], 16 + 8, 'Lc = padded length + C-MAC');
  assert.equal(toHex(w.subarray(5, 21)), toHex(desCbcEncrypt(sk.enc, padIso9797M2(data, 8))));
  const icv = desEcbEncrypt(sk.cmac.subarray(0, 8), noData.subarray(5, 13));
  assert.equal(toHex(w.subarray(21)), toHex(retailMac(sk.cmac, concat(fromHex('84F2200212'), data), icv)));
});

test('SCP02 E.4.5: R-MAC over stripped command ‖ Li ‖ data ‖ SW, first ICV = C-MAC of EXTERNAL AUTHENTICATE; errors MAC Li 00 only', () => {
  const keys = keysOf(16);
  const sk = scp02.deriveSessionKeys(keys, fromHex('0000'));
  const hostChallenge = countingRandom(0x10)(8);
  const iu = scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, hostChallenge), cardContext(keys, 0x75));
  const session = scp02.beginHostSession(keys, hostChallenge, scp02.parseInitializeUpdateResponse(iu.response.subarray(0, 28)), 0x75);
  const ea = scp02.buildExternalAuthenticate(session, 0x11);
  const card = scp02.cardExternalAuthenticate(iu.pending!, ea.command).channel!;
  const host = scp02.createHostChannel(session, ea);
  const eaMac = ea.command.subarray(13, 21);

  card.unwrapCommand(host.wrapCommand(fromHex('80CA006600')));
  const rsp = card.wrapResponse(fromHex('0102039000'));
  const rmac1 = retailMac(sk.rmac, fromHex('80CA0066' + '00' + '03' + '010203' + '9000'), eaMac);
  assert.equal(toHex(rsp), '010203' + toHex(rmac1) + '9000');
  assert.equal(toHex(host.unwrapResponse(rsp)), '0102039000');

  card.unwrapCommand(host.wrapCommand(fromHex('80F220020A4F0212345C054F9F70C5')));
  const err = card.wrapResponse(fromHex('AABB6A88'));
  const rmac2 = retailMac(sk.rmac, fromHex('80F22002' + '0A' + '4F0212345C054F9F70C5' + '00' + '6A88'), rmac1);
  assert.equal(toHex(err), toHex(rmac2) + '6A88', 'error: no data, Li = 00, R-MAC still present');
  assert.equal(toHex(host.unwrapResponse(err)), '6A88');

  card.unwrapCommand(host.wrapCommand(fromHex('80F22002')));
  const bad = card.wrapResponse(fromHex('9000'));
  bad[0]! ^= 1;
  assert.throws(() => host.unwrapResponse(bad), { code: 'BAD_RMAC' });
  assert.throws(() => host.wrapCommand(fromHex('80F22002')), { code: 'NOT_AUTHENTICATED' });
});

test('SCP02 E.4.4: the verified C-MAC is the next ICV; a replay fails with 6982 and aborts the session', () => {
  const { host, card } = knownPair(0x01);
  const w = host.wrapCommand(fromHex('80F22002'));
  card.unwrapCommand(w);
  assert.throws(() => card.unwrapCommand(w), { code: 'BAD_MAC', sw: 0x6982 });
  assert.equal(card.active, false);
  assert.throws(() => card.unwrapCommand(host.wrapCommand(fromHex('80F22002'))), { code: 'NOT_AUTHENTICATED', sw: 0x6982 });
});

test('SCP02 E.1.6: a command without secure messaging at a C-MAC level → 6982', () => {
  const { card } = knownPair(0x01);
  assert.throws(() => card.unwrapCommand(fromHex('80F22002')), { code: 'SECURITY_NOT_SATISFIED', sw: 0x6982 });
});

test('SCP02 E.4.4: the logical channel is added after the C-MAC (CLA 83 → 87, CF → EF)', () => {
  const base = knownPair(0x01).host.wrapCommand(fromHex('80F22002'));
  for (const [cla, wire] of [[0x83, 0x87], [0xcf, 0xef]] as const) {
    const { host, card } = knownPair(0x01);
    const plain = fromHex('80F22002');
    plain[0] = cla;
    const w = host.wrapCommand(plain);
    assert.equal(w[0], wire);
    assert.equal(toHex(w.subarray(1)), toHex(base.subarray(1)));
    assert.equal(toHex(card.unwrapCommand(w)), toHex(plain));
  }
});

test('SCP02 E.4.6: short-APDU size limits (level 03: 239 bytes, level 01: 247)', () => {
  assert.equal(maxShortCommandData(2, 0x03), 239);
  assert.equal(maxShortCommandData(2, 0x01), 247);
  const { host, card } = knownPair(0x03);
  const ok = concat(fromHex('80E20000EF'), new Uint8Array(239).fill(1));
  assert.equal(toHex(card.unwrapCommand(host.wrapCommand(ok))), toHex(ok));
  assert.throws(() => host.wrapCommand(concat(fromHex('80E20000F0'), new Uint8Array(240))), RangeError);
  assert.equal(toHex(card.unwrapCommand(host.wrapCommand(fromHex('80F22002')))), '80F22002');
});

test('SCP02 E.4.7: key data encrypted with the DEK session key, 3DES-ECB', () => {
  const { host, card, sk } = knownPair(0x01);
  const key = fromHex('404142434445464748494A4B4C4D4E4F');
  const enc = host.encryptKeyData(key);
  assert.equal(toHex(enc), toHex(desEcbEncrypt(sk.dek, key)));
  assert.equal(toHex(card.decryptKeyData(enc)), toHex(key));
  assert.equal(toHex(card.decryptSensitiveData(host.encryptSensitiveData(new Uint8Array(24).fill(9)))), '09'.repeat(24));
  assert.throws(() => host.encryptKeyData(new Uint8Array(7)), RangeError);
});

// ---------------------------------------------------------------- handshake, card side

test('SCP02 E.4.2.3: with i=55 the card challenge is the retail MAC of the padded AID under the C-MAC session key', () => {
  const keys = keysOf(16);
  const iu = scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(keys, 0x55, 7));
  const parsed = scp02.parseInitializeUpdateResponse(iu.response.subarray(0, 28));
  const cmac = scp02.deriveSessionKeys(keys, fromHex('0007')).cmac;
  assert.equal(toHex(parsed.cardChallenge), toHex(retailMac(cmac, AID).subarray(0, 6)));
  assert.equal(toHex(parsed.cardChallenge), toHex(scp02.pseudoRandomCardChallenge(cmac, AID)));
  // i=15: from the random source.
  const r = scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(keys, 0x15, 7));
  assert.equal(toHex(scp02.parseInitializeUpdateResponse(r.response.subarray(0, 28)).cardChallenge), '7778797A7B7C');
});

test('SCP02 E.1.2: the sequence counter is incremented on a successful EXTERNAL AUTHENTICATE only; FFFF → 6985', () => {
  const keys = keysOf(16);
  const hostChallenge = new Uint8Array(8).fill(1);
  const iu = scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, hostChallenge), cardContext(keys, 0x55, 0x0102));
  assert.equal(iu.nextSequenceCounter, 0x0102);
  const parsed = scp02.parseInitializeUpdateResponse(iu.response.subarray(0, 28));
  assert.equal(toHex(parsed.sequenceCounter!), '0102');
  const session = scp02.beginHostSession(keys, hostChallenge, parsed);
  const ok = scp02.cardExternalAuthenticate(iu.pending!, scp02.buildExternalAuthenticate(session, 0x01).command);
  assert.equal(ok.nextSequenceCounter, 0x0103);

  const iu2 = scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, hostChallenge), cardContext(keys, 0x55, 0x0103));
  const s2 = scp02.beginHostSession(keys, hostChallenge, scp02.parseInitializeUpdateResponse(iu2.response.subarray(0, 28)));
  const cmd = scp02.buildExternalAuthenticate(s2, 0x01).command;
  cmd[20]! ^= 1;
  const failed = scp02.cardExternalAuthenticate(iu2.pending!, cmd);
  assert.equal(toHex(failed.response), '6982');
  assert.equal(failed.nextSequenceCounter, undefined);

  assert.equal(toHex(scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, hostChallenge), cardContext(keys, 0x55, 0xffff)).response), '6985');
});

test('SCP02 E.5.1.7: unknown key version → 6A88, host challenge not 8 bytes → 6700, P2 ≠ 00 → 6A86', () => {
  const ctx = cardContext(keysOf(16), 0x55);
  assert.equal(toHex(scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0x20, new Uint8Array(8)), ctx).response), '6A88');
  assert.equal(toHex(scp02.cardInitializeUpdate(fromHex('8050000010' + '00'.repeat(16) + '00'), ctx).response), '6700');
  assert.equal(toHex(scp02.cardInitializeUpdate(fromHex('8050000108' + '00'.repeat(8) + '00'), ctx).response), '6A86');
  assert.equal(toHex(scp02.cardInitializeUpdate(fromHex('8050000108' + '00'.repeat(7)), ctx).response), '6700');
  assert.equal(toHex(scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(keysOf(24), 0x55)).response), '6A88');
  assert.throws(() => scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(keysOf(16), 0x17)), RangeError);
  // An implicit-initiation SD has no INITIALIZE UPDATE (E.1.2.2).
  assert.equal(toHex(scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(keysOf(16), 0x1a)).response), '6D00');
});

function handshake(i = 0x55) {
  const keys = keysOf(16);
  const hostChallenge = new Uint8Array(8).fill(2);
  const iu = scp02.cardInitializeUpdate(scp02.buildInitializeUpdate(0, hostChallenge), cardContext(keys, i));
  return { keys, hostChallenge, iu, parsed: scp02.parseInitializeUpdateResponse(iu.response.subarray(0, 28)) };
}

test('SCP02 E.4.2.1: wrong host keys → BAD_CARD_CRYPTOGRAM', () => {
  const { hostChallenge, parsed } = handshake();
  assert.throws(() => scp02.beginHostSession(keysOf(16, 0x41), hostChallenge, parsed), { code: 'BAD_CARD_CRYPTOGRAM' });
});

test('SCP02 E.4.2.2: a bad host cryptogram with a valid C-MAC → 6300 (Table E-12), no channel', () => {
  const { keys, hostChallenge, iu, parsed } = handshake();
  const session = scp02.beginHostSession(keys, hostChallenge, parsed);
  const wrong = scp02.computeHostCryptogram(session);
  wrong[7]! ^= 1;
  const m = new Scp02SecureMessaging({ sessionKeys: session.sessionKeys, i: 0x55, level: 0x01 });
  const ea = scp02.cardExternalAuthenticate(iu.pending!, m.externalAuthenticate(0x80, wrong));
  assert.equal(toHex(ea.response), '6300');
  assert.equal(ea.channel, undefined);
});

test('SCP02 E.5.2.3 Table E-11 / Table E-1 b6: levels the card refuses with 6A86; EXTERNAL AUTHENTICATE without SM → 6982', () => {
  for (const [i, level] of [[0x55, 0x11], [0x15, 0x10], [0x75, 0x33], [0x75, 0x02]] as const) {
    const { keys, hostChallenge, iu, parsed } = handshake(i);
    const session = scp02.beginHostSession(keys, hostChallenge, parsed, i);
    const m = new Scp02SecureMessaging({ sessionKeys: session.sessionKeys, i, level });
    const ea = scp02.cardExternalAuthenticate(iu.pending!, m.externalAuthenticate(0x80, scp02.computeHostCryptogram(session)));
    assert.equal(toHex(ea.response), '6A86', `i=${i.toString(16)} level=${level.toString(16)}`);
  }
  const { keys, hostChallenge, iu, parsed } = handshake();
  const cmd = scp02.buildExternalAuthenticate(scp02.beginHostSession(keys, hostChallenge, parsed), 0x01).command;
  cmd[0] = 0x80;
  assert.equal(toHex(scp02.cardExternalAuthenticate(iu.pending!, cmd).response), '6982');
});

test('SCP02 E.1.1: "i" values outside Table E-1\'s runnable combinations are refused on the host; implicit ones need openImplicitChannel', () => {
  const { keys, hostChallenge, parsed } = handshake();
  // 17/06: explicit with C-MAC on the unmodified APDU; 0D: explicit with an AID ICV; 08: implicit, modified APDU; 80: b8.
  for (const i of [0x17, 0x06, 0x0d, 0x08, 0x80]) assert.throws(() => scp02.beginHostSession(keys, hostChallenge, parsed, i), { code: 'UNSUPPORTED' });
  assert.throws(() => scp02.beginHostSession(keys, hostChallenge, parsed, 0x1a), { code: 'UNSUPPORTED', message: /implicit/ });
  for (const i of [0x04, 0x05, 0x14, 0x15, 0x44, 0x45, 0x54, 0x55, 0x0a, 0x0b, 0x1a, 0x1b]) assert.ok(scp02.isSupportedI(i), i.toString(16));
});

test('SCP02 E.5.1.6: INITIALIZE UPDATE responses of the wrong length or protocol are refused', () => {
  const ok = fromHex('00000000000000000000700200016B4524ABEE7CF32EA3838BC148F3');
  assert.throws(() => scp02.parseInitializeUpdateResponse(ok.subarray(0, 27)), { code: 'BAD_RESPONSE' });
  const scp3 = ok.slice();
  scp3[11] = 0x03;
  assert.throws(() => scp02.parseInitializeUpdateResponse(scp3), { code: 'BAD_RESPONSE' });
});
