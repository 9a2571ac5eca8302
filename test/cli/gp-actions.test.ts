/**
 * `opentsm gp` actions against simulated cards (`--reader sim:FILE`) of both profiles, run in-process:
 * GET STATUS listing, card information (GPCS 2.3.1 §11.3 GET DATA: CPLC, '66', 'E0'), APDUs inside the
 * channel, INSTALL [for install] of SSDs and the echo applet (§11.5), DELETE (§11.2), SET STATUS (§11.10),
 * INSTALL [for extradition], PUT KEY (§11.8), STORE DATA (§11.11), security levels and key versions.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { kcvAes, kcvDes } from '../../src/gp/kcv.ts';
import { diversify, type DiversificationMethod } from '../../src/gp/diversification.ts';
import { createCard } from '../../src/card/index.ts';
import {
  BUILT_IN_PKGS,
  ECHO_ELF,
  ECHO_INSTANCE,
  ECHO_MODULE,
  FRESH_ISD,
  ISD,
  SSD,
  cli,
  gp,
  header,
  lines,
  tempDir,
} from './helpers.ts';

const tmp = tempDir();
after(() => tmp.dispose());
let n = 0;
const newFile = () => tmp.file(`card-${++n}.json`);

const CARD_DATA_SCP03 =
  '6631732F06072A864886FC6B01600C060A2A864886FC6B02020301630906072A864886FC6B03640B06092A864886FC6B040370';
const CARD_DATA_SCP02 =
  '6631732F06072A864886FC6B01600C060A2A864886FC6B02020301630906072A864886FC6B03640B06092A864886FC6B040255';
const CPLC_LINES = [
  'CPLC:',
  '  icFabricator                       4F54',
  '  icType                             534D',
  '  operatingSystemId                  0001',
  '  operatingSystemReleaseDate         6140',
  '  operatingSystemReleaseLevel        0100',
  '  icFabricationDate                  6141',
  '  icSerialNumber                     00000001',
  '  icBatchIdentifier                  0001',
  '  icModuleFabricator                 4F54',
  '  icModulePackagingDate              6141',
  '  iccManufacturer                    4F54',
  '  icEmbeddingDate                    6141',
  '  icPrePersonalizer                  0000',
  '  icPrePersonalizationEquipmentDate  6141',
  '  icPrePersonalizationEquipmentId    00000000',
  '  icPersonalizer                     0000',
  '  icPersonalizationDate              6141',
  '  icPersonalizationEquipmentId       00000000',
];

interface Profile {
  readonly name: 'scp03' | 'scp02';
  readonly channel: (level: string, kvn?: string, sd?: string) => string;
  readonly cardData: string;
  readonly keyType: string;
  readonly isdKvn: string;
  readonly sdScp: string;
  readonly newKey: string;
  readonly kcv: (k: Uint8Array) => Uint8Array;
  readonly levels: readonly (readonly [string, string])[];
}

const PROFILES: readonly Profile[] = [
  {
    name: 'scp03',
    channel: (level, kvn = '30', sd = ISD) => `SCP03 i=70 KVN ${kvn} security level ${level} with ${sd}`,
    cardData: CARD_DATA_SCP03,
    keyType: 'AES-128',
    isdKvn: '30',
    sdScp: '03:70',
    newKey: '00112233445566778899AABBCCDDEEFF',
    kcv: kcvAes,
    levels: [['mac', '01'], ['enc', '03'], ['rmac', '13'], ['renc', '33']],
  },
  {
    name: 'scp02',
    channel: (level, kvn = '20', sd = ISD) => `SCP02 i=55 KVN ${kvn} security level ${level} with ${sd}`,
    cardData: CARD_DATA_SCP02,
    keyType: 'DES-128',
    isdKvn: '20',
    sdScp: '02:55',
    newKey: '101112131415161718191A1B1C1D1E1F',
    kcv: kcvDes,
    // i=55 has no R-MAC (GPCS E.1.1 b6), so SCP02 is exercised at 01 and 03 only.
    levels: [['mac', '01'], ['enc', '03']],
  },
];

/** A fresh card of `profile` (created by a first `--list` run). */
async function freshCard(profile: Profile): Promise<string> {
  const file = newFile();
  const r = await gp(file, '--profile', profile.name, '--list');
  assert.equal(r.code, 0, r.stderr);
  return file;
}

