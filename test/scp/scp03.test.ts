/** SCP03 (GlobalPlatform Card Specification v2.3 Amendment D v1.2): host ↔ card behaviour. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concat, fromHex, toHex } from '../../src/core/bytes.ts';
import { aesCbcEncrypt, aesEcbEncrypt } from '../../src/crypto/aes.ts';
import { padIso9797M2 } from '../../src/crypto/padding.ts';
import { SecureChannelError } from '../../src/scp/errors.ts';
import { maxShortCommandData } from '../../src/scp/level.ts';
import * as scp03 from '../../src/scp/scp03/index.ts';
import { Scp03SecureMessaging } from '../../src/scp/scp03/wrap.ts';
import { AID, KDD, cardContext, countingRandom, keysOf, openPair } from './helpers.ts';

const LEVELS = [0x00, 0x01, 0x03, 0x11, 0x13, 0x33];
const COMMANDS = ['80F22002', '80CA006600', '80F220020A4F0212345C054F9F70C5', '80E60C00' + '20' + '11'.repeat(32) + '00', '00A4040008A000000151000000'];
const RESPONSES = ['9000', '6A82', '6310', 'E3' + '0F'.repeat(16) + '9000', '01'.repeat(200) + '6283', '6D00'];

const isError = (sw: string) => !(sw === '9000' || sw.startsWith('62') || sw.startsWith('63'));

for (const keyLength of [16, 24, 32]) {
  for (const s16 of [false, true]) {
    for (const level of LEVELS) {
      const mode = s16 ? 'S16' : 'S8';
      test(`SCP03 AES-${keyLength * 8} ${mode} level ${level.toString(16).padStart(2, '0')}: §6.2.4–§6.2.7 host↔card round trip`, () => {
        const i = (s16 ? 0x01 : 0) | 0x70;
        const { host, card } = openPair(3, { keys: keysOf(keyLength), i, level, s16 });
        assert.equal(host.level, level);
        assert.equal(card.level, level);
        for (let n = 0; n < COMMANDS.length; n++) {
          const plain = fromHex(COMMANDS[n]!);
          const wrapped = host.wrapCommand(plain);
          if (level & 0x01) {
            assert.equal(wrapped[0]! & 0x04, 0x04, 'secure messaging bit set');
            assert.notEqual(toHex(wrapped), toHex(plain));
          } else {
            assert.equal(toHex(wrapped), toHex(plain));
          }
          assert.equal(toHex(card.unwrapCommand(wrapped)), toHex(plain));
          const rsp = RESPONSES[n % RESPONSES.length]!;
          const protectedRsp = card.wrapResponse(fromHex(rsp));
          const sw = rsp.slice(-4);
          if (level & 0x10 && !isError(sw)) assert.equal(protectedRsp.length, fromHex(rsp).length + (s16 ? 16 : 8) + (level & 0x20 && rsp.length > 4 ? 16 - ((rsp.length / 2 - 2) % 16) : 0));
          const back = host.unwrapResponse(protectedRsp);
          assert.equal(toHex(back), isError(sw) ? sw : rsp);
        }
      });
    }
  }
}

/** A pair whose session keys the test can recompute: random card challenge ("i" 60), known challenges. */
function knownPair(level: number) {
  const keys = keysOf(16);
  const pair = openPair(3, { keys, i: 0x60, level });
  const hostChallenge = countingRandom(0x10)(8);
  const cardChallenge = countingRandom(0x77)(8);
  const sk = scp03.deriveSessionKeys(keys, concat(hostChallenge, cardChallenge));
  return { ...pair, sk, keys };
}

const counterBlock = (n: number, first = 0) => {
  const b = new Uint8Array(16);
  b[0] = first;
  b[15] = n;
  return b;
};

test('SCP03 §6.2.6: encryption counter starts at 1, is incremented for commands without data too, ICV = AES(S-ENC, counter)', () => {
  const { host, sk } = knownPair(0x03);
  const first = host.wrapCommand(fromHex('80CA006600')); // counter 1, no data: MAC only
  assert.equal(first[4], 8, 'Lc = C-MAC only');
  const data = fromHex('4F0212345C054F9F70C5');
  const second = host.wrapCommand(concat(fromHex('80F220020A'), data)); // counter 2
  const icv = aesEcbEncrypt(sk.sEnc, counterBlock(2));
  const expected = aesCbcEncrypt(sk.sEnc, padIso9797M2(data, 16), icv);
  assert.equal(toHex(second.subarray(5, 5 + 16)), toHex(expected));
  assert.equal(second[4], 16 + 8, 'Lcc = Lc + padding + C-MAC');
});

