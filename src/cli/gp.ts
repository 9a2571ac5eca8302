/**
 * `opentsm gp`: GlobalPlatform card management over SCP02/SCP03, in the manner of the familiar GP tools.
 * One secure channel per run, opened with the chosen SD; every action runs inside it.
 */
import { fromHex, toHex } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import { decodeCommand } from '../apdu/command.ts';
import { decodeResponse } from '../apdu/response.ts';
import { swName } from '../apdu/sw.ts';
import { ApduError } from '../apdu/errors.ts';
import type { CardChannel } from '../apdu/channel.ts';
import * as gp from '../gp/index.ts';
import { SecureSession } from '../scp/secure-session.ts';
import { SecureChannelError } from '../scp/errors.ts';
import { GpError } from '../gp/errors.ts';
import type { ProfileName } from '../card/index.ts';
import { formatOptions, parseArgs, parseIntArg, type Parsed } from './args.ts';
import { UsageError } from './errors.ts';
import { openReader } from './readers.ts';
import { createTracer } from './trace.ts';
import { GP_ACTIONS, GP_OPTIONS, aidArg, channelSettings, hexArg, keysArg, sdScpArg } from './gp-options.ts';
import { printInfo, printRegistry } from './gp-print.ts';

const HELP = `usage: opentsm gp [--reader R] [keys] [--scp 02|03] [--sec LEVEL] ACTION…

Opens a secure channel (SCP02 or SCP03) with a security domain and runs the actions in the order
listed below. Keys default to the GlobalPlatform test key 404142434445464748494A4B4C4D4E4F.

options:
${formatOptions(GP_OPTIONS)}

examples:
  opentsm gp --reader pcsc --list
  opentsm gp --reader sim:card.json --info
  opentsm gp --reader sim:card.json --create-domain A000000151535041AA01 --privs sd,dm --sd-scp 03:70
  opentsm gp --reader sim:card.json --domain A000000151535041AA01 --kvn 0xFF --put-key --new-kvn 0x30 --new-key 00112233445566778899AABBCCDDEEFF
  opentsm gp --reader sim:card.json --sec renc --debug --apdu 80CA006600
`;