async function ok(file: string, ...args: string[]): Promise<string[]> {
  const r = await gp(file, ...args);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  return lines(r.stdout);
}

async function installEcho(file: string, ...extra: string[]): Promise<void> {
  const out = await ok(file, '--install', '--load-file', ECHO_ELF, '--module', ECHO_MODULE, '--instance', ECHO_INSTANCE, ...extra);
  assert.equal(out[2], `installed ${ECHO_INSTANCE}`);
}

/** Registry lines of one entry as printed by --list, found by its first line. */
function entry(out: readonly string[], first: string): string[] {
  const i = out.indexOf(first);
  assert.ok(i >= 0, `${first} not in\n${out.join('\n')}`);
  const rest = out.slice(i + 1);
  const end = rest.findIndex((l) => !l.startsWith('     '));
  return [first, ...(end < 0 ? rest : rest.slice(0, end))];
}

for (const profile of PROFILES) {
  describe(`opentsm gp on an ${profile.name.toUpperCase()} card`, () => {
    test('--list on a new card: exact lines, "(new)" only the first time', async () => {
      const file = newFile();
      const first = await ok(file, '--profile', profile.name, '--list');
      assert.deepEqual(first, [...header(file, profile.channel('01'), true), ...FRESH_ISD, ...BUILT_IN_PKGS]);
      const second = await ok(file, '--list');
      assert.deepEqual(second, [...header(file, profile.channel('01')), ...FRESH_ISD, ...BUILT_IN_PKGS]);
    });

    test('--info: ATR, IIN, CIN, CPLC fields, card recognition data, key information (exact)', async () => {
      const file = await freshCard(profile);
      const scp = profile.name === 'scp03' ? 'SCP03 i=70' : 'SCP02 i=55';
      assert.deepEqual(await ok(file, '--info'), [
        ...header(file, profile.channel('01')),
        `ATR: 3BFC1300008131FE458031C073C0211F544F54534D49`,
        'IIN: 0001',
        'CIN: 0102030405060708',
        ...CPLC_LINES,
        'Card recognition data:',
        '  GlobalPlatform 2.3.1',
        `  ${scp}`,
        '  card identified by IIN and CIN',
        'Key information:',
        `  KVN ${profile.isdKvn} key 1: ${profile.keyType}`,
        `  KVN ${profile.isdKvn} key 2: ${profile.keyType}`,
        `  KVN ${profile.isdKvn} key 3: ${profile.keyType}`,
      ]);
    });

    test('--apdu inside the channel: card data, IIN, CPLC with 9000', async () => {
      const file = await freshCard(profile);
      assert.deepEqual((await ok(file, '--apdu', '80CA006600', '80CA004200', '80CA9F7F00', '80CA00FE00')).slice(2), [
        `${profile.cardData} 9000 success`,
        '42020001 9000 success',
        '9F7F2A4F54534D00016140010061410000000100014F5461414F54614100006141000000000000614100000000 9000 success',
        '6A88 referenced data not found',
      ]);
    });

    for (const [sec, level] of profile.levels) {
      test(`--sec ${sec}: channel at security level ${level}, card data through it`, async () => {
        const file = await freshCard(profile);
        assert.deepEqual(await ok(file, '--sec', sec, '--apdu', '80CA006600'), [
          ...header(file, profile.channel(level)),
          `${profile.cardData} 9000 success`,
        ]);
      });
    }

    test(`--kvn: 0x${profile.isdKvn} opens, an unknown version is refused (6A88, exit 1)`, async () => {
      const file = await freshCard(profile);
      assert.deepEqual((await ok(file, '--kvn', `0x${profile.isdKvn}`, '--apdu', '80CA004500'))[1], `# ${profile.channel('01')}`);
      const r = await gp(file, '--kvn', '0x31', '--list');
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'opentsm gp: secure channel: INITIALIZE UPDATE refused (6A88 referenced data not found)\n');
      assert.equal(r.threw, undefined);
    });

    test('--scp: the right protocol opens, the other one is refused', async () => {
      const file = await freshCard(profile);
      const mine = profile.name === 'scp03' ? '03' : '02';
      const other = profile.name === 'scp03' ? '02' : '03';
      assert.equal((await ok(file, '--scp', mine, '--apdu', '80CA004500'))[2], '45080102030405060708 9000 success');
      const r = await gp(file, '--scp', other, '--list');
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `opentsm gp: secure channel: card answered SCP${mine}, SCP${other} was asked for\n`);
    });

    test('--create-domain with --privs and --sd-scp; the SSD opens with its initial key set (KVN FF)', async () => {
      const file = await freshCard(profile);
      const out = await ok(file, '--create-domain', SSD, '--privs', 'sd,dm', '--sd-scp', profile.sdScp);
      assert.equal(out[2], `created security domain ${SSD} (Security Domain, Delegated Management)`);
      assert.deepEqual(entry(await ok(file, '--list'), `SSD: ${SSD} (SELECTABLE)`), [
        `SSD: ${SSD} (SELECTABLE)`,
        '     Privs:   Security Domain, Delegated Management',
        `     Parent:  ${ISD}`,
        '     From:    A0000001515350',
      ]);
      assert.deepEqual(await ok(file, '--domain', SSD, '--kvn', '0xFF', '--apdu', '80CA006600'), [
        ...header(file, profile.channel('01', 'FF', SSD)),
        `${profile.cardData} 9000 success`,
      ]);
    });

    test('--install of the built-in echo applet; it answers ECHO and READ COUNTER (--params) outside the channel', async () => {
      const file = await freshCard(profile);
      await installEcho(file, '--params', '00000005');
      assert.deepEqual(entry(await ok(file, '--list'), `APP: ${ECHO_INSTANCE} (SELECTABLE)`), [
        `APP: ${ECHO_INSTANCE} (SELECTABLE)`,
        `     Parent:  ${ISD}`,
        `     From:    ${ECHO_ELF}`,
      ]);
      const r = await cli('apdu', '--reader', `sim:${file}`, `00A404000A${ECHO_INSTANCE}`, '801000000301020300', '8022000004');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lines(r.stdout), [
        `> 00A404000A${ECHO_INSTANCE}`,
        `< 6F0C840A${ECHO_INSTANCE} 9000 success`,
        '> 801000000301020300',
        '< 010203 9000 success',
        '> 8022000004',
        '< 00000005 9000 success',
      ]);
    });

    test('--delete of the instance, then --delete --related of the load file', async () => {
      const file = await freshCard(profile);
      await installEcho(file);
      assert.equal((await ok(file, '--delete', ECHO_INSTANCE))[2], `deleted ${ECHO_INSTANCE}`);
      assert.deepEqual((await ok(file, '--list')).slice(2), [...FRESH_ISD, ...BUILT_IN_PKGS]);
      await installEcho(file);
      assert.equal((await ok(file, '--delete', ECHO_ELF, '--related'))[2], `deleted ${ECHO_ELF} and related objects`);
      assert.deepEqual((await ok(file, '--list')).slice(2), [...FRESH_ISD, ...BUILT_IN_PKGS.slice(0, 4)]);
      const again = await gp(file, '--delete', ECHO_ELF);
      assert.equal(again.code, 1);
      assert.equal(again.stderr, 'opentsm gp: the card answered 6A88 referenced data not found to INS E4\n');
    });

    test('--lock / --unlock of an application and of an SSD; --list shows LOCKED', async () => {
      const file = await freshCard(profile);
      await installEcho(file);
      await ok(file, '--create-domain', SSD, '--sd-scp', profile.sdScp);
      assert.equal((await ok(file, '--lock', ECHO_INSTANCE))[2], `locked ${ECHO_INSTANCE}`);
      assert.equal((await ok(file, '--lock', SSD))[2], `locked ${SSD}`);
      let out = await ok(file, '--list');
      assert.ok(out.includes(`APP: ${ECHO_INSTANCE} (LOCKED(SELECTABLE))`), out.join('\n'));
      assert.ok(out.includes(`SSD: ${SSD} (LOCKED)`), out.join('\n'));
      const sel = await cli('apdu', '--reader', `sim:${file}`, `00A404000A${ECHO_INSTANCE}`);
      assert.deepEqual(lines(sel.stdout)[1], '< 6A82 file or application not found');
      assert.equal((await ok(file, '--unlock', ECHO_INSTANCE))[2], `unlocked ${ECHO_INSTANCE}`);
      assert.equal((await ok(file, '--unlock', SSD))[2], `unlocked ${SSD}`);
      out = await ok(file, '--list');
      assert.ok(out.includes(`APP: ${ECHO_INSTANCE} (SELECTABLE)`), out.join('\n'));
      assert.ok(out.includes(`SSD: ${SSD} (SELECTABLE)`), out.join('\n'));
    });

    test('--lock-card: the card goes CARD_LOCKED; the ISD SELECT then answers 6283 (GPCS Table 11-83)', async () => {
      const file = await freshCard(profile);
      assert.equal((await ok(file, '--lock-card'))[2], 'card locked');
      const raw = await cli('apdu', '--reader', `sim:${file}`, `00A4040008${ISD}00`);
      assert.match(lines(raw.stdout)[1]!, /^< 6F.* 6283 warning: selected file invalidated or card locked$/);
    });

    test(
      '--unlock-card after --lock-card brings the card back to SECURED',
      async () => {
        const file = await freshCard(profile);
        await ok(file, '--lock-card');
        assert.equal((await ok(file, '--unlock-card'))[2], 'card unlocked (SECURED)');
        assert.deepEqual((await ok(file, '--list')).slice(2, 3), [`ISD: ${ISD} (SECURED)`]);
      },
    );

    test(
      '--list through an SSD (--domain) lists what that SSD may see',
      async () => {
        const file = await freshCard(profile);
        await ok(file, '--create-domain', SSD, '--privs', 'sd', '--sd-scp', profile.sdScp);
        const out = await ok(file, '--domain', SSD, '--kvn', '0xFF', '--list');
        assert.ok(!out.some((l) => l.startsWith('ISD: ')));
      },
    );

    test('--extradite --to moves an application under an SSD', async () => {
      const file = await freshCard(profile);
      await installEcho(file);
      await ok(file, '--create-domain', SSD, '--privs', 'sd', '--sd-scp', profile.sdScp);
      assert.equal((await ok(file, '--extradite', ECHO_INSTANCE, '--to', SSD))[2], `extradited ${ECHO_INSTANCE} to ${SSD}`);
      assert.deepEqual(entry(await ok(file, '--list'), `APP: ${ECHO_INSTANCE} (SELECTABLE)`), [
        `APP: ${ECHO_INSTANCE} (SELECTABLE)`,
        `     Parent:  ${SSD}`,
        `     From:    ${ECHO_ELF}`,
      ]);
    });

    test('--put-key into a new SSD: KCVs printed, the new key opens it, the initial key set no longer does', async () => {
      const file = await freshCard(profile);
      await ok(file, '--create-domain', SSD, '--privs', 'sd', '--sd-scp', profile.sdScp);
      const newKvn = profile.name === 'scp03' ? '30' : '21';
      const kcv = toHex(profile.kcv(fromHex(profile.newKey)));
      const out = await ok(file, '--domain', SSD, '--kvn', '0xFF', '--put-key', '--new-kvn', `0x${newKvn}`, '--new-key', profile.newKey);
      assert.deepEqual(out, [...header(file, profile.channel('01', 'FF', SSD)), `key set ${newKvn} added; KCV ${kcv} ${kcv} ${kcv}`]);
      assert.deepEqual(await ok(file, '--domain', SSD, '--kvn', `0x${newKvn}`, '--key', profile.newKey, '--sec', 'enc', '--apdu', '80CA006600'), [
        ...header(file, profile.channel('03', newKvn, SSD)),
        `${profile.cardData} 9000 success`,
      ]);
      const old = await gp(file, '--domain', SSD, '--kvn', '0xFF', '--apdu', '80CA006600');
      assert.equal(old.code, 1);
      assert.equal(old.stderr, 'opentsm gp: secure channel: INITIALIZE UPDATE refused (6A88 referenced data not found)\n');
      const wrongKey = await gp(file, '--domain', SSD, '--kvn', `0x${newKvn}`, '--apdu', '80CA006600');
      assert.equal(wrongKey.code, 1);
      assert.equal(wrongKey.stderr, 'opentsm gp: secure channel: card cryptogram does not verify: wrong keys, or not the expected card\n');
    });

    test('--store-data to the ISD (BER-TLV and DGI 0070) changes IIN and CIN', async () => {
      const file = await freshCard(profile);
      assert.equal((await ok(file, '--store-data', '42020102', '--ber'))[2], 'stored 4 bytes');
      assert.equal((await ok(file, '--store-data', '0070054503AABBCC', '--dgi'))[2], 'stored 8 bytes');
      const info = await ok(file, '--info');
      assert.deepEqual(info.slice(3, 5), ['IIN: 0102', 'CIN: AABBCC']);
      const refused = await gp(file, '--store-data', '5F200141', '--ber');
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr, 'opentsm gp: the card answered 6A80 incorrect parameters in the command data field to INS E2\n');
    });

    test('--store-data --for personalises the echo applet; GET DATA reads it back', async () => {
      const file = await freshCard(profile);
      await installEcho(file);
      assert.equal((await ok(file, '--store-data', '5F200141', '--for', ECHO_INSTANCE, '--ber'))[2], `stored 4 bytes for ${ECHO_INSTANCE}`);
      const r = await cli('apdu', '--reader', `sim:${file}`, `00A404000A${ECHO_INSTANCE}`, '80CA5F2000');
      assert.deepEqual(lines(r.stdout).slice(2), ['> 80CA5F2000', '< 5F200141 9000 success']);
    });
  });
}

