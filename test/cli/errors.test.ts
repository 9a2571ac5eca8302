/**
 * Bad input to `opentsm`: a readable one-line message on stderr, exit status 2 for a usage error and 1 for
 * a card's refusal, never a stack trace, and the card's state file byte for byte unchanged by usage errors
 * (they are found before the card is touched) and by corrupted state files (refused, left as they are).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ECHO_ELF, ECHO_INSTANCE, ECHO_MODULE, MAIN, SSD, cli, gp, lines, readState, spawnCli, tempDir, type Result } from './helpers.ts';

const tmp = tempDir();
after(() => tmp.dispose());
let n = 0;
const newFile = () => tmp.file(`err-${++n}.json`);

function assertNoStack(r: Result): void {
  assert.equal(r.threw, undefined, `main threw: ${r.threw instanceof Error ? r.threw.stack : String(r.threw)}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace on stderr');
  assert.doesNotMatch(r.stderr, /Error:/, 'error class name on stderr');
}

/** Run, expect exit `code` and stderr exactly `message` (one line), no stack, no stdout beyond `stdoutLines`. */
function expectFailure(r: Result, code: 1 | 2, message: string | RegExp): void {
  assertNoStack(r);
  assert.equal(r.code, code, `exit status (stderr: ${r.stderr})`);
  const err = lines(r.stderr);
  assert.equal(err.length, 1, `one line on stderr, got:\n${r.stderr}`);
  if (typeof message === 'string') assert.equal(err[0], message);
  else assert.match(err[0]!, message);
}

