/**
 * `opentsm gp --debug`: every APDU traced on stderr, the handshake on the wire, every command inside the
 * channel plain (`>>`/`<<`) and wrapped (` >`/` <`); PUT KEY data masked as `<key data, KCV …>`
 * (CONVENTIONS.md: log KCVs, never keys) — the new key's hex never appears in any output.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { kcvAes, kcvDes } from '../../src/gp/kcv.ts';
import { ISD, SSD, gp, lines, tempDir, type Result } from './helpers.ts';

const tmp = tempDir();
after(() => tmp.dispose());
let n = 0;
const newFile = () => tmp.file(`debug-${++n}.json`);

const HEX = '[0-9A-F]';

/** Checks that commands inside the channel come as `>>` plain, ` >` wrapped, ` <` wire response, `<<` plain response. */
function assertPlainAndWrapped(trace: readonly string[]): { plain: string; wire: string; wireResponse: string; plainResponse: string }[] {
  const exchanges = [];
  for (let i = 0; i < trace.length; i++) {
    if (!trace[i]!.startsWith('>> ')) continue;
    const [plain, wire, wireResponse, plainResponse] = trace.slice(i, i + 4);
    assert.match(wire!, /^ > /, `wrapped command after ${plain}`);
    assert.match(wireResponse!, /^ < /, `wire response after ${plain}`);
    assert.match(plainResponse!, /^<< /, `plain response after ${plain}`);
    exchanges.push({ plain: plain!, wire: wire!, wireResponse: wireResponse!, plainResponse: plainResponse! });
    i += 3;
  }
  // Nothing else than the three handshake exchanges outside the channel.
  assert.equal(trace.filter((l) => l.startsWith(' > ')).length, 3 + exchanges.length);
  assert.equal(trace.filter((l) => l.startsWith(' < ')).length, 3 + exchanges.length);
  return exchanges;
}

function allOutput(r: Result): string {
  return `${r.stdout}\n${r.stderr}`.toUpperCase();
}

describe('opentsm gp --debug', () => {
  test('SCP03 --sec renc: handshake on the wire, GET DATA plain and wrapped (C-MAC, C-ENC, R-MAC, R-ENC)', async () => {
    const file = newFile();
    const r = await gp(file, '--sec', 'renc', '--debug', '--apdu', '80CA006600');
    assert.equal(r.code, 0, r.stderr);
    const trace = lines(r.stderr);
    assert.match(trace[0]!, /^ > 00A4040008A00000015100000000$/);
    assert.match(trace[1]!, new RegExp(`^ < 6F4E8408A000000151000000${HEX}+9000 \\(9000 success\\)$`));
    assert.match(trace[2]!, new RegExp(`^ > 8050000008${HEX}{16}00$`));
    assert.match(trace[3]!, new RegExp(`^ < 00010203040506070809300370${HEX}{32}${HEX}{6}9000 \\(9000 success\\)$`));
    assert.match(trace[4]!, new RegExp(`^ > 8482330010${HEX}{32}$`));
    assert.equal(trace[5], ' < 9000 (9000 success)');
    const [x] = assertPlainAndWrapped(trace);
    assert.equal(x!.plain, '>> 80CA006600');
    // Case 2 with C-DEC: no data to encrypt, 8-byte C-MAC appended: Lc 08.
    assert.match(x!.wire, new RegExp(`^ > 84CA006608${HEX}{16}00$`));
    // R-ENC: 51 bytes of card data padded to 64, plus an 8-byte R-MAC.
    assert.match(x!.wireResponse, new RegExp(`^ < ${HEX}{${2 * 72}}9000 \\(9000 success\\)$`));
    assert.equal(
      x!.plainResponse,
      '<< 6631732F06072A864886FC6B01600C060A2A864886FC6B02020301630906072A864886FC6B03640B06092A864886FC6B0403709000 (9000 success)',
    );
    assert.equal(trace.length, 10);
  });

  test('SCP02 --sec mac: INSTALL [for install] plain, then with the C-MAC on the wire', async () => {
    const file = newFile();
    const r = await gp(file, '--profile', 'scp02', '--debug', '--create-domain', SSD, '--sd-scp', '02:55');
    assert.equal(r.code, 0, r.stderr);
    const [x, ...more] = assertPlainAndWrapped(lines(r.stderr));
    assert.equal(more.length, 0);
    const body = `07A000000151535008A0000001515350410A${SSD}0380000006C90481020255`;
    assert.equal(x!.plain, `>> 80E60C0028${body}0000`);
    assert.match(x!.wire, new RegExp(`^ > 84E60C0030${body}00${HEX}{16}00$`));
    assert.equal(x!.plainResponse, '<< 009000 (9000 success)');
  });

  for (const profile of ['scp03', 'scp02'] as const) {
    for (const sec of ['mac', 'enc'] as const) {
      test(`${profile} --sec ${sec}: PUT KEY data masked as <key data, KCV …>; the new key never appears`, async () => {
        const file = newFile();
        const newKey = profile === 'scp03' ? '00112233445566778899AABBCCDDEEFF' : '101112131415161718191A1B1C1D1E1F';
        const kcv = toHex((profile === 'scp03' ? kcvAes : kcvDes)(fromHex(newKey)));
        const created = await gp(file, '--profile', profile, '--create-domain', SSD, '--sd-scp', profile === 'scp03' ? '03:70' : '02:55');
        assert.equal(created.code, 0, created.stderr);
        const r = await gp(file, '--domain', SSD, '--kvn', '0xFF', '--sec', sec, '--debug', '--put-key', '--new-kvn', '0x31', '--new-key', newKey);
        assert.equal(r.code, 0, r.stderr);
        const trace = lines(r.stderr);
        const [x] = assertPlainAndWrapped(trace);
        const lc = profile === 'scp03' ? '46' : '43'; // 1 + 3 × (type, length, [length], key, KCV length, KCV)
        assert.equal(x!.plain, `>> 80D80081${lc} <key data, KCV ${kcv} ${kcv} ${kcv}> 00`);
        if (sec === 'mac') {
          const wireLc = (Number.parseInt(lc, 16) + 8).toString(16).toUpperCase();
          assert.equal(x!.wire, ` > 84D80081${wireLc} <key data, KCV ${kcv} ${kcv} ${kcv}> 00`);
        } else {
          // Encrypted (C-DEC): no structure to read KCVs from; only the length is shown.
          assert.match(x!.wire, /^ > 84D80081[0-9A-F]{2} <key data, \d+ bytes> 00$/);
        }
        assert.equal(x!.plainResponse, `<< 31${kcv}${kcv}${kcv}9000 (9000 success)`);
        assert.equal(lines(r.stdout).at(-1), `key set 31 added; KCV ${kcv} ${kcv} ${kcv}`);
        const everything = allOutput(r);
        assert.ok(!everything.includes(newKey), 'the new key appears in the output');
        assert.ok(!everything.includes(newKey.slice(0, 16)) && !everything.includes(newKey.slice(16)), 'half of the new key appears');
        // The ISD/SSD static test key is not printed either (only cryptograms and MACs are).
        assert.ok(!everything.includes('404142434445464748494A4B4C4D4E4F'));
        assert.ok(trace.every((l) => !/^(>> 80| > 84)D8/.test(l) || l.includes('<key data')), 'an unmasked PUT KEY line');
      });
    }
  }

  test('without --debug nothing is traced', async () => {
    const file = newFile();
    const r = await gp(file, '--apdu', '80CA006600');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.equal(lines(r.stdout).length, 3);
    assert.ok(!r.stdout.includes(` > `) && !r.stdout.includes(ISD + '00'));
  });
});
