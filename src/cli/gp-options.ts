/**
 * Options of `opentsm gp` and their validation: keys, KDF, key version, protocol, security level.
 * Every value comes from the user and gets a readable `UsageError` when it is wrong.
 */
import { fromHex } from '../core/bytes.ts';
import { CodecError } from '../core/errors.ts';
import { checkAid } from '../gp/aid.ts';
import { diversify, type DiversificationMethod } from '../gp/diversification.ts';
import type { StaticKeys } from '../scp/keys.ts';
import type { ParsedInitializeUpdateResponse } from '../scp/channel.ts';
import { DEFAULT_STATIC_KEY } from '../card/profile.ts';
import { parseIntArg, type OptionSpec, type Parsed } from './args.ts';
import { UsageError } from './errors.ts';

export const GP_OPTIONS: readonly OptionSpec[] = [
  { name: 'reader', kind: 'value', valueName: 'R', help: 'sim:FILE | pcsc | pcsc:NAME (default: pcsc)' },
  { name: 'scp', kind: 'value', valueName: '02|03', help: 'secure channel protocol (default: what the card answers)' },
  { name: 'profile', kind: 'value', valueName: 'scp03|scp02', help: 'profile of a NEW sim:FILE card (default scp03)' },
  { name: 'key', kind: 'value', valueName: 'HEX', help: 'one key for ENC, MAC and DEK (default 404142…4F)' },
  { name: 'key-enc', kind: 'value', valueName: 'HEX', help: 'static ENC key' },
  { name: 'key-mac', kind: 'value', valueName: 'HEX', help: 'static MAC key' },
  { name: 'key-dek', kind: 'value', valueName: 'HEX', help: 'static DEK key' },
  { name: 'kdf', kind: 'value', valueName: 'emv|visa2|kdf3', help: 'diversify the key(s) with the card\'s KDD first' },
  { name: 'kvn', kind: 'value', valueName: 'N', help: 'key version to use (decimal or 0x..; default 0 = the card\'s default)' },
  { name: 'sec', kind: 'value', valueName: 'LEVEL', help: 'mac (01), enc (03: +C-DEC), rmac (13: +R-MAC), renc (33: +R-ENC); default mac' },
  { name: 'domain', kind: 'value', valueName: 'AID', help: 'security domain to open the channel with (default the ISD A000000151000000)' },
  { name: 'list', kind: 'flag', help: 'list the registry (GET STATUS)' },
  { name: 'info', kind: 'flag', help: 'card information: CPLC, card recognition data, key information, IIN/CIN' },
  { name: 'apdu', kind: 'multi', valueName: 'HEX…', help: 'send APDUs inside the secure channel' },
  { name: 'create-domain', kind: 'value', valueName: 'AID', help: 'INSTALL a supplementary security domain' },
  { name: 'privs', kind: 'value', valueName: 'LIST', help: 'privileges, e.g. sd,dm,am,cl (for --create-domain / --install)' },
  { name: 'sd-scp', kind: 'value', valueName: 'ID:I', help: 'SCP of a new domain, e.g. 03:70 or 02:55' },
  { name: 'install', kind: 'flag', help: 'INSTALL [for install and make selectable] (--load-file --module --instance)' },
  { name: 'load-file', kind: 'value', valueName: 'AID', help: 'executable load file AID' },
  { name: 'module', kind: 'value', valueName: 'AID', help: 'executable module AID' },
  { name: 'instance', kind: 'value', valueName: 'AID', help: 'application instance AID' },
  { name: 'params', kind: 'value', valueName: 'HEX', help: 'application-specific install parameters (C9 value)' },
  { name: 'delete', kind: 'value', valueName: 'AID', help: 'DELETE an application, SD or load file' },
  { name: 'related', kind: 'flag', help: 'with --delete: also related objects (P2 80)' },
  { name: 'lock', kind: 'value', valueName: 'AID', help: 'SET STATUS: lock an application or SD' },
  { name: 'unlock', kind: 'value', valueName: 'AID', help: 'SET STATUS: unlock an application or SD' },
  { name: 'lock-card', kind: 'flag', help: 'SET STATUS: card to CARD_LOCKED' },
  { name: 'unlock-card', kind: 'flag', help: 'SET STATUS: card back to SECURED' },
  { name: 'extradite', kind: 'value', valueName: 'AID', help: 'INSTALL [for extradition] of AID to --to' },
  { name: 'to', kind: 'value', valueName: 'SD-AID', help: 'security domain that receives the extradited object' },
  { name: 'put-key', kind: 'flag', help: 'PUT KEY a key set into --domain (--new-kvn, --new-key…)' },
  { name: 'new-kvn', kind: 'value', valueName: 'N', help: 'version of the key set to put (1..127)' },
  { name: 'replace-kvn', kind: 'value', valueName: 'N', help: 'key version to replace (default 0 = add)' },
  { name: 'new-key', kind: 'value', valueName: 'HEX', help: 'new key for ENC, MAC and DEK' },
  { name: 'new-key-enc', kind: 'value', valueName: 'HEX', help: 'new ENC key' },
  { name: 'new-key-mac', kind: 'value', valueName: 'HEX', help: 'new MAC key' },
  { name: 'new-key-dek', kind: 'value', valueName: 'HEX', help: 'new DEK key' },
  { name: 'store-data', kind: 'value', valueName: 'HEX', help: 'STORE DATA to --domain, or to --for after INSTALL [for personalization]' },
  { name: 'for', kind: 'value', valueName: 'AID', help: 'application to personalise with --store-data' },
  { name: 'dgi', kind: 'flag', help: 'with --store-data: data are DGIs' },
  { name: 'ber', kind: 'flag', help: 'with --store-data: data are BER-TLV' },
  { name: 'debug', kind: 'flag', help: 'print every APDU, plain and wrapped (key material masked)' },
  { name: 'help', kind: 'flag', help: 'this text' },
];