describe('opentsm gp: usage errors exit 2 and leave the state file untouched', () => {
  const SCP03 = tmp.file('scp03.json');
  const SCP02 = tmp.file('scp02.json');
  before(async () => {
    assert.equal((await gp(SCP03, '--list')).code, 0);
    assert.equal((await gp(SCP02, '--profile', 'scp02', '--list')).code, 0);
  });

  const cases: readonly (readonly [string, readonly string[], string | RegExp])[] = [
    ['unknown option', ['--list', '--bogus'], 'opentsm: unknown option --bogus (see --help)'],
    ['unknown option with a value', ['--list', '--bogus=1'], 'opentsm: unknown option --bogus (see --help)'],
    ['missing value at the end', ['--list', '--kvn'], 'opentsm: --kvn needs a value (N)'],
    ['missing value before an option', ['--kvn', '--list'], 'opentsm: --kvn needs a value (N)'],
    ['value for a flag', ['--list=yes'], 'opentsm: --list takes no value'],
    ['option given twice', ['--list', '--kvn', '1', '--kvn', '2'], 'opentsm: --kvn given twice'],
    ['nothing to do', [], 'opentsm: nothing to do: give an action such as --list or --info (see opentsm gp --help)'],
    ['stray argument', ['--list', 'extra'], 'opentsm: unexpected argument "extra" (see opentsm gp --help)'],
    ['bad hex in --apdu', ['--apdu', '80CA0066ZZ'], 'opentsm: --apdu 80CA0066ZZ: not a valid command APDU (not a hex digit: "Z" (at offset 8))'],
    ['odd-length hex in --apdu', ['--apdu', '80CA00660'], /^opentsm: --apdu 80CA00660: not a valid command APDU \(.+\)$/],
    ['APDU shorter than a header', ['--apdu', '80CA'], 'opentsm: --apdu 80CA: not a valid command APDU (command APDU shorter than its header (at offset 2))'],
    ['APDU with a wrong Lc', ['--apdu', '80E2900005AABB'], /^opentsm: --apdu 80E2900005AABB: not a valid command APDU \(.+\)$/],
    ['bad hex in --key', ['--list', '--key', '404142434445464748494A4B4C4D4EXX'], /^opentsm: --key: not a hex digit: "X" \(at offset \d+\)$/],
    ['short --key', ['--list', '--key', '0011'], 'opentsm: --key: a key is 16, 24 or 32 bytes, got 2'],
    ['--key-enc alone', ['--list', '--key-enc', '404142434445464748494A4B4C4D4E4F'], 'opentsm: give all three of --key-enc, --key-mac, --key-dek'],
    [
      '--key and --key-enc',
      ['--list', '--key', '404142434445464748494A4B4C4D4E4F', '--key-enc', '404142434445464748494A4B4C4D4E4F'],
      'opentsm: --key and --key-enc/-mac/-dek exclude each other',
    ],
    ['AID too short', ['--create-domain', 'A0000001'], 'opentsm: --create-domain: AID: an AID has 5..16 bytes, got 4'],
    ['AID too long', ['--delete', 'A000000151535041AA01A000000151535041AA01'], 'opentsm: --delete: AID: an AID has 5..16 bytes, got 20'],
    ['--domain AID too short', ['--list', '--domain', 'A000'], 'opentsm: --domain: AID: an AID has 5..16 bytes, got 2'],
    ['empty hex', ['--store-data', ''], 'opentsm: --store-data: empty'],
    ['bad --sec', ['--list', '--sec', 'xyz'], 'opentsm: --sec: expected mac, enc, rmac or renc, got xyz'],
    ['bad --scp', ['--list', '--scp', '04'], 'opentsm: --scp: expected 02 or 03, got 04'],
    ['bad --kdf', ['--list', '--kdf', 'abc'], 'opentsm: --kdf: expected emv, visa2 or kdf3, got abc'],
    [
      '--kdf with --key-enc',
      ['--list', '--kdf', 'emv', '--key-enc', '404142434445464748494A4B4C4D4E4F', '--key-mac', '404142434445464748494A4B4C4D4E4F', '--key-dek', '404142434445464748494A4B4C4D4E4F'],
      'opentsm: --kdf derives ENC, MAC and DEK from one master key: use --key, not --key-enc/-mac/-dek',
    ],
    ['--kvn too big', ['--list', '--kvn', '256'], 'opentsm: --kvn: 256 is outside 0..255'],
    ['--kvn negative', ['--list', '--kvn=-1'], 'opentsm: --kvn: not a number: "-1"'],
    ['--kvn not a number', ['--list', '--kvn', '0xZZ'], 'opentsm: --kvn: not a number: "0xZZ"'],
    ['--install without --load-file', ['--install', '--module', ECHO_MODULE, '--instance', ECHO_INSTANCE], 'opentsm: --install needs --load-file, --module and --instance'],
    ['--extradite without --to', ['--extradite', ECHO_INSTANCE], 'opentsm: --extradite needs --to SD-AID'],
    ['--put-key without --new-kvn', ['--put-key', '--new-key', '00112233445566778899AABBCCDDEEFF'], 'opentsm: --put-key needs --new-kvn'],
    ['--put-key without a new key', ['--put-key', '--new-kvn', '0x30'], 'opentsm: --put-key needs --new-key or --new-key-enc/-mac/-dek'],
    ['--new-kvn out of range', ['--put-key', '--new-kvn', '0x80', '--new-key', '00112233445566778899AABBCCDDEEFF'], 'opentsm: --new-kvn: 0x80 is outside 1..127'],
    ['--new-key too short', ['--put-key', '--new-kvn', '0x30', '--new-key', '0011'], 'opentsm: --new-key: a key is 16, 24 or 32 bytes, got 2'],
    ['--dgi and --ber', ['--store-data', '42020102', '--dgi', '--ber'], 'opentsm: --dgi and --ber exclude each other'],
    ['unknown privilege', ['--create-domain', SSD, '--privs', 'sd,foo'], 'opentsm: --privs: unknown privilege "foo"'],
    ['bad --sd-scp', ['--create-domain', SSD, '--sd-scp', '04:70'], 'opentsm: --sd-scp: expected ID:I such as 03:70 or 02:55, got 04:70'],
    ['bad --profile', ['--list', '--profile', 'scp04'], 'opentsm: --profile: expected scp03 or scp02, got scp04'],
  ];

  for (const [what, args, message] of cases) {
    test(what, async () => {
      const before = readState(SCP03);
      const r = await gp(SCP03, ...args);
      expectFailure(r, 2, message);
      assert.equal(r.stdout, '', 'nothing on stdout: the card was not opened');
      assert.deepEqual(readState(SCP03), before, 'state file changed');
    });
  }

  test('--reader values: unknown kind, empty sim: file name', async () => {
    expectFailure(await cli('gp', '--reader', 'foo:bar', '--list'), 2, 'opentsm: --reader: expected sim:FILE, pcsc or pcsc:NAME, got "foo:bar"');
    expectFailure(await cli('gp', '--reader', 'sim:', '--list'), 2, 'opentsm: --reader sim:FILE needs a file name');
  });

  test('a new card is not created by a usage error', async () => {
    const file = newFile();
    expectFailure(await gp(file, '--list', '--sec', 'nope'), 2, 'opentsm: --sec: expected mac, enc, rmac or renc, got nope');
    assert.equal(existsSync(file), false);
  });

  test('--sec renc on an SCP02 card (known only after INITIALIZE UPDATE): readable, exit 2', async () => {
    const r = await gp(SCP02, '--sec', 'renc', '--list');
    expectFailure(r, 2, "opentsm: security level 0x33 is not allowed for SCP02 (allowed: 00, 01, 03, 10, 11, 13) (check --sec and --key for this card's protocol)");
  });

  test('a 32-byte --key on an SCP02 card: readable, exit 2', async () => {
    const r = await gp(SCP02, '--key', '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', '--list');
    expectFailure(r, 2, /^opentsm: .*16 bytes, got 32 \(check --sec and --key for this card's protocol\)$/);
  });

  test('a 24-byte --new-key for an SCP02 key set: readable, exit 2', async () => {
    const r = await gp(SCP02, '--put-key', '--new-kvn', '0x21', '--new-key', '000102030405060708090A0B0C0D0E0F1011121314151617');
    expectFailure(r, 2, 'opentsm: SCP02 key sets are two-key 3DES: 16-byte keys');
  });
});

describe('opentsm gp: the card refuses → exit 1, one readable line', () => {
  test('DELETE of an unknown AID', async () => {
    const file = newFile();
    const r = await gp(file, '--delete', 'A0000000010203');
    expectFailure(r, 1, 'opentsm gp: the card answered 6A88 referenced data not found to INS E4');
  });
  test('INSTALL of an instance that exists', async () => {
    const file = newFile();
    const install = ['--install', '--load-file', ECHO_ELF, '--module', ECHO_MODULE, '--instance', ECHO_INSTANCE];
    assert.equal((await gp(file, ...install)).code, 0);
    expectFailure(await gp(file, ...install), 1, /^opentsm gp: the card answered [0-9A-F]{4} .+ to INS E6$/);
  });
  test('wrong key', async () => {
    const file = newFile();
    expectFailure(await gp(file, '--key', '000102030405060708090A0B0C0D0E0F', '--list'), 1, 'opentsm gp: secure channel: card cryptogram does not verify: wrong keys, or not the expected card');
  });
  test('a security domain that does not exist', async () => {
    const file = newFile();
    expectFailure(await gp(file, '--domain', 'A0000001519999', '--list'), 1, 'opentsm gp: the card answered 6A82 file or application not found to INS A4');
  });
});

describe('corrupted state files are refused (exit 2) and left untouched', () => {
  const good = tmp.file('good.json');
  before(async () => {
    assert.equal((await gp(good, '--list')).code, 0);
  });
  const corruptions: readonly (readonly [string, (json: string) => string | Buffer, RegExp])[] = [
    ['truncated JSON', (j) => j.slice(0, j.length / 2), /is not a valid opentsm card state: not JSON/],
    ['empty file', () => '', /is not a valid opentsm card state/],
    ['binary garbage', () => Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b]), /is not a valid opentsm card state/],
    ['another JSON document', () => '{"x":1}', /is not a valid opentsm card state: format: expected "opentsm-card-state"/],
    ['unknown version', (j) => j.replace('"version":1', '"version":99'), /is not a valid opentsm card state/],
    ['key value not hex', (j) => j.replace('"value":"404142434445464748494A4B4C4D4E4F"', '"value":"ZZ"'), /is not a valid opentsm card state/],
    ['ISD missing from the registry', (j) => j.replace('"isd":"A000000151000000"', '"isd":"A000000151000001"'), /is not a valid opentsm card state/],
  ];
  for (const [what, corrupt, message] of corruptions) {
    test(what, async () => {
      const file = newFile();
      writeFileSync(file, corrupt(readFileSync(good, 'utf8')));
      const before = readFileSync(file);
      for (const args of [['gp', '--reader', `sim:${file}`, '--list'], ['apdu', '--reader', `sim:${file}`, '00A4040000']]) {
        const r = await cli(...args);
        expectFailure(r, 2, new RegExp(`^opentsm: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${message.source}`));
        assert.equal(r.stdout, '');
      }
      assert.deepEqual(readFileSync(file), before, 'corrupted file was rewritten');
    });
  }
});