/** A card file whose ISD keys are diversified from `master` with `method` and the card's KDD. */
function diversifiedCard(profile: 'scp03' | 'scp02', method: DiversificationMethod, master: Uint8Array): string {
  const kdd = fromHex('00010203040506070809');
  const card = createCard({ profile, kdd, keys: diversify(method, master, kdd) });
  const file = newFile();
  writeFileSync(file, card.serialize());
  return file;
}

describe('--kdf', () => {
  const master = fromHex('404142434445464748494A4B4C4D4E4F');
  const cases: readonly (readonly ['scp03' | 'scp02', DiversificationMethod])[] = [
    ['scp02', 'emv'],
    ['scp02', 'visa2'],
    ['scp03', 'kdf3'],
  ];
  for (const [profile, method] of cases) {
    test(`--kdf ${method} opens an ${profile.toUpperCase()} card with diversified keys; the master key alone does not`, async () => {
      const file = diversifiedCard(profile, method, master);
      const ch = profile === 'scp03' ? `SCP03 i=70 KVN 30` : `SCP02 i=55 KVN 20`;
      assert.deepEqual(await ok(file, '--kdf', method, '--sec', 'enc', '--apdu', '80CA004500'), [
        ...header(file, `${ch} security level 03 with ${ISD}`),
        '45080102030405060708 9000 success',
      ]);
      const plain = await gp(file, '--list');
      assert.equal(plain.code, 1);
      assert.equal(plain.stderr, 'opentsm gp: secure channel: card cryptogram does not verify: wrong keys, or not the expected card\n');
    });
  }


  test('--kdf emv against the default (not diversified) card fails cleanly with a cryptogram error', async () => {
    for (const profile of PROFILES) {
      const file = await freshCard(profile);
      for (const kdf of ['emv', 'visa2', 'kdf3']) {
        const r = await gp(file, '--kdf', kdf, '--list');
        assert.equal(r.threw, undefined, `${profile.name} ${kdf}: ${String(r.threw)}`);
        assert.equal(r.code, 1, `${profile.name} ${kdf}: ${r.stderr}`);
        assert.equal(r.stderr, 'opentsm gp: secure channel: card cryptogram does not verify: wrong keys, or not the expected card\n');
      }
    }
  });
});
