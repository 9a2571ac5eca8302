/**
 * Published SCP02 / SCP03 transcripts and key check values (test/vectors/gp-scp.json),
 * reproduced byte for byte by the host side, and replayed against the card side where the card's
 * random values are known.
 */
import { gpScpVectors } from '../vectors/index.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { aesEcbEncrypt } from '../../src/crypto/aes.ts';
import { desEcbEncrypt } from '../../src/crypto/des.ts';
import * as scp02 from '../../src/scp/scp02/index.ts';
import * as scp03 from '../../src/scp/scp03/index.ts';
import type { StaticKeys } from '../../src/scp/keys.ts';

const vectors = gpScpVectors;
const hex = (s: string) => toHex(fromHex(s));
const keysOf = (k: { enc: string; mac: string; dek: string }): StaticKeys => ({ enc: fromHex(k.enc), mac: fromHex(k.mac), dek: fromHex(k.dek) });

/**
 * KCV = first 3 bytes of the key encrypting a fixed block. 3DES (GPCS B.5): 8 bytes '00'.
 * AES (GPCS 2.3 B.5 / Amendment D): 16 bytes '01' — the rule the published AES KCVs follow (16 bytes '00' does not).
 */
const kcv3des = (k: Uint8Array) => toHex(desEcbEncrypt(k, new Uint8Array(8))).slice(0, 6);
const kcvAes = (k: Uint8Array) => toHex(aesEcbEncrypt(k, new Uint8Array(16).fill(0x01))).slice(0, 6);

test('source of the vectors is recorded', () => {
  assert.equal(typeof vectors.source, 'string');
});

// ---------------------------------------------------------------- SCP02

test('SCP02 GPCS E.5.1 INITIALIZE UPDATE command, E.4.1 session keys, E.4.2 cryptograms, E.5.2 EXTERNAL AUTHENTICATE, E.4.4 C-MAC (i=15 and i=55)', () => {
  const V = vectors.scp02;
  const keys = keysOf(V.keys);
  const hostChallenge = fromHex(V.hostChallenge);
  assert.equal(toHex(scp02.buildInitializeUpdate(parseInt(V.kvn, 16), hostChallenge)), hex(V.initializeUpdate));
  const iu = scp02.parseInitializeUpdateResponse(fromHex(V.initializeUpdateResponse));
  assert.equal(toHex(iu.sequenceCounter!), hex(V.sessionKeys.sequenceCounter));
  for (const i of [0x15, 0x55]) {
    const session = scp02.beginHostSession(keys, hostChallenge, iu, i);
    assert.equal(toHex(session.sessionKeys.enc), hex(V.sessionKeys.enc));
    assert.equal(toHex(session.sessionKeys.cmac), hex(V.sessionKeys.cmac));
    assert.equal(toHex(session.sessionKeys.rmac), hex(V.sessionKeys.rmac));
    assert.equal(toHex(session.sessionKeys.dek), hex(V.sessionKeys.dek));
    assert.ok(scp02.verifyCardCryptogram(session));
    const ea = scp02.buildExternalAuthenticate(session, parseInt(V.securityLevel, 16));
    assert.equal(toHex(ea.command), hex(V.externalAuthenticate));
    const channel = scp02.createHostChannel(session, ea);
    for (const w of V.wrapped) assert.equal(toHex(channel.wrapCommand(fromHex(w.plain))), hex(w.wrapped), `i=${i.toString(16)} ${w.plain}`);
  }
});

test('SCP02 E.3.4: the transcript needs ICV encryption (i=05 without b5 gives other C-MACs)', () => {
  const V = vectors.scp02;
  const iu = scp02.parseInitializeUpdateResponse(fromHex(V.initializeUpdateResponse));
  const session = scp02.beginHostSession(keysOf(V.keys), fromHex(V.hostChallenge), iu, 0x05);
  const ea = scp02.buildExternalAuthenticate(session, 0x01);
  assert.equal(toHex(ea.command), hex(V.externalAuthenticate)); // first ICV is zero either way
  const channel = scp02.createHostChannel(session, ea);
  assert.notEqual(toHex(channel.wrapCommand(fromHex(V.wrapped[0].plain))), hex(V.wrapped[0].wrapped));
});