describe('other commands', () => {
  test('unknown command', async () => {
    expectFailure(await cli('frob'), 2, 'opentsm: unknown command: frob (try: opentsm help)');
  });
  test('no command: usage, exit 2; help: usage, exit 0', async () => {
    const none = await cli();
    assert.equal(none.code, 2);
    assert.match(none.stdout, /^opentsm — open Trusted Service Manager tools\n\nusage: opentsm <command> \[options\]\n/);
    for (const h of ['help', '--help', '-h']) {
      const r = await cli(h);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, none.stdout);
    }
    const gpHelp = await cli('gp', '--help');
    assert.equal(gpHelp.code, 0);
    assert.match(gpHelp.stdout, /^usage: opentsm gp /);
    for (const opt of ['--list', '--info', '--apdu', '--create-domain', '--put-key', '--kdf', '--sec', '--debug']) assert.ok(gpHelp.stdout.includes(`  ${opt} `), opt);
  });

  const apduCases: readonly (readonly [string, readonly string[], string | RegExp])[] = [
    ['no APDU', [], 'opentsm: give at least one APDU in hex (see opentsm apdu --help)'],
    ['bad hex', ['ZZ'], 'opentsm: ZZ: not a valid command APDU (not a hex digit: "Z" (at offset 0))'],
    ['too short', ['00A4'], 'opentsm: 00A4: not a valid command APDU (command APDU shorter than its header (at offset 2))'],
    ['Lc larger than the data', ['00A40400FF00'], /^opentsm: 00A40400FF00: not a valid command APDU \(.+\)$/],
    ['one bad among good ones', ['00A4040000', '00A404'], /^opentsm: 00A404: not a valid command APDU \(.+\)$/],
    ['unknown option', ['--sec', 'mac', '00A4040000'], 'opentsm: unknown option --sec (see --help)'],
    ['bad --profile', ['--profile', 'x', '00A4040000'], 'opentsm: --profile: expected scp03 or scp02'],
  ];
  for (const [what, args, message] of apduCases) {
    test(`opentsm apdu: ${what}`, async () => {
      const file = newFile();
      copyFileSync(tmp.file('good.json'), file);
      const before = readFileSync(file);
      const r = await cli('apdu', '--reader', `sim:${file}`, ...args);
      expectFailure(r, 2, message);
      assert.equal(r.stdout, '');
      assert.deepEqual(readFileSync(file), before);
    });
  }

  const serveCases: readonly (readonly [string, readonly string[], string])[] = [
    ['without --vpcd', ['serve'], 'opentsm: card serve needs --vpcd (the only way to serve a card for now)'],
    ['bad HOST:PORT', ['serve', '--vpcd', 'nohostport'], 'opentsm: --vpcd: expected HOST:PORT, got nohostport'],
    ['port 0', ['serve', '--vpcd', 'localhost:0'], 'opentsm: --vpcd port: 0 is outside 1..65535'],
    ['port too big', ['serve', '--vpcd', 'localhost:99999'], 'opentsm: --vpcd port: 99999 is outside 1..65535'],
    ['bad --scp', ['serve', '--vpcd', '--scp', '04'], 'opentsm: --scp: expected 02 or 03, got 04'],
    ['stray argument', ['serve', '--vpcd', 'localhost:35963', 'x'], 'opentsm: unexpected argument "x"'],
    ['unknown subcommand', ['frob'], 'opentsm: unknown card command: frob (try: opentsm card serve --help)'],
  ];
  for (const [what, args, message] of serveCases) {
    test(`opentsm card ${what}`, async () => {
      expectFailure(await cli('card', ...args), 2, message);
    });
  }
  test('opentsm card serve with a corrupted --state: refused before connecting, file untouched', async () => {
    const file = newFile();
    writeFileSync(file, '{"format":"opentsm-card-state"');
    expectFailure(await cli('card', 'serve', '--vpcd', '127.0.0.1:1', '--state', file), 2, /^opentsm: .* is not a valid opentsm card state: not JSON/);
    assert.equal(readFileSync(file, 'utf8'), '{"format":"opentsm-card-state"');
  });
});

