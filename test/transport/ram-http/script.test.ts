/**
 * Expanded remote command format, ETSI TS 102 226 §5.2.1 (Command Scripting template) and §5.2.2 (Response
 * Scripting template), tags of TS 101 220 §7.2 — vectors written by hand from those tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { CodecError } from '../../../src/core/errors.ts';
import {
  decodeCommandScript,
  decodeResponseScript,
  encodeCommandScript,
  encodeResponseScript,
  scriptApdus,
} from '../../../src/transport/ram-http/script.ts';
import { continuesScript, executeScript } from '../../../src/transport/ram-http/execute.ts';

const hex = (b: Uint8Array) => toHex(b).toUpperCase();

test('§5.2.1 one C-APDU, definite AA and indefinite AE 80 … 00 00', () => {
  const apdu = fromHex('80CAFF2100');
  assert.equal(hex(encodeCommandScript([apdu])), 'AA07220580CAFF2100');
  assert.equal(hex(encodeCommandScript([apdu], 'indefinite')), 'AE80220580CAFF21000000');
  for (const b of ['AA07220580CAFF2100', 'AE80220580CAFF21000000']) {
    const s = decodeCommandScript(fromHex(b));
    assert.deepEqual(scriptApdus(s).map(hex), ['80CAFF2100']);
    assert.equal(s.form, b.startsWith('AA') ? 'definite' : 'indefinite');
  }
});

test('§5.2.1 two C-APDUs keep their order', () => {
  const b = encodeCommandScript([fromHex('80F24002024F0000'), fromHex('00A40004023F0000')]);
  assert.equal(hex(b), 'AA14220880F24002024F0000220800A40004023F0000');
});

test('§5.2.1 a 200-byte C-APDU takes long-form lengths 81 C8 inside 81 CB', () => {
  const capdu = new Uint8Array(200);
  capdu.set([0x80, 0xe2, 0x90, 0x00, 195]);
  const b = encodeCommandScript([capdu]);
  assert.equal(hex(b.subarray(0, 6)), 'AA81CB2281C8');
  assert.deepEqual(scriptApdus(decodeCommandScript(b))[0], capdu);
  const big = new Uint8Array(300);
  big.set([0x80, 0xe8, 0x00, 0x00, 0x00, 0x01, 0x27]);
  assert.equal(hex(encodeCommandScript([big]).subarray(0, 8)), 'AA8201302282012C'.slice(0, 16));
});

test('§5.2.1 immediate action 81, error action 82 and script chaining 83 items', () => {
  const b = encodeCommandScript([
    { kind: 'script-chaining', value: 0x01 },
    { kind: 'c-apdu', apdu: fromHex('80CAFF2100') },
    { kind: 'immediate-action', value: Uint8Array.of(0x01) },
    { kind: 'error-action', value: new Uint8Array(0) },
  ]);
  assert.equal(hex(b), 'AA0F830101220580CAFF21008101018200');
  const s = decodeCommandScript(b);
  assert.deepEqual(s.items.map((i) => i.kind), ['script-chaining', 'c-apdu', 'immediate-action', 'error-action']);
});

test('§5.2.2 response: AF 80 | 80 01 01 | 23 04 93059000 | 00 00', () => {
  const r = decodeResponseScript(fromHex('AF80800101230493059000' + '0000'));
  assert.equal(r.form, 'indefinite');
  assert.equal(r.executed, 1);
  assert.deepEqual(r.responses.map(hex), ['93059000']);
  assert.equal(hex(encodeResponseScript({ executed: 1, responses: [fromHex('93059000')] }, 'indefinite')), 'AF8080010123049305900000'.slice(0, 24) + '00');
});

test('§5.2.2 response: AB 07 | 80 01 01 | 23 02 6132 and multi-command, error status last', () => {
  assert.equal(hex(encodeResponseScript({ executed: 1, responses: [fromHex('6132')] })), 'AB0780010123026132');
  const two = encodeResponseScript({ executed: 2, responses: [fromHex('6F219000'), fromHex('6A82')] });
  assert.equal(hex(two), 'AB0D8001022304' + '6F219000' + '23026A82');
  const r = decodeResponseScript(two);
  assert.deepEqual([r.executed, r.responses.map(hex)], [2, ['6F219000', '6A82']]);
});

test('§5.2.2 Bad Format 90 (01 unknown tag, 02 wrong length, 03 length missing), immediate action and chaining responses', () => {
  assert.equal(hex(encodeResponseScript({ executed: 0, responses: [], badFormat: 'unknown-tag' })), 'AB06800100900101');
  assert.equal(decodeResponseScript(fromHex('AB06800100900102')).badFormat, 'wrong-length');
  assert.equal(decodeResponseScript(fromHex('AB06800100900103')).badFormat, 'length-missing');
  const r = decodeResponseScript(fromHex('AB0D800101230290008101018301' + '02'));
  assert.equal(r.immediateActionResponse, 1);
  assert.equal(r.scriptChainingResponse, 2);
});

const hostileCommands: [string, string, CodecError['code'], number][] = [
  ['empty', '', 'TRUNCATED', 0],
  ['wrong template tag (response template)', 'AB07220580CAFF2100', 'BAD_TAG', 0],
  ['template truncated', 'AA08220580CAFF2100', 'TRUNCATED', 2],
  ['bytes after the template', 'AA07220580CAFF210000', 'TRAILING_DATA', 9],
  ['item value cut short', 'AA07220680CAFF2100', 'TRUNCATED', 4],
  ['length missing', 'AA0122', 'TRUNCATED', 3],
  ['non-minimal length 81 05', 'AA0822810580CAFF2100', 'BAD_LENGTH', 3],
  ['length of 4 bytes', 'AA0B22840000000580CAFF2100', 'BAD_LENGTH', 3],
  ['indefinite length inside', 'AA09228080CAFF21000000', 'BAD_LENGTH', 3],
  ['unknown tag 24', 'AA07240580CAFF2100', 'BAD_TAG', 2],
  ['multi-byte tag', 'AA079F0580CAFF2100', 'BAD_TAG', 2],
  ['C-APDU of 3 bytes', 'AA05220380CAFF', 'BAD_VALUE', 2],
  ['script chaining of 2 bytes', 'AA0483020101', 'BAD_LENGTH', 3],
  ['AE without 80', 'AE07220580CAFF21000000', 'BAD_LENGTH', 1],
  ['AE without end-of-contents', 'AE80220580CAFF2100', 'TRUNCATED', 9],
  ['AE end-of-contents 00 01', 'AE80220580CAFF21000001', 'BAD_LENGTH', 10],
  ['AE bytes after end-of-contents', 'AE80220580CAFF2100000000', 'TRAILING_DATA', 11],
];

for (const [name, input, code, offset] of hostileCommands) {
  test(`§5.2.1 hostile command script: ${name} → CodecError ${code} at ${offset}`, () => {
    assert.throws(
      () => decodeCommandScript(fromHex(input)),
      (e: unknown) => e instanceof CodecError && e.code === code && e.offset === offset,
    );
  });
}

const hostileResponses: [string, string, CodecError['code'], number][] = [
  ['command template instead', 'AA07220580CAFF2100', 'BAD_TAG', 0],
  ['no Number of executed first', 'AB0423029000', 'BAD_TAG', 2],
  ['empty template', 'AB00', 'TRUNCATED', 2],
  ['two Number of executed', 'AB06800101800101', 'BAD_TAG', 5],
  ['Number of executed of 2 bytes', 'AB0480020001', 'BAD_LENGTH', 3],
  ['R-APDU length beyond the template', 'AB06800101230390', 'TRUNCATED', 7],
  ['R-APDU without a status word', 'AB06800101230190', 'BAD_VALUE', 5],
  ['more R-APDUs than executed', 'AB0B800101230290002302' + '9000', 'BAD_VALUE', 4],
  ['Bad Format not last', 'AB0A8001009001012302' + '9000', 'BAD_TAG', 8],
  ['unknown Bad Format value', 'AB06800100900109', 'BAD_VALUE', 7],
  ['unknown tag 22', 'AB0780010122029000', 'BAD_TAG', 5],
  ['AF without end-of-contents', 'AF80800101230290 00'.replace(' ', ''), 'TRUNCATED', 9],
];

for (const [name, input, code, offset] of hostileResponses) {
  test(`§5.2.2 hostile response script: ${name} → CodecError ${code} at ${offset}`, () => {
    assert.throws(
      () => decodeResponseScript(fromHex(input)),
      (e: unknown) => e instanceof CodecError && e.code === code && e.offset === offset,
    );
  });
}

test('encoders refuse caller mistakes with RangeError', () => {
  assert.throws(() => encodeCommandScript([]), RangeError);
  assert.throws(() => encodeCommandScript([fromHex('80CA00')]), RangeError);
  assert.throws(() => encodeResponseScript({ executed: 0, responses: [fromHex('9000')] }), RangeError);
  assert.throws(() => encodeResponseScript({ executed: 256, responses: [] }), RangeError);
  assert.throws(() => encodeResponseScript({ executed: 1, responses: [fromHex('90')] }), RangeError);
});

test('property: decode(encode(apdus)) = apdus for both length forms', () => {
  const apdu = fc.uint8Array({ minLength: 4, maxLength: 300 });
  fc.assert(
    fc.property(fc.array(apdu, { minLength: 1, maxLength: 8 }), fc.constantFrom('definite' as const, 'indefinite' as const), (apdus, form) => {
      const s = decodeCommandScript(encodeCommandScript(apdus, form));
      assert.equal(s.form, form);
      assert.deepEqual(scriptApdus(s), apdus);
    }),
  );
  const rapdu = fc.uint8Array({ minLength: 2, maxLength: 300 });
  fc.assert(
    fc.property(fc.array(rapdu, { maxLength: 8 }), fc.constantFrom('definite' as const, 'indefinite' as const), (responses, form) => {
      const r = decodeResponseScript(encodeResponseScript({ executed: responses.length, responses }, form));
      assert.deepEqual([r.executed, r.responses], [responses.length, responses]);
    }),
  );
});

test('property: random and mutated bytes only ever throw CodecError', () => {
  const valid = encodeCommandScript([fromHex('80CAFF2100'), fromHex('00A4040008A000000151000000')], 'indefinite');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(valid.length - 1), fc.nat(255), (random, at, v) => {
      const mutated = valid.slice();
      mutated[at] = v;
      for (const input of [random, mutated, valid.subarray(0, at)]) {
        for (const decode of [decodeCommandScript, decodeResponseScript]) {
          try {
            decode(input);
          } catch (e) {
            assert.ok(e instanceof CodecError, String(e));
          }
        }
      }
    }),
  );
});

test('§5.2.1 the agent runs commands in order and stops at the first error status word', () => {
  const seen: string[] = [];
  const answers: Record<string, string> = { '00A4040000': '9000', '80CA006600': '6A88', '80CA004200': '42029000' };
  const out = executeScript(encodeCommandScript([fromHex('00A4040000'), fromHex('80CA006600'), fromHex('80CA004200')]), (c) => {
    seen.push(hex(c));
    return fromHex(answers[hex(c)]!);
  });
  assert.deepEqual(seen, ['00A4040000', '80CA006600']);
  assert.equal(hex(out.body), 'AB0B' + '800102' + '23029000' + '23026A88');
  assert.equal(continuesScript(0x6310), true);
  assert.equal(continuesScript(0x62f1), false);
  assert.equal(continuesScript(0x6982), false);
});

test('§5.2.2 the agent answers a malformed script with Bad Format and runs nothing', () => {
  let calls = 0;
  const run = (b: string) => hex(executeScript(fromHex(b), () => (calls++, fromHex('9000'))).body);
  assert.equal(run('AA07240580CAFF2100'), 'AB06800100900101');
  assert.equal(run('AA07220680CAFF2100'), 'AB06800100900102');
  assert.equal(run('AE80220580CAFF2100'), 'AF808001009001020000'.replace('90010200', '9001020000').slice(0, 20));
  assert.equal(calls, 0);
});