export const GP_ACTIONS = [
  'list', 'info', 'apdu', 'create-domain', 'install', 'delete', 'lock', 'unlock', 'lock-card', 'unlock-card', 'extradite', 'put-key', 'store-data',
] as const;

export const LEVELS: Readonly<Record<string, number>> = { mac: 0x01, enc: 0x03, rmac: 0x13, renc: 0x33 };

export function hexArg(p: Parsed, name: string): Uint8Array | undefined {
  const v = p.values.get(name);
  if (v === undefined) return undefined;
  try {
    const b = fromHex(v);
    if (b.length === 0) throw new UsageError('BAD_VALUE', `--${name}: empty`);
    return b;
  } catch (e) {
    if (e instanceof CodecError) throw new UsageError('BAD_VALUE', `--${name}: ${e.message}`);
    throw e;
  }
}

export function aidArg(p: Parsed, name: string): Uint8Array | undefined {
  const b = hexArg(p, name);
  if (b === undefined) return undefined;
  try {
    return checkAid(b);
  } catch (e) {
    throw new UsageError('BAD_VALUE', `--${name}: ${(e as Error).message}`);
  }
}

function keyLength(b: Uint8Array, name: string): Uint8Array {
  if (![16, 24, 32].includes(b.length)) throw new UsageError('BAD_VALUE', `--${name}: a key is 16, 24 or 32 bytes, got ${b.length}`);
  return b;
}

/** `--key` or the three `--key-*`, or `--new-key…` with `prefix` 'new-key'. */
export function keysArg(p: Parsed, prefix: 'key' | 'new-key', fallback: Uint8Array | undefined): StaticKeys | undefined {
  const all = hexArg(p, prefix);
  const enc = hexArg(p, `${prefix}-enc`);
  const mac = hexArg(p, `${prefix}-mac`);
  const dek = hexArg(p, `${prefix}-dek`);
  const parts = [enc, mac, dek].filter((x) => x !== undefined).length;
  if (all && parts > 0) throw new UsageError('CONFLICT', `--${prefix} and --${prefix}-enc/-mac/-dek exclude each other`);
  if (parts > 0 && parts < 3) throw new UsageError('MISSING_ARGUMENT', `give all three of --${prefix}-enc, --${prefix}-mac, --${prefix}-dek`);
  if (all) {
    keyLength(all, prefix);
    return { enc: all, mac: all.slice(), dek: all.slice() };
  }
  if (enc && mac && dek) return { enc: keyLength(enc, `${prefix}-enc`), mac: keyLength(mac, `${prefix}-mac`), dek: keyLength(dek, `${prefix}-dek`) };
  if (fallback) return { enc: fallback.slice(), mac: fallback.slice(), dek: fallback.slice() };
  return undefined;
}

export interface ChannelSettings {
  readonly keys: StaticKeys | ((iu: ParsedInitializeUpdateResponse) => StaticKeys);
  readonly kvn: number;
  readonly level: number;
  readonly scp: 2 | 3 | undefined;
  readonly sdAid: Uint8Array;
}

export function channelSettings(p: Parsed): ChannelSettings {
  const master = keysArg(p, 'key', fromHex(DEFAULT_STATIC_KEY))!;
  const kdf = p.values.get('kdf');
  if (kdf !== undefined && !['emv', 'visa2', 'kdf3'].includes(kdf)) throw new UsageError('BAD_VALUE', `--kdf: expected emv, visa2 or kdf3, got ${kdf}`);
  if (kdf !== undefined && p.values.has('key-enc')) {
    throw new UsageError('CONFLICT', '--kdf derives ENC, MAC and DEK from one master key: use --key, not --key-enc/-mac/-dek');
  }
  const keys =
    kdf === undefined
      ? master
      : (iu: ParsedInitializeUpdateResponse) => diversify(kdf as DiversificationMethod, master.enc, iu.kdd);
  const kvn = p.values.has('kvn') ? parseIntArg(p.values.get('kvn')!, 'kvn', 0, 255) : 0;
  const sec = p.values.get('sec') ?? 'mac';
  const level = LEVELS[sec];
  if (level === undefined) throw new UsageError('BAD_VALUE', `--sec: expected mac, enc, rmac or renc, got ${sec}`);
  const scpText = p.values.get('scp');
  let scp: 2 | 3 | undefined;
  if (scpText !== undefined) {
    if (!/^0?[23]$/.test(scpText)) throw new UsageError('BAD_VALUE', `--scp: expected 02 or 03, got ${scpText}`);
    scp = Number(scpText) as 2 | 3;
  }
  const sdAid = aidArg(p, 'domain') ?? fromHex('A000000151000000');
  return { keys, kvn, level, scp, sdAid };
}

export function sdScpArg(p: Parsed): { id: number; i: number } | undefined {
  const v = p.values.get('sd-scp');
  if (v === undefined) return undefined;
  const m = /^0?([23]):([0-9a-fA-F]{2})$/.exec(v);
  if (!m) throw new UsageError('BAD_VALUE', `--sd-scp: expected ID:I such as 03:70 or 02:55, got ${v}`);
  return { id: Number(m[1]), i: Number.parseInt(m[2]!, 16) };
}