test('SCP03 §6.2.7: response ICV = AES(S-ENC, counter block with first byte 80); no data, no encryption', () => {
  const { host, card, sk } = knownPair(0x33);
  card.unwrapCommand(host.wrapCommand(fromHex('80CA006600')));
  const data = fromHex('0102030405');
  const wrapped = card.wrapResponse(concat(data, fromHex('9000')));
  const icv = aesEcbEncrypt(sk.sEnc, counterBlock(1, 0x80));
  assert.equal(toHex(wrapped.subarray(0, 16)), toHex(aesCbcEncrypt(sk.sEnc, padIso9797M2(data, 16), icv)));
  assert.equal(wrapped.length, 16 + 8 + 2);
  assert.equal(toHex(host.unwrapResponse(wrapped)), '01020304059000');
  card.unwrapCommand(host.wrapCommand(fromHex('80CA006600')));
  const empty = card.wrapResponse(fromHex('9000'));
  assert.equal(empty.length, 8 + 2, 'R-MAC and SW only');
  assert.equal(toHex(host.unwrapResponse(empty)), '9000');
});

test('SCP03 §6.2.5: no R-MAC and no protection on an error status; the MAC chaining value is unchanged by responses', () => {
  const { host, card } = knownPair(0x13);
  card.unwrapCommand(host.wrapCommand(fromHex('80CA006600')));
  const protectedRsp = card.wrapResponse(fromHex('AABB6A88'));
  assert.equal(toHex(protectedRsp), '6A88', 'only the SW');
  assert.equal(toHex(host.unwrapResponse(protectedRsp)), '6A88');
  // Warning status words are protected like 9000.
  card.unwrapCommand(host.wrapCommand(fromHex('80CA006600')));
  const warning = card.wrapResponse(fromHex('AABB6310'));
  assert.equal(warning.length, 2 + 8 + 2);
  assert.equal(toHex(host.unwrapResponse(warning)), 'AABB6310');
  // The chain continues: the next command still verifies on the card.
  assert.equal(toHex(card.unwrapCommand(host.wrapCommand(fromHex('80F22002')))), '80F22002');
});

test('SCP03 §6.2.5: an error status with a data field in an R-MAC session is refused and closes the host channel', () => {
  const { host, card } = knownPair(0x11);
  card.unwrapCommand(host.wrapCommand(fromHex('80CA006600')));
  assert.throws(() => host.unwrapResponse(fromHex('0102030405060708' + '6A88')), { code: 'BAD_RESPONSE' });
  assert.throws(() => host.wrapCommand(fromHex('80F22002')), { code: 'NOT_AUTHENTICATED' });
});

