/**
 * Property tests (fast-check): unwrap(wrap(x)) = x for commands and responses of any size the level allows,
 * and any single flipped bit in a protected command or response is rejected.
 * Outside the protection by design (GPCS 2.2.1 E.4.4, Amendment D §6.2.4): the logical channel and secure
 * messaging coding bits of CLA, and Le — flips there are not expected to be caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCommand, encodeCommand } from '../../src/apdu/command.ts';
import { toHex } from '../../src/core/bytes.ts';
import { SecureChannelError } from '../../src/scp/errors.ts';
import { maxShortCommandData } from '../../src/scp/level.ts';
import { keysOf, openPair, type Pair } from './helpers.ts';

interface Config {
  readonly name: string;
  readonly scp: 2 | 3;
  readonly i: number;
  readonly level: number;
  readonly keyLength: number;
  readonly s16: boolean;
}

const CONFIGS: Config[] = [
  { name: 'SCP02 i=15 level 03', scp: 2, i: 0x15, level: 0x03, keyLength: 16, s16: false },
  { name: 'SCP02 i=75 level 13', scp: 2, i: 0x75, level: 0x13, keyLength: 16, s16: false },
  { name: 'SCP02 i=35 level 11', scp: 2, i: 0x35, level: 0x11, keyLength: 16, s16: false },
  { name: 'SCP03 AES-128 S8 level 33', scp: 3, i: 0x70, level: 0x33, keyLength: 16, s16: false },
  { name: 'SCP03 AES-192 S16 level 33', scp: 3, i: 0x71, level: 0x33, keyLength: 24, s16: true },
  { name: 'SCP03 AES-256 S8 level 13', scp: 3, i: 0x70, level: 0x13, keyLength: 32, s16: false },
  { name: 'SCP03 AES-128 S16 level 01', scp: 3, i: 0x01, level: 0x01, keyLength: 16, s16: true },
];

const pairs = new Map<string, Pair>();
function pairFor(c: Config, fresh = false): Pair {
  if (fresh || !pairs.has(c.name)) pairs.set(c.name, openPair(c.scp, { keys: keysOf(c.keyLength), i: c.i, level: c.level, s16: c.s16 }));
  return pairs.get(c.name)!;
}

function commandArb(c: Config) {
  const max = maxShortCommandData(c.scp, c.level, c.s16);
  return fc.record({
    channel: fc.integer({ min: 0, max: 19 }),
    ins: fc.integer({ min: 0, max: 255 }).filter((v) => (v & 0xf0) !== 0x60 && (v & 0xf0) !== 0x90),
    p1: fc.integer({ min: 0, max: 255 }),
    p2: fc.integer({ min: 0, max: 255 }),
    data: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ minLength: max - 8, maxLength: max })),
    le: fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }),
  }).map(({ channel, ins, p1, p2, data, le }) => {
    const cla = channel < 4 ? 0x80 | channel : 0xc0 | (channel - 4);
    return encodeCommand({ cla, ins, p1, p2, data, ...(le === undefined ? {} : { le }) });
  });
}

const normalSw = fc.oneof(fc.constant(0x9000), fc.integer({ min: 0x6200, max: 0x63ff }));
const responseArb = fc.record({ data: fc.uint8Array({ maxLength: 256 }), sw: normalSw }).map(({ data, sw }) => {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = sw >> 8;
  out[data.length + 1] = sw & 0xff;
  return out;
});

for (const c of CONFIGS) {
  test(`${c.name}: unwrap(wrap(command)) = command and unwrap(wrap(response)) = response, up to the level's maximum data length`, () => {
    fc.assert(
      fc.property(commandArb(c), responseArb, (cmd, rsp) => {
        const { host, card } = pairFor(c);
        assert.equal(toHex(card.unwrapCommand(host.wrapCommand(cmd))), toHex(cmd));
        assert.equal(toHex(host.unwrapResponse(card.wrapResponse(rsp))), toHex(rsp));
      }),
      { numRuns: 150 },
    );
  });

  test(`${c.name}: a single flipped bit in a protected command (outside CLA channel/SM coding and Le) is rejected with 6982 or 6700`, () => {
    fc.assert(
      fc.property(commandArb(c), fc.nat(), fc.integer({ min: 0, max: 7 }), (cmd, at, bit) => {
        const { host, card } = pairFor(c, true);
        const wrapped = host.wrapCommand(cmd);
        const leLength = decodeCommand(wrapped).le !== undefined ? 1 : 0; // short APDUs only here
        const protectedEnd = wrapped.length - leLength;
        const candidates: Array<[number, number]> = [[0, 0x80], [0, 0x10]];
        if (wrapped[0]! & 0x40) candidates.push([0, 0x20]);
        else candidates.push([0, 0x04]);
        for (let b = 1; b < protectedEnd; b++) for (let k = 0; k < 8; k++) candidates.push([b, 1 << k]);
        const [index, mask] = candidates[(at * 8 + bit) % candidates.length]!;
        const tampered = wrapped.slice();
        tampered[index]! ^= mask;
        assert.throws(
          () => card.unwrapCommand(tampered),
          (e: unknown) => e instanceof SecureChannelError && (e.sw === 0x6982 || e.sw === 0x6700),
          `byte ${index} mask ${mask.toString(16)}`,
        );
        assert.equal(card.active, false, 'session aborted');
      }),
      { numRuns: 150 },
    );
  });

  if (c.level & 0x10) {
    test(`${c.name}: a single flipped bit anywhere in a protected response is rejected`, () => {
      fc.assert(
        fc.property(commandArb(c), responseArb, fc.nat(), (cmd, rsp, at) => {
          const { host, card } = pairFor(c, true);
          card.unwrapCommand(host.wrapCommand(cmd));
          const wrapped = card.wrapResponse(rsp);
          const tampered = wrapped.slice();
          const bitIndex = at % (wrapped.length * 8);
          tampered[bitIndex >> 3]! ^= 1 << (bitIndex & 7);
          assert.throws(() => host.unwrapResponse(tampered), SecureChannelError);
          assert.throws(() => host.wrapCommand(cmd), { code: 'NOT_AUTHENTICATED' });
        }),
        { numRuns: 150 },
      );
    });
  }
}
