import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PRIVILEGES,
  decodePrivileges,
  encodePrivileges,
  formatPrivileges,
  privilegesFromList,
  type PrivilegeName,
} from '../../src/gp/index.ts';
import { h, toHex, assertRejects } from './helpers.ts';

test('§11.1.2 Table 11-7: byte 1 codings', () => {
  assert.equal(toHex(encodePrivileges(['SecurityDomain'])), '800000');
  assert.equal(toHex(encodePrivileges(['DAPVerification'])), 'C00000');
  assert.equal(toHex(encodePrivileges(['DelegatedManagement'])), 'A00000');
  assert.equal(toHex(encodePrivileges(['MandatedDAPVerification'])), 'C10000');
  assert.equal(toHex(encodePrivileges(['CardLock', 'CardTerminate', 'CardReset', 'CVMManagement'])), '1E0000');
});

test('§11.1.2 Tables 11-8, 11-9: bytes 2 and 3', () => {
  assert.equal(toHex(encodePrivileges(['TrustedPath', 'AuthorizedManagement', 'TokenVerification', 'GlobalDelete'])), '00F000');
  assert.equal(toHex(encodePrivileges(['GlobalLock', 'GlobalRegistry', 'FinalApplication', 'GlobalService'])), '000F00');
  assert.equal(
    toHex(encodePrivileges(['ReceiptGeneration', 'CipheredLoadFileDataBlock', 'ContactlessActivation', 'ContactlessSelfActivation'])),
    '0000F0',
  );
});

test('§11.1.2: a typical ISD 9EFE80 decodes to its names', () => {
  const p = decodePrivileges(h('9EFE80'));
  assert.deepEqual(
    [...p].sort(),
    ['AuthorizedManagement', 'CVMManagement', 'CardLock', 'CardReset', 'CardTerminate', 'FinalApplication', 'GlobalDelete',
      'GlobalLock', 'GlobalRegistry', 'ReceiptGeneration', 'SecurityDomain', 'TokenVerification', 'TrustedPath'].sort(),
  );
  assert.equal(toHex(encodePrivileges(p)), '9EFE80');
});

test('§11.5.2.3.2 note: one-byte legacy form', () => {
  assert.deepEqual([...decodePrivileges(h('C1'))].sort(), ['MandatedDAPVerification', 'SecurityDomain']);
  assert.equal(toHex(encodePrivileges(['SecurityDomain', 'DelegatedManagement'], 1)), 'A0');
  assert.throws(() => encodePrivileges(['AuthorizedManagement'], 1), RangeError);
});

test('privilege list parsing sd,cm,am,dm', () => {
  const p = privilegesFromList('sd,cm,am,dm');
  assert.equal(toHex(encodePrivileges(p)), 'A24000');
  assert.equal(formatPrivileges(p, 'short'), 'sd, dm, cm, am');
  assert.equal(toHex(encodePrivileges(privilegesFromList('GlobalRegistry dap'))), 'C00400');
  assertRejects(() => privilegesFromList('sd,xyz'), 0x6a80, 'BAD_PRIVILEGES');
});

test('hostile privilege bytes', () => {
  for (const [hex, why] of [
    ['', 'empty'],
    ['8000', 'two bytes'],
    ['80000000', 'four bytes'],
    ['40', 'DAP without SD'],
    ['20', 'DM without SD'],
    ['81', 'mandated DAP without b7'],
    ['010000', 'b1 alone'],
  ] as const) {
    assertRejects(() => decodePrivileges(h(hex)), 0x6a80, 'BAD_PRIVILEGES');
    void why;
  }
  assert.throws(() => encodePrivileges(['DAPVerification', 'MandatedDAPVerification']), RangeError);
});

test('property: decode(encode(x)) keeps every privilege (SD added when implied)', () => {
  const names = PRIVILEGES.map((p) => p.name).filter((n) => n !== 'MandatedDAPVerification');
  fc.assert(
    fc.property(fc.subarray(names as PrivilegeName[]), (set) => {
      const back = decodePrivileges(encodePrivileges(set));
      for (const n of set) assert.ok(back.has(n), n);
      assert.equal(toHex(encodePrivileges(back)), toHex(encodePrivileges(set)));
    }),
  );
});