test('SCP02 card side E.5.2: verifies the transcript EXTERNAL AUTHENTICATE and every wrapped command', () => {
  const V = vectors.scp02;
  const keys = keysOf(V.keys);
  const response = fromHex(V.initializeUpdateResponse);
  const kvn = response[10]!;
  const cardChallenge = response.subarray(14, 20);
  const iu = scp02.cardInitializeUpdate(fromHex(V.initializeUpdate), {
    lookupKeys: () => ({ kvn, keys }),
    sequenceCounter: 1,
    kdd: response.subarray(0, 10),
    i: 0x15,
    aid: fromHex('A000000151000000'),
    random: () => cardChallenge.slice(),
  });
  assert.equal(toHex(iu.response), hex(V.initializeUpdateResponse) + '9000');
  assert.equal(iu.nextSequenceCounter, 1);
  const ea = scp02.cardExternalAuthenticate(iu.pending!, fromHex(V.externalAuthenticate));
  assert.equal(toHex(ea.response), '9000');
  assert.equal(ea.nextSequenceCounter, 2);
  for (const w of V.wrapped) assert.equal(toHex(ea.channel!.unwrapCommand(fromHex(w.wrapped))), hex(w.plain));
});

// ---------------------------------------------------------------- SCP03

test('SCP03 AES-128 level 11, Amendment D §7.1.1 / §6.2.1 / §6.2.2 / §7.1.2 / §6.2.4 / §6.2.5: full transcript', () => {
  const V = vectors.scp03_aes128_level11;
  const keys = keysOf(V.keys);
  for (const n of ['enc', 'mac', 'dek'] as const) assert.equal(kcvAes(keys[n]), hex(V.kcv[n]), `KCV of Key-${n}`);
  const iuCommand = fromHex(V.initializeUpdate);
  const hostChallenge = iuCommand.subarray(5, 13);
  assert.equal(toHex(scp03.buildInitializeUpdate(parseInt(V.kvn, 16), hostChallenge)), hex(V.initializeUpdate));
  const iu = scp03.parseInitializeUpdateResponse(fromHex(V.initializeUpdateResponse));
  assert.equal(iu.kvn, 0x30);
  assert.equal(iu.i, 0x70);
  assert.equal(toHex(iu.sequenceCounter!), '000002');
  const session = scp03.beginHostSession(keys, hostChallenge, iu);
  assert.equal(toHex(session.sessionKeys.sEnc), hex(V.sessionKeys.enc));
  assert.equal(toHex(session.sessionKeys.sMac), hex(V.sessionKeys.mac));
  assert.equal(toHex(session.sessionKeys.sRmac), hex(V.sessionKeys.rmac));
  assert.equal(toHex(iu.cardCryptogram), hex(V.cardCryptogram));
  assert.equal(toHex(scp03.computeHostCryptogram(session)), hex(V.hostCryptogram));
  const ea = scp03.buildExternalAuthenticate(session, 0x11);
  assert.equal(toHex(ea.command), hex(V.externalAuthenticate));
  const channel = scp03.createHostChannel(session, ea);
  for (const w of V.wrapped) {
    assert.equal(toHex(channel.wrapCommand(fromHex(w.plain))), hex(w.wrapped), w.plain);
    // The published response is the data field with its R-MAC; its status word (9000) is not part of it.
    if (w.responseWrapped) assert.equal(toHex(channel.unwrapResponse(fromHex(w.responseWrapped + '9000'))), hex(w.responsePlain) + '9000');
  }
});