test('SCP03 §6.2.5: a bad R-MAC throws BAD_RMAC and closes the host channel', () => {
  const { host, card } = knownPair(0x11);
  card.unwrapCommand(host.wrapCommand(fromHex('80CA006600')));
  const rsp = card.wrapResponse(fromHex('01029000'));
  rsp[2]! ^= 0x01;
  assert.throws(() => host.unwrapResponse(rsp), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_RMAC');
  assert.throws(() => host.wrapCommand(fromHex('80F22002')), { code: 'NOT_AUTHENTICATED' });
});

test('SCP03 §6.2.4 / §5.6: a replayed command fails the MAC chain (6982) and aborts the session', () => {
  const { host, card } = knownPair(0x01);
  const w = host.wrapCommand(fromHex('80F22002'));
  card.unwrapCommand(w);
  assert.throws(() => card.unwrapCommand(w), (e: unknown) => e instanceof SecureChannelError && e.code === 'BAD_MAC' && e.sw === 0x6982);
  assert.equal(card.active, false);
  assert.throws(() => card.unwrapCommand(host.wrapCommand(fromHex('80F22002'))), { code: 'NOT_AUTHENTICATED', sw: 0x6982 });
  assert.equal(toHex(card.wrapResponse(fromHex('6982'))), '6982');
});

test('SCP03 §5.6: a command without secure messaging at a C-MAC level is refused with 6982', () => {
  const { card } = knownPair(0x01);
  assert.throws(() => card.unwrapCommand(fromHex('80F22002')), { code: 'SECURITY_NOT_SATISFIED', sw: 0x6982 });
});

test('SCP03 §6.2.4: the logical channel is not MAC-protected: CLA 81 → 85, C1 → E1, same C-MAC as on channel 0', () => {
  const base = knownPair(0x01).host.wrapCommand(fromHex('80F22002'));
  const ch1 = knownPair(0x01);
  const w1 = ch1.host.wrapCommand(fromHex('81F22002'));
  assert.equal(w1[0], 0x85);
  assert.equal(toHex(w1.subarray(1)), toHex(base.subarray(1)));
  assert.equal(toHex(ch1.card.unwrapCommand(w1)), '81F22002');
  const ch5 = knownPair(0x01);
  const w5 = ch5.host.wrapCommand(fromHex('C1F22002'));
  assert.equal(w5[0], 0xe1);
  assert.equal(toHex(w5.subarray(1)), toHex(base.subarray(1)));
  assert.equal(toHex(ch5.card.unwrapCommand(w5)), 'C1F22002');
});

test('SCP03 §6.2.6 / §6.2.4: short-APDU size limits at level 33 (S8: 239 bytes, S16: 223) and extended APDUs', () => {
  assert.equal(maxShortCommandData(3, 0x33, false), 239);
  assert.equal(maxShortCommandData(3, 0x33, true), 223);
  assert.equal(maxShortCommandData(3, 0x01, false), 247);
  const { host, card } = knownPair(0x33);
  const ok = concat(fromHex('80E20000EF'), new Uint8Array(239).fill(7));
  assert.equal(toHex(card.unwrapCommand(host.wrapCommand(ok))), toHex(ok));
  const tooLong = concat(fromHex('80E20000F0'), new Uint8Array(240).fill(7));
  assert.throws(() => host.wrapCommand(tooLong), RangeError);
  // Nothing changed: the chain still works.
  assert.equal(toHex(card.unwrapCommand(host.wrapCommand(fromHex('80F22002')))), '80F22002');
  const extended = concat(fromHex('80E2000000' + '03E8'), new Uint8Array(1000).fill(9), fromHex('0000'));
  const w = host.wrapCommand(extended);
  assert.equal(w[4], 0, 'extended form kept');
  assert.equal(toHex(card.unwrapCommand(w)), toHex(extended));
});

test('SCP03 §6.2.8: key data encrypted with the static Key-DEK, AES-CBC zero ICV; 24-byte keys padded to 32', () => {
  const { host, card, keys } = knownPair(0x01);
  const key = fromHex('00112233445566778899AABBCCDDEEFF');
  const enc = host.encryptKeyData(key);
  assert.equal(toHex(enc), toHex(aesCbcEncrypt(keys.dek, key)));
  assert.equal(toHex(card.decryptKeyData(enc)), toHex(key));
  const key24 = new Uint8Array(24).fill(0x5a);
  const enc24 = host.encryptSensitiveData(key24);
  assert.equal(enc24.length, 32);
  assert.equal(toHex(card.decryptSensitiveData(enc24).subarray(0, 24)), toHex(key24));
  assert.throws(() => host.encryptKeyData(new Uint8Array(15)), RangeError);
});

// ---------------------------------------------------------------- handshake, card side

test('SCP03 §6.2.2.1: pseudo-random card challenge from the incremented sequence counter and the AID', () => {
  const keys = keysOf(16);
  const iu = scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(keys, 0x70, 41));
  assert.equal(iu.nextSequenceCounter, 42);
  const parsed = scp03.parseInitializeUpdateResponse(iu.response.subarray(0, iu.response.length - 2));
  assert.equal(toHex(parsed.sequenceCounter!), '00002A');
  assert.equal(toHex(parsed.cardChallenge), toHex(scp03.pseudoRandomCardChallenge(keys.enc, fromHex('00002A'), AID, false)));
  assert.equal(toHex(parsed.kdd), toHex(KDD));
  const s16 = scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0, new Uint8Array(16)), cardContext(keys, 0x71, 41));
  const p16 = scp03.parseInitializeUpdateResponse(s16.response.subarray(0, s16.response.length - 2));
  assert.equal(p16.cardChallenge.length, 16);
  assert.equal(p16.cardCryptogram.length, 16);
  assert.equal(toHex(p16.cardChallenge), toHex(scp03.pseudoRandomCardChallenge(keys.enc, fromHex('00002A'), AID, true)));
});

test('SCP03 §6.2.2.1: random mode leaves the counter alone and sends none; exhausted counter → 6985', () => {
  const keys = keysOf(16);
  const iu = scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(keys, 0x60, 5));
  assert.equal(iu.nextSequenceCounter, 5);
  assert.equal(iu.response.length, 29 + 2);
  const max = scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(keys, 0x70, 0xffffff));
  assert.equal(toHex(max.response), '6985');
  assert.equal(max.pending, undefined);
});

