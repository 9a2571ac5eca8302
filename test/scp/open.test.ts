/**
 * openSecureChannel over an in-memory card built from the card-side functions: GPCS 2.2.1 E.5.1/E.5.2
 * (SCP02) and Amendment D v1.2 §7.1.1/§7.1.2 (SCP03), then secured commands to an echo application.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import type { CardSecureChannel, PendingExternalAuthenticate } from '../../src/scp/channel.ts';
import { SecureChannelError } from '../../src/scp/errors.ts';
import { openSecureChannel, parseInitializeUpdateResponse, scp02, scp03, SecurityLevel, type StaticKeys } from '../../src/scp/index.ts';
import { KDD, cardContext, countingRandom, keysOf } from './helpers.ts';

/** A card with one security domain: IU/EA to the handshake, everything else unwrapped and echoed (data + 9000). */
function fakeCard(scp: 2 | 3, keys: StaticKeys, i: number) {
  const proto = scp === 2 ? scp02 : scp03;
  let counter = 0;
  let pending: PendingExternalAuthenticate | undefined;
  let session: CardSecureChannel | undefined;
  const log: string[] = [];
  const transmit = async (apdu: Uint8Array): Promise<Uint8Array> => {
    log.push(toHex(apdu));
    if (apdu[1] === 0x50) {
      session = undefined;
      const r = proto.cardInitializeUpdate(apdu, { ...cardContext(keys, i, counter), lookupKeys: (v) => (v === 0 || v === 0x30 ? { kvn: 0x30, keys } : undefined) });
      counter = r.nextSequenceCounter;
      pending = r.pending;
      return r.response;
    }
    if (apdu[1] === 0x82 && pending) {
      const r = proto.cardExternalAuthenticate(pending, apdu);
      pending = undefined;
      session = r.channel;
      if (r.nextSequenceCounter !== undefined) counter = r.nextSequenceCounter;
      return r.response;
    }
    if (!session) return fromHex('6985');
    try {
      const plain = session.unwrapCommand(apdu);
      const data = plain.length > 5 ? plain.subarray(5, 5 + plain[4]!) : new Uint8Array(0);
      const rsp = new Uint8Array(data.length + 2);
      rsp.set(data);
      rsp.set([0x90, 0x00], data.length);
      return session.wrapResponse(rsp);
    } catch (e) {
      if (e instanceof SecureChannelError && e.sw !== undefined) return Uint8Array.of(e.sw >> 8, e.sw & 0xff);
      throw e;
    }
  };
  return { transmit, log, counter: () => counter };
}

async function exchange(host: Awaited<ReturnType<typeof openSecureChannel>>, transmit: (a: Uint8Array) => Promise<Uint8Array>, hex: string) {
  return toHex(host.unwrapResponse(await transmit(host.wrapCommand(fromHex(hex)))));
}

test('openSecureChannel: SCP03 S8 level 33, keys chosen from the KDD, then secured echo', async () => {
  const keys = keysOf(16);
  const card = fakeCard(3, keys, 0x70);
  let seenKdd = '';
  const host = await openSecureChannel(card.transmit, {
    keys: (iu) => {
      seenKdd = toHex(iu.kdd);
      return keys;
    },
    level: SecurityLevel.C_DEC_R_ENC_C_MAC_R_MAC,
    random: countingRandom(5),
  });
  assert.equal(seenKdd, toHex(KDD));
  assert.equal(host.scp, 3);
  assert.equal(host.kvn, 0x30);
  assert.equal(host.i, 0x70);
  assert.equal(card.log[0], '8050000008' + '05060708090A0B0C' + '00');
  assert.equal(await exchange(host, card.transmit, '80E2900003010203'), '0102039000');
  assert.equal(await exchange(host, card.transmit, '80CA006600'), '9000');
  assert.equal(card.counter(), 1, 'pseudo-random mode: incremented by INITIALIZE UPDATE');
});

