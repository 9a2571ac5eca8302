/** Test helpers: a host↔card pair opened with the sans-IO handshake of either protocol. */
import assert from 'node:assert/strict';
import { fromHex } from '../../src/core/bytes.ts';
import type { RandomSource } from '../../src/crypto/random.ts';
import type { CardHandshakeContext, CardSecureChannel, HostSecureChannel } from '../../src/scp/channel.ts';
import type { StaticKeys } from '../../src/scp/keys.ts';
import * as scp02 from '../../src/scp/scp02/index.ts';
import * as scp03 from '../../src/scp/scp03/index.ts';

export const AID = fromHex('A000000151000000');
export const KDD = fromHex('00010203040506070809');

/** Deterministic "random": bytes counting up from a seed. */
export function countingRandom(seed = 1): RandomSource {
  let n = seed;
  return (length) => Uint8Array.from({ length }, () => n++ & 0xff);
}

export function keysOf(length: number, seed = 0x40): StaticKeys {
  const k = (base: number) => Uint8Array.from({ length }, (_, i) => (base + i) & 0xff);
  return { enc: k(seed), mac: k(seed + 0x10), dek: k(seed + 0x20) };
}

export function cardContext(keys: StaticKeys, i: number, sequenceCounter = 0, kvn = 0x30): CardHandshakeContext {
  return {
    lookupKeys: (v) => (v === 0 || v === kvn ? { kvn, keys } : undefined),
    sequenceCounter,
    kdd: KDD,
    i,
    aid: AID,
    random: countingRandom(0x77),
  };
}

export interface Pair {
  readonly host: HostSecureChannel;
  readonly card: CardSecureChannel;
}

/** Open a channel between the host functions and the card functions, asserting 9000 at every step. */
export function openPair(scp: 2 | 3, opts: { keys: StaticKeys; i: number; level: number; s16?: boolean; logicalChannel?: number }): Pair {
  const s16 = opts.s16 === true;
  const hostChallenge = countingRandom(0x10)(s16 ? 16 : 8);
  const proto = scp === 2 ? scp02 : scp03;
  const ctx = cardContext(opts.keys, opts.i);
  const iuCmd = proto.buildInitializeUpdate(0x30, hostChallenge, opts.logicalChannel ?? 0);
  const iu = proto.cardInitializeUpdate(iuCmd, ctx);
  assert.equal(iu.response.length > 2 && iu.response[iu.response.length - 2], 0x90, 'INITIALIZE UPDATE answered 9000');
  const parsed = proto.parseInitializeUpdateResponse(iu.response.subarray(0, iu.response.length - 2));
  let command: Uint8Array;
  let finish: () => HostSecureChannel;
  if (scp === 2) {
    const session = scp02.beginHostSession(opts.keys, hostChallenge, parsed, opts.i);
    const ea = scp02.buildExternalAuthenticate(session, opts.level, opts.logicalChannel ?? 0);
    command = ea.command;
    finish = () => scp02.createHostChannel(session, ea);
  } else {
    const session = scp03.beginHostSession(opts.keys, hostChallenge, parsed);
    const ea = scp03.buildExternalAuthenticate(session, opts.level, opts.logicalChannel ?? 0);
    command = ea.command;
    finish = () => scp03.createHostChannel(session, ea);
  }
  const ea = proto.cardExternalAuthenticate(iu.pending!, command);
  assert.deepEqual([...ea.response], [0x90, 0x00], 'EXTERNAL AUTHENTICATE answered 9000');
  assert.ok(ea.channel);
  return { host: finish(), card: ea.channel };
}

/** The SCP02 "i" values with R-MAC support for levels 1x. */
export function scp02IFor(baseI: number, level: number): number {
  return level & 0x10 ? baseI | 0x20 : baseI;
}
