/** ISO/IEC 7816-3 §12.1 / 7816-4 §5.1: command APDU cases 1–4, short and extended. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { CodecError } from '../../src/core/errors.ts';
import { command, decodeCommand, encodeCommand, isoCase, type CommandApdu } from '../../src/apdu/command.ts';

const AID = fromHex('A000000151000000');
const D300 = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
const D300HEX = toHex(D300);

const cases: Array<{ name: string; cmd: CommandApdu; hex: string; iso: 1 | 2 | 3 | 4 }> = [
  { name: 'case 1', cmd: command(0x80, 0xf2, 0x80, 0x00), hex: '80F28000', iso: 1 },
  { name: 'case 2 short, Le=10', cmd: command(0x80, 0xca, 0x9f, 0x7f, undefined, 0x10), hex: '80CA9F7F10', iso: 2 },
  { name: 'case 2 short, Ne=256 as Le=00', cmd: command(0x80, 0xca, 0x9f, 0x7f, undefined, 256), hex: '80CA9F7F00', iso: 2 },
  { name: 'case 3 short', cmd: command(0x00, 0xa4, 0x04, 0x00, AID), hex: '00A4040008A000000151000000', iso: 3 },
  { name: 'case 4 short, Le=00', cmd: command(0x00, 0xa4, 0x04, 0x00, AID, 256), hex: '00A4040008A00000015100000000', iso: 4 },
  { name: 'case 4 short, 255 data bytes', cmd: command(0x00, 0xda, 0x00, 0x00, D300.subarray(0, 255), 1), hex: `00DA0000FF${D300HEX.slice(0, 510)}01`, iso: 4 },
  { name: 'case 2 extended, Ne=300', cmd: command(0x00, 0xb0, 0x00, 0x00, undefined, 300), hex: '00B0000000012C', iso: 2 },
  { name: 'case 2 extended, Ne=65536 as 0000', cmd: command(0x00, 0xb0, 0x00, 0x00, undefined, 65536), hex: '00B00000000000', iso: 2 },
  { name: 'case 3 extended, Nc=300', cmd: command(0x00, 0xd6, 0x00, 0x00, D300), hex: `00D6000000012C${D300HEX}`, iso: 3 },
  { name: 'case 4 extended, Nc=300 Ne=65536', cmd: command(0x00, 0xd6, 0x00, 0x00, D300, 65536), hex: `00D6000000012C${D300HEX}0000`, iso: 4 },
  { name: 'case 4 extended, Nc=8 Ne=257', cmd: command(0x00, 0xa4, 0x04, 0x00, AID, 257), hex: '00A404000000 08A000000151000000 0101', iso: 4 },
  { name: 'case 3 forced extended', cmd: { ...command(0x00, 0xa4, 0x04, 0x00, AID), extended: true }, hex: '00A40400000008A000000151000000', iso: 3 },
  { name: 'case 2 forced extended, Ne=1', cmd: { ...command(0x00, 0xb0, 0x00, 0x00, undefined, 1), extended: true }, hex: '00B00000000001', iso: 2 },
];

for (const c of cases) {
  test(`encode/decode round trip: ${c.name}`, () => {
    const bytes = encodeCommand(c.cmd);
    assert.equal(toHex(bytes), c.hex.replace(/\s/g, ''));
    const back = decodeCommand(bytes);
    assert.equal(back.cla, c.cmd.cla);
    assert.equal(back.ins, c.cmd.ins);
    assert.equal(back.p1, c.cmd.p1);
    assert.equal(back.p2, c.cmd.p2);
    assert.deepEqual(back.data, c.cmd.data);
    assert.equal(back.le, c.cmd.le);
    assert.equal(isoCase(back), c.iso);
    assert.equal(toHex(encodeCommand(back)), toHex(bytes));
  });
}

const hostile: Array<{ name: string; hex: string; code: string; offset: number }> = [
  { name: 'empty', hex: '', code: 'TRUNCATED', offset: 0 },
  { name: 'three header bytes', hex: '00A404', code: 'TRUNCATED', offset: 3 },
  { name: 'short Lc=0 with a trailing byte', hex: '00A4040000 00', code: 'BAD_LENGTH', offset: 4 },
  { name: 'short Lc larger than the data', hex: '00A4040005 0102', code: 'TRUNCATED', offset: 4 },
  { name: 'short Lc=8 with one data byte missing', hex: '00A4040008 A0000001510000', code: 'TRUNCATED', offset: 4 },
  { name: 'short data plus two trailing bytes', hex: '00A4040002 0102 0000', code: 'OVERLONG', offset: 4 },
  { name: 'short data plus Le plus one more byte', hex: '00A4040001 01 00 00', code: 'OVERLONG', offset: 4 },
  { name: 'extended Lc=0', hex: '00A40400 000000 01', code: 'BAD_LENGTH', offset: 5 },
  { name: 'extended Lc=0 with Le', hex: '00A40400 000000 0000', code: 'BAD_LENGTH', offset: 5 },
  { name: 'extended Lc larger than the data', hex: '00A40400 000003 0102', code: 'TRUNCATED', offset: 5 },
  { name: 'extended data plus a one-byte Le', hex: '00A40400 000002 0102 00', code: 'OVERLONG', offset: 5 },
  { name: 'extended data plus three trailing bytes', hex: '00A40400 000002 0102 0000FF', code: 'OVERLONG', offset: 5 },
  { name: 'extended Lc=300 with 299 bytes', hex: `00D60000 00012C ${D300HEX.slice(0, 598)}`, code: 'TRUNCATED', offset: 5 },
];

for (const h of hostile) {
  test(`decodeCommand rejects ${h.name} with CodecError ${h.code}`, () => {
    assert.throws(
      () => decodeCommand(fromHex(h.hex)),
      (e: unknown) => e instanceof CodecError && e.code === h.code && e.offset === h.offset,
    );
  });
}

test('command() rejects values that are not bytes and Ne out of range', () => {
  assert.throws(() => command(0x100, 0, 0, 0), RangeError);
  assert.throws(() => command(0, -1, 0, 0), RangeError);
  assert.throws(() => command(0, 0, 0, 0, undefined, 65537), RangeError);
  assert.throws(() => encodeCommand({ cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(65536) }), RangeError);
});

const arbCommand: fc.Arbitrary<CommandApdu> = fc.record({
  cla: fc.integer({ min: 0, max: 255 }),
  ins: fc.integer({ min: 0, max: 255 }),
  p1: fc.integer({ min: 0, max: 255 }),
  p2: fc.integer({ min: 0, max: 255 }),
  data: fc.oneof(fc.uint8Array({ maxLength: 260 }), fc.uint8Array({ minLength: 256, maxLength: 1200 })),
  le: fc.option(fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 65536 })), { nil: undefined }),
  extended: fc.boolean(),
}).map(({ le, ...rest }) => (le === undefined ? rest : { ...rest, le }));

test('property: decodeCommand(encodeCommand(c)) keeps every field', () => {
  fc.assert(
    fc.property(arbCommand, (c) => {
      const bytes = encodeCommand(c);
      const d = decodeCommand(bytes);
      assert.deepEqual([d.cla, d.ins, d.p1, d.p2, d.le], [c.cla, c.ins, c.p1, c.p2, c.le]);
      assert.deepEqual(d.data, c.data);
      const case1 = c.data.length === 0 && c.le === undefined; // no length field to make extended
      const mustBeExtended = !case1 && (c.extended === true || c.data.length > 255 || (c.le !== undefined && c.le > 256));
      assert.equal(d.extended === true, mustBeExtended);
    }),
    { numRuns: 500 },
  );
});

test('property: any byte string either decodes to a command that re-encodes to it, or throws CodecError', () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 12 }),
    fc.uint8Array({ minLength: 4, maxLength: 300 }),
    // Well-formed headers with hostile length fields.
    fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 40 })).map(
      ([h, mode, tail]) => Uint8Array.from([...h, ...(mode === 0 ? [0] : mode === 1 ? [0, 0] : mode === 2 ? [tail.length] : [0, 0, tail.length]), ...tail]),
    ),
  );
  fc.assert(
    fc.property(bytes, (b) => {
      let c: CommandApdu;
      try {
        c = decodeCommand(b);
      } catch (e) {
        assert.ok(e instanceof CodecError, `unexpected ${String(e)}`);
        return;
      }
      assert.equal(toHex(encodeCommand(c)), toHex(b));
    }),
    { numRuns: 2000 },
  );
});