test('openSecureChannel: SCP03 S16 with AES-256 keys', async () => {
  const keys = keysOf(32);
  const card = fakeCard(3, keys, 0x71);
  const host = await openSecureChannel(card.transmit, { keys, level: 0x13, s16: true, scp: 3, kvn: 0x30 });
  assert.equal(card.log[0]!.slice(0, 10), '8050300010');
  assert.equal(await exchange(host, card.transmit, '80E2900003010203'), '0102039000');
});

test('openSecureChannel: SCP02 i=55 level 03, counter incremented by EXTERNAL AUTHENTICATE', async () => {
  const keys = keysOf(16);
  const card = fakeCard(2, keys, 0x55);
  const host = await openSecureChannel(card.transmit, { keys, level: 0x03 });
  assert.equal(host.scp, 2);
  assert.equal(host.i, 0x55);
  assert.equal(card.counter(), 1);
  assert.equal(await exchange(host, card.transmit, '80E2900003010203'), '0102039000');
  const again = await openSecureChannel(card.transmit, { keys, level: 0x01, scp: 2, i: 0x55 });
  assert.equal(card.counter(), 2);
  assert.equal(await exchange(again, card.transmit, '80CA006600'), '9000');
});

test('openSecureChannel: SCP02 i=75 level 13 with R-MAC', async () => {
  const keys = keysOf(16);
  const card = fakeCard(2, keys, 0x75);
  const host = await openSecureChannel(card.transmit, { keys, level: 0x13, i: 0x75 });
  assert.equal(await exchange(host, card.transmit, '80E2900003010203'), '0102039000');
});

test('openSecureChannel: refusals carry the status word; bad card cryptogram; protocol and level mismatches', async () => {
  const keys = keysOf(16);
  const card3 = fakeCard(3, keys, 0x10);
  await assert.rejects(openSecureChannel(card3.transmit, { keys, level: 0x01, kvn: 0x31 }), { code: 'BAD_STATUS', sw: 0x6a88 });
  await assert.rejects(openSecureChannel(card3.transmit, { keys: keysOf(16, 0x99), level: 0x01 }), { code: 'BAD_CARD_CRYPTOGRAM' });
  await assert.rejects(openSecureChannel(card3.transmit, { keys, level: 0x01, scp: 2 }), { code: 'UNSUPPORTED' });
  await assert.rejects(openSecureChannel(card3.transmit, { keys, level: 0x11 }), { code: 'UNSUPPORTED' }); // "i" 10: no R-MAC
  await assert.rejects(openSecureChannel(card3.transmit, { keys, level: 0x10 }), RangeError); // not an SCP03 level
  const card2 = fakeCard(2, keys, 0x55);
  // The host does not know the SCP02 card's "i" unless told: the card refuses the R-MAC level itself.
  await assert.rejects(openSecureChannel(card2.transmit, { keys, level: 0x11 }), { code: 'BAD_STATUS', sw: 0x6a86 });
  await assert.rejects(openSecureChannel(card2.transmit, { keys, level: 0x11, i: 0x55 }), { code: 'UNSUPPORTED' });
});

test('parseInitializeUpdateResponse dispatches on the protocol identifier of the key information', () => {
  assert.equal(parseInitializeUpdateResponse(fromHex('00000000000000000000700200016B4524ABEE7CF32EA3838BC148F3')).scp, 2);
  assert.equal(parseInitializeUpdateResponse(fromHex('000000000000000000003003703eb51047495b249f66c484c1d2ef1948000002')).scp, 3);
  assert.throws(() => parseInitializeUpdateResponse(fromHex('000000000000000000003001703eb51047495b249f66c484c1d2ef1948000002')), { code: 'UNSUPPORTED' });
  assert.throws(() => parseInitializeUpdateResponse(new Uint8Array(5)), { code: 'BAD_RESPONSE' });
});