test('SCP03 AES-256 level 33, Amendment D §6.2.1 (L=0100) / §7.1.2: EXTERNAL AUTHENTICATE', () => {
  const V = vectors.scp03_aes256_level33;
  const keys = keysOf(V.keys);
  const iuCommand = fromHex(V.initializeUpdate);
  const hostChallenge = iuCommand.subarray(5, 13);
  assert.equal(toHex(scp03.buildInitializeUpdate(parseInt(V.kvn, 16), hostChallenge)), hex(V.initializeUpdate));
  const session = scp03.beginHostSession(keys, hostChallenge, scp03.parseInitializeUpdateResponse(fromHex(V.initializeUpdateResponse)));
  assert.equal(toHex(scp03.buildExternalAuthenticate(session, 0x33).command), hex(V.externalAuthenticate));
});

test('SCP03 card side §7.1.2: accepts both transcript EXTERNAL AUTHENTICATE commands and the AES-128 wrapped commands', () => {
  for (const [name, level] of [['scp03_aes128_level11', 0x11], ['scp03_aes256_level33', 0x33]] as const) {
    const V = vectors[name];
    const keys = keysOf(V.keys);
    const response = fromHex(V.initializeUpdateResponse);
    const n = 8;
    const cardChallenge = response.subarray(13, 13 + n);
    // The card's challenge is replayed through `random` (its pseudo-random AID is not published), so use "i" 60.
    const iu = scp03.cardInitializeUpdate(fromHex(V.initializeUpdate), {
      lookupKeys: () => ({ kvn: response[10]!, keys }),
      sequenceCounter: 2,
      kdd: response.subarray(0, 10),
      i: 0x60,
      aid: fromHex('A000000151000000'),
      random: () => cardChallenge.slice(),
    });
    // Same bytes except "i" and the absent sequence counter.
    assert.equal(toHex(iu.response), toHex(response.subarray(0, 12)) + '60' + toHex(response.subarray(13, 29)) + '9000');
    const ea = scp03.cardExternalAuthenticate(iu.pending!, fromHex(V.externalAuthenticate));
    assert.equal(toHex(ea.response), '9000', name);
    assert.equal(ea.channel!.level, level);
    if (name === 'scp03_aes128_level11') {
      const w0 = V.wrapped[0];
      assert.equal(toHex(ea.channel!.unwrapCommand(fromHex(w0.wrapped))), hex(w0.plain));
      assert.equal(toHex(ea.channel!.wrapResponse(fromHex(w0.responsePlain + '9000'))), hex(w0.responseWrapped) + '9000');
      for (const w of V.wrapped.slice(1)) assert.equal(toHex(ea.channel!.unwrapCommand(fromHex(w.wrapped))), hex(w.plain));
    }
  }
});

// ---------------------------------------------------------------- KCVs of session keys

test('KCV: SCP02 session keys of 40..4F with sequence counter 0000 (E.4.1; 3DES KCV over 8 × 00)', () => {
  const V = vectors.kcv_static_40_4F;
  const key = fromHex(V.key);
  const sk = scp02.deriveSessionKeys({ enc: key, mac: key, dek: key }, fromHex('0000'));
  const expected = V.scp02SessionKeys_seq0000;
  assert.equal(kcv3des(sk.enc), expected.enc);
  assert.equal(kcv3des(sk.cmac), expected.cmac);
  assert.equal(kcv3des(sk.rmac), expected.rmac);
  assert.equal(kcv3des(sk.dek), expected.dek);
});

test('KCV: SCP03 session keys of 40..4F with the KDD as context (§6.2.1; AES KCV over 16 × 01)', () => {
  const V = vectors.kcv_static_40_4F;
  const key = fromHex(V.key);
  const sk = scp03.deriveSessionKeys({ enc: key, mac: key, dek: key }, fromHex(V.kdd));
  const expected = V.scp03SessionKeys_contextIsKdd;
  assert.equal(kcvAes(sk.sEnc), expected.enc);
  assert.equal(kcvAes(sk.sMac), expected.mac);
  assert.equal(kcvAes(sk.sRmac), expected.rmac);
  // The other AES rule (16 × 00) does not reproduce them.
  assert.notEqual(toHex(aesEcbEncrypt(sk.sEnc, new Uint8Array(16))).slice(0, 6), expected.enc);
});