test('SCP03 §7.1.1.7: unknown key version → 6A88, wrong host challenge length → 6700, P2 ≠ 00 → 6A86', () => {
  const ctx = cardContext(keysOf(16), 0x70);
  assert.equal(toHex(scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0x31, new Uint8Array(8)), ctx).response), '6A88');
  assert.equal(toHex(scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0x30, new Uint8Array(16)), ctx).response), '6700');
  assert.equal(toHex(scp03.cardInitializeUpdate(fromHex('8050300108' + '00'.repeat(8) + '00'), ctx).response), '6A86');
  assert.equal(toHex(scp03.cardInitializeUpdate(fromHex('805030'), ctx).response), '6700');
  assert.equal(toHex(scp03.cardInitializeUpdate(fromHex('0050300008' + '00'.repeat(8) + '00'), ctx).response), '6E00');
  // A key set with keys of different lengths is incomplete: 6A88.
  const bad = { ...keysOf(16), dek: new Uint8Array(32) };
  assert.equal(toHex(scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0, new Uint8Array(8)), cardContext(bad, 0x70)).response), '6A88');
});

function cardHandshake(i: number, keys = keysOf(16)) {
  const hostChallenge = new Uint8Array(i & 1 ? 16 : 8).fill(3);
  const iu = scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0, hostChallenge), cardContext(keys, i));
  const parsed = scp03.parseInitializeUpdateResponse(iu.response.subarray(0, iu.response.length - 2));
  return { iu, session: scp03.beginHostSession(keys, hostChallenge, parsed) };
}

test('SCP03 §6.2.2.2: wrong host keys → BAD_CARD_CRYPTOGRAM on the host', () => {
  const keys = keysOf(16);
  const hostChallenge = new Uint8Array(8).fill(3);
  const iu = scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0, hostChallenge), cardContext(keys, 0x70));
  const parsed = scp03.parseInitializeUpdateResponse(iu.response.subarray(0, iu.response.length - 2));
  assert.throws(() => scp03.beginHostSession(keysOf(16, 0x41), hostChallenge, parsed), { code: 'BAD_CARD_CRYPTOGRAM' });
});

test('SCP03 §6.2.2.3: a bad host cryptogram with a valid C-MAC → 6300 (Table 7-7), no channel', () => {
  const { iu, session } = cardHandshake(0x70);
  const wrong = scp03.computeHostCryptogram(session);
  wrong[0]! ^= 0x80;
  const messaging = new Scp03SecureMessaging({ sessionKeys: session.sessionKeys, dek: session.keys.dek, s16: false, level: 0x01 });
  const ea = scp03.cardExternalAuthenticate(iu.pending!, messaging.externalAuthenticate(0x80, wrong));
  assert.equal(toHex(ea.response), '6300');
  assert.equal(ea.channel, undefined);
});

test('SCP03 §6.2.3: a bad EXTERNAL AUTHENTICATE C-MAC → 6982; the pending state is single use (6985)', () => {
  const { iu, session } = cardHandshake(0x70);
  const cmd = scp03.buildExternalAuthenticate(session, 0x01).command;
  cmd[cmd.length - 1]! ^= 0x01;
  assert.equal(toHex(scp03.cardExternalAuthenticate(iu.pending!, cmd).response), '6982');
  assert.equal(toHex(scp03.cardExternalAuthenticate(iu.pending!, scp03.buildExternalAuthenticate(session, 0x01).command).response), '6985');
});

test('SCP03 §7.1.2.3 Table 7-6 / Table 5-1: security levels the card refuses with 6A86', () => {
  for (const [i, level] of [
    [0x70, 0x10], // R-MAC alone is not in Table 7-6
    [0x70, 0x02], // C-DECRYPTION without C-MAC
    [0x10, 0x11], // no R-MAC support in "i"
    [0x30, 0x33], // R-MAC but no R-ENCRYPTION support
  ] as const) {
    const { iu, session } = cardHandshake(i);
    const messaging = new Scp03SecureMessaging({ sessionKeys: session.sessionKeys, dek: session.keys.dek, s16: false, level });
    const ea = scp03.cardExternalAuthenticate(iu.pending!, messaging.externalAuthenticate(0x80, scp03.computeHostCryptogram(session)));
    assert.equal(toHex(ea.response), '6A86', `i=${i.toString(16)} level=${level.toString(16)}`);
  }
  const { session } = cardHandshake(0x70);
  assert.throws(() => scp03.buildExternalAuthenticate(session, 0x10), RangeError);
});

test('SCP03 §7.1.1.6: INITIALIZE UPDATE responses of the wrong length or protocol are refused', () => {
  assert.throws(() => scp03.parseInitializeUpdateResponse(new Uint8Array(31)), { code: 'BAD_RESPONSE' });
  const ok = fromHex('000000000000000000003003703eb51047495b249f66c484c1d2ef1948000002');
  assert.throws(() => scp03.parseInitializeUpdateResponse(ok.subarray(0, 29)), { code: 'BAD_RESPONSE' });
  const scp2 = ok.slice();
  scp2[11] = 0x02;
  assert.throws(() => scp03.parseInitializeUpdateResponse(scp2), { code: 'BAD_RESPONSE' });
});