describe('real exit codes and no stack traces (child processes)', () => {
  test('usage error → 2, card refusal → 1, corrupted state → 2, success → 0', async () => {
    const file = newFile();
    const node = process.execPath;
    const [ok, usage, refused, apduBad] = await Promise.all([
      spawnCli(node, [MAIN, 'gp', '--reader', `sim:${file}`, '--list']),
      spawnCli(node, [MAIN, 'gp', '--reader', `sim:${file}`, '--bogus']),
      spawnCli(node, [MAIN, 'apdu', '--reader', `sim:${tmp.file('nonexistent-dir/x.json')}`, '00A4040000']),
      spawnCli(node, [MAIN, 'apdu', '--reader', `sim:${file}`, '00A4']),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr, 'opentsm: unknown option --bogus (see --help)\n');
    assert.equal(apduBad.code, 2);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^opentsm: cannot create card state .*x\.json: ENOENT: no such file or directory, open '.*'\n$/);
    const refusedByCard = await spawnCli(node, [MAIN, 'gp', '--reader', `sim:${file}`, '--delete', 'A0000000010203']);
    assert.equal(refusedByCard.code, 1);
    assert.equal(refusedByCard.stderr, 'opentsm gp: the card answered 6A88 referenced data not found to INS E4\n');
    const scp02 = newFile();
    const wrongLevel = await spawnCli(node, [MAIN, 'gp', '--reader', `sim:${scp02}`, '--profile', 'scp02', '--sec', 'renc', '--list']);
    assert.equal(wrongLevel.code, 2);
    assert.doesNotMatch(wrongLevel.stderr, /\n\s+at /);
    writeFileSync(file, 'garbage');
    const corrupted = await spawnCli(node, [MAIN, 'gp', '--reader', `sim:${file}`, '--list']);
    assert.equal(corrupted.code, 2);
    assert.doesNotMatch(corrupted.stderr, /\n\s+at /);
    assert.equal(readFileSync(file, 'utf8'), 'garbage');
  });
});
