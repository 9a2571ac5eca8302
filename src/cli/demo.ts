/**
 * `opentsm demo` (what `npm start` runs): a simulated SCP03 card, the ISD opened at security level 33,
 * a supplementary security domain created, its initial key set replaced with fresh keys over its own
 * secure channel, and the registry listed — every step printed, every APDU over the in-process transport.
 */
import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '../core/bytes.ts';
import { kcvAes } from '../gp/kcv.ts';
import * as gp from '../gp/index.ts';
import { SecureSession, type SessionObserver } from '../scp/secure-session.ts';
import { SecureChannelError } from '../scp/errors.ts';
import { createCard, DEFAULT_STATIC_KEY } from '../card/index.ts';
import { InProcessChannel } from '../transport/in-process.ts';
import { printRegistry } from './gp-print.ts';
import { createTracer } from './trace.ts';
import { parseArgs, type OptionSpec } from './args.ts';

const OPTIONS: readonly OptionSpec[] = [{ name: 'debug', kind: 'flag', help: 'print every APDU' }];

const ISD = fromHex('A000000151000000');
const SSD = fromHex('A0000001515350415344');

export async function runDemo(argv: string[]): Promise<number> {
  const p = parseArgs(argv, OPTIONS);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const observer: SessionObserver = p.flags.has('debug') ? createTracer((l) => out(`    ${l}`)) : {};
  const step = (n: number, text: string) => out(`\n[${n}] ${text}`);

  step(1, 'Create a simulated GlobalPlatform 2.3 card (SCP03 profile, ISD key set KVN 30, i=70, test keys 40..4F)');
  const card = createCard({ profile: 'scp03' });
  const transport = new InProcessChannel(card);
  out(`    ATR ${toHex(transport.powerOn())}`);

  const testKey = fromHex(DEFAULT_STATIC_KEY);
  step(2, 'SELECT the ISD and open SCP03 at security level 33 (C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION)');
  const isd = await SecureSession.open(transport, { sdAid: ISD, keys: { enc: testKey, mac: testKey, dek: testKey }, level: 0x33, observer });
  out(`    SCP03 i=${isd.channel.i.toString(16)} KVN ${isd.channel.kvn.toString(16).toUpperCase()} level ${isd.channel.level.toString(16)}`);

  step(3, `INSTALL [for install and make selectable] a supplementary security domain ${toHex(SSD)}`);
  const privileges = gp.privilegesFromList('sd,dm');
  await gp.createSecurityDomain(isd, { aid: SSD, privileges, scp: { id: 3, i: 0x70 } });
  out(`    created with privileges: ${gp.formatPrivileges(privileges)}`);

  step(4, 'SELECT the new SSD and open SCP03 with its initial key set (KVN FF)');
  const initial = await SecureSession.open(transport, { sdAid: SSD, keys: { enc: testKey, mac: testKey, dek: testKey }, kvn: 0xff, level: 0x03, observer });
  out(`    opened: KVN ${initial.channel.kvn.toString(16).toUpperCase()}`);

  step(5, 'PUT KEY: add fresh AES-128 keys as KVN 30, which retires the initial key set FF (components encrypted with the DEK)');
  const fresh = { enc: Uint8Array.from(randomBytes(16)), mac: Uint8Array.from(randomBytes(16)), dek: Uint8Array.from(randomBytes(16)) };
  const r = await gp.putKeySet(initial, { replaceKvn: 0, newKvn: 0x30, keys: { type: 'aes', ...fresh } }, (k) => initial.encryptKeyData(k));
  const expected = [fresh.enc, fresh.mac, fresh.dek].map((k) => toHex(kcvAes(k)));
  out(`    card answered KVN ${r.kvn.toString(16).toUpperCase()}, KCVs ${r.kcvs.map(toHex).join(' ')} (expected ${expected.join(' ')})`);
  if (r.kcvs.map(toHex).join() !== expected.join()) throw new Error('KCV mismatch');

  step(6, 'Open the SSD with the new keys; the initial test keys no longer open it');
  const ssd = await SecureSession.open(transport, { sdAid: SSD, keys: fresh, kvn: 0x30, level: 0x33, observer });
  out(`    new keys: SCP03 KVN ${ssd.channel.kvn.toString(16).toUpperCase()} level ${ssd.channel.level.toString(16)} — open`);
  try {
    await SecureSession.open(transport, { sdAid: SSD, keys: { enc: testKey, mac: testKey, dek: testKey }, kvn: 0xff, level: 0x01, observer });
    throw new Error('the initial keys still open the SSD');
  } catch (e) {
    if (!(e instanceof SecureChannelError) && !(e instanceof Error && 'sw' in e)) throw e;
    out(`    initial keys: refused (${(e as Error).message})`);
  }

  step(7, 'Back to the ISD: GET STATUS of the whole registry');
  const again = await SecureSession.open(transport, { sdAid: ISD, keys: { enc: testKey, mac: testKey, dek: testKey }, level: 0x33, observer });
  printRegistry(await gp.listRegistry(again), (l) => out(`    ${l}`));
  out('\nDone: the card was reached only through APDUs; see `opentsm gp --help` to do the same on a card in pcscd.');
  return 0;
}