export async function runGp(argv: string[]): Promise<number> {
  const p = parseArgs(argv, GP_OPTIONS);
  if (p.flags.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (p.positional.length > 0) throw new UsageError('BAD_VALUE', `unexpected argument ${JSON.stringify(p.positional[0])} (see opentsm gp --help)`);
  const actions = GP_ACTIONS.filter((a) => p.flags.has(a) || p.values.has(a) || p.multi.has(a));
  if (actions.length === 0) throw new UsageError('MISSING_ARGUMENT', 'nothing to do: give an action such as --list or --info (see opentsm gp --help)');
  const settings = channelSettings(p);
  validateActions(p);
  const profile = p.values.get('profile');
  if (profile !== undefined && profile !== 'scp03' && profile !== 'scp02') throw new UsageError('BAD_VALUE', `--profile: expected scp03 or scp02, got ${profile}`);

  const reader = await openReader(p.values.get('reader') ?? 'pcsc', { ...(profile ? { profile: profile as ProfileName } : {}) });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const tracer = p.flags.has('debug') ? createTracer((l) => process.stderr.write(`${l}\n`)) : undefined;
  try {
    out(`# ${reader.description}${reader.atr ? `, ATR ${toHex(reader.atr)}` : ''}`);
    const session = await SecureSession.open(reader.channel, {
      sdAid: settings.sdAid,
      keys: settings.keys,
      kvn: settings.kvn,
      level: settings.level,
      ...(settings.scp ? { scp: settings.scp } : {}),
      ...(tracer ? { observer: tracer } : {}),
    }).catch((e: unknown) => {
      // Only known once the card has answered INITIALIZE UPDATE: a --sec level or key length the
      // card's protocol does not allow (e.g. --sec renc or a 32-byte --key on an SCP02 card).
      if (e instanceof RangeError) throw new UsageError('BAD_VALUE', `${e.message} (check --sec and --key for this card's protocol)`);
      throw e;
    });
    out(`# SCP0${session.channel.scp} i=${hex2(session.channel.i)} KVN ${hex2(session.channel.kvn)} security level ${hex2(session.channel.level)} with ${toHex(settings.sdAid)}`);
    for (const action of actions) await runAction(action, p, session, reader.atr, out);
    return 0;
  } catch (e) {
    if (e instanceof ApduError) {
      process.stderr.write(`opentsm gp: the card answered ${swName(e.sw)}${e.ins !== undefined ? ` to INS ${hex2(e.ins)}` : ''}\n`);
      return 1;
    }
    if (e instanceof SecureChannelError) {
      const message = e.sw !== undefined ? `${e.message.replace(/ \(SW [0-9A-F]{4}\)$/, '')} (${swName(e.sw)})` : e.message;
      process.stderr.write(`opentsm gp: secure channel: ${message}\n`);
      return 1;
    }
    if (e instanceof GpError || e instanceof CodecError) {
      process.stderr.write(`opentsm gp: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await reader.close();
  }
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

function validateActions(p: Parsed): void {
  if (p.flags.has('install') && !(p.values.has('load-file') && p.values.has('module') && p.values.has('instance'))) {
    throw new UsageError('MISSING_ARGUMENT', '--install needs --load-file, --module and --instance');
  }
  if (p.values.has('extradite') && !p.values.has('to')) throw new UsageError('MISSING_ARGUMENT', '--extradite needs --to SD-AID');
  if (p.flags.has('put-key') && !p.values.has('new-kvn')) throw new UsageError('MISSING_ARGUMENT', '--put-key needs --new-kvn');
  if (p.flags.has('put-key')) {
    if (!keysArg(p, 'new-key', undefined)) throw new UsageError('MISSING_ARGUMENT', '--put-key needs --new-key or --new-key-enc/-mac/-dek');
    parseIntArg(p.values.get('new-kvn')!, 'new-kvn', 1, 0x7f);
    if (p.values.has('replace-kvn')) parseIntArg(p.values.get('replace-kvn')!, 'replace-kvn', 0, 0xff);
  }
  if (p.flags.has('dgi') && p.flags.has('ber')) throw new UsageError('CONFLICT', '--dgi and --ber exclude each other');
  for (const name of ['create-domain', 'load-file', 'module', 'instance', 'delete', 'lock', 'unlock', 'extradite', 'to', 'for']) aidArg(p, name);
  for (const name of ['params', 'store-data']) hexArg(p, name);
  for (const hex of p.multi.get('apdu') ?? []) {
    try {
      decodeCommand(fromHex(hex));
    } catch (e) {
      throw new UsageError('BAD_VALUE', `--apdu ${hex}: not a valid command APDU (${(e as Error).message})`);
    }
  }
  if (p.values.has('privs')) {
    try {
      gp.privilegesFromList(p.values.get('privs')!);
    } catch (e) {
      throw new UsageError('BAD_VALUE', `--privs: ${(e as Error).message}`);
    }
  }
  sdScpArg(p);
}

async function runAction(
  action: (typeof GP_ACTIONS)[number],
  p: Parsed,
  session: SecureSession,
  atr: Uint8Array | undefined,
  out: (line: string) => void,
): Promise<void> {
  const ch: CardChannel = session;
  switch (action) {
    case 'list':
      printRegistry(await gp.listRegistry(ch), out);
      return;
    case 'info':
      await printInfo(ch, atr, out);
      return;
    case 'apdu':
      for (const hex of p.multi.get('apdu')!) {
        const r = decodeResponse(await ch.transmit(fromHex(hex)));
        out(`${toHex(r.data)}${r.data.length ? ' ' : ''}${swName(r.sw)}`);
      }
      return;
    case 'create-domain': {
      const aid = aidArg(p, 'create-domain')!;
      const privileges = gp.privilegesFromList(p.values.get('privs') ?? 'sd');
      const scp = sdScpArg(p);
      await gp.createSecurityDomain(ch, { aid, privileges, ...(scp ? { scp } : {}) });
      out(`created security domain ${toHex(aid)} (${gp.formatPrivileges(privileges)})`);
      return;
    }
    case 'install': {
      const aid = aidArg(p, 'instance')!;
      await gp.installApplication(ch, {
        loadFileAid: aidArg(p, 'load-file')!,
        moduleAid: aidArg(p, 'module')!,
        aid,
        privileges: gp.privilegesFromList(p.values.get('privs') ?? ''),
        parameters: hexArg(p, 'params') ?? new Uint8Array(0),
      });
      out(`installed ${toHex(aid)}`);
      return;
    }
    case 'delete': {
      const aid = aidArg(p, 'delete')!;
      await gp.deleteObject(ch, aid, p.flags.has('related'));
      out(`deleted ${toHex(aid)}${p.flags.has('related') ? ' and related objects' : ''}`);
      return;
    }
    case 'lock':
    case 'unlock': {
      const aid = aidArg(p, action)!;
      await gp.setApplicationLock(ch, aid, action === 'lock');
      out(`${action}ed ${toHex(aid)}`);
      return;
    }
    case 'lock-card':
      await gp.setCardLifeCycle(ch, gp.CardLifeCycle.CARD_LOCKED);
      out('card locked');
      return;
    case 'unlock-card':
      await gp.setCardLifeCycle(ch, gp.CardLifeCycle.SECURED);
      out('card unlocked (SECURED)');
      return;
    case 'extradite': {
      const aid = aidArg(p, 'extradite')!;
      const to = aidArg(p, 'to')!;
      await gp.extradite(ch, aid, to);
      out(`extradited ${toHex(aid)} to ${toHex(to)}`);
      return;
    }
    case 'put-key': {
      const keys = keysArg(p, 'new-key', undefined);
      if (!keys) throw new UsageError('MISSING_ARGUMENT', '--put-key needs --new-key or --new-key-enc/-mac/-dek');
      const newKvn = parseIntArg(p.values.get('new-kvn')!, 'new-kvn', 1, 0x7f);
      const replaceKvn = p.values.has('replace-kvn') ? parseIntArg(p.values.get('replace-kvn')!, 'replace-kvn', 0, 0xff) : 0;
      const type = session.channel.scp === 3 ? 'aes' : 'des';
      if (type === 'des' && keys.enc.length !== 16) throw new UsageError('BAD_VALUE', 'SCP02 key sets are two-key 3DES: 16-byte keys');
      const r = await gp.putKeySet(ch, { replaceKvn, newKvn, keys: { type, ...keys } }, (k) => session.encryptKeyData(k));
      out(`key set ${hex2(r.kvn)} ${replaceKvn ? `replaced ${hex2(replaceKvn)}` : 'added'}; KCV ${r.kcvs.map(toHex).join(' ')}`);
      return;
    }
    case 'store-data': {
      const data = hexArg(p, 'store-data')!;
      const target = aidArg(p, 'for');
      if (target) await gp.beginPersonalization(ch, target);
      const format = p.flags.has('dgi') ? 'dgi' : p.flags.has('ber') ? 'ber' : 'none';
      const resp = await gp.storeData(ch, data, { format });
      out(`stored ${data.length} bytes${target ? ` for ${toHex(target)}` : ''}${resp.length ? `; response ${toHex(resp)}` : ''}`);
      return;
    }
  }
}
