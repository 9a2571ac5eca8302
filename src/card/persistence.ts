/**
 * Saving and loading the persistent card state as JSON.
 *
 * The file is `{ "format": "opentsm-card-state", ...CardState }` with a `version` field. Loading validates
 * everything strictly — types, ranges, hex, AID lengths, key lengths, references between registry entries —
 * because the file comes from outside: a corrupted or hostile file throws `CardStateError` and creates
 * nothing. No file I/O here (the CLI reads and writes the files).
 */
import { CARD_STATE_VERSION, KEY_LOG_MAX, type AppRecord, type CardState, type ElfRecord, type KeyEvent, type KeyRecord, type SdRecord, type SdScp } from './state.ts';
import { ECC_PRIVATE, ECC_PUBLIC, eccValueLength } from './sd/ec-keys.ts';
import { isValidExponent, isValidModulus, privateKeyBits, RSA_PRIVATE, RSA_PUBLIC } from './sd/rsa-keys.ts';
import { fromHex } from '../core/bytes.ts';
import { parseTlv } from '../core/tlv.ts';
import { CardStateError } from './errors.ts';

export const STATE_FORMAT = 'opentsm-card-state';

/** Largest state file accepted (bytes of JSON text). */
export const MAX_STATE_JSON = 4 * 1024 * 1024;

/** Serialise a state (stable key order as built by the card). */
export function serializeState(state: CardState): string {
  return JSON.stringify({ format: STATE_FORMAT, ...state });
}

type Json = unknown;

function fail(path: string, message: string): never {
  throw new CardStateError('INVALID_STATE', message, path);
}

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object');
  return v as Record<string, Json>;
}

function onlyKeys(o: Record<string, Json>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(path, `unexpected field ${JSON.stringify(k)}`);
}

function int(v: Json, min: number, max: number, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `expected an integer in ${min}..${max}`);
  return v;
}

function hex(v: Json, path: string, lengths?: readonly number[] | { min: number; max: number }): string {
  if (typeof v !== 'string' || !/^(?:[0-9A-F]{2})*$/.test(v)) fail(path, 'expected upper-case hex');
  const n = v.length / 2;
  if (Array.isArray(lengths) && !lengths.includes(n)) fail(path, `expected ${lengths.join(' or ')} bytes`);
  if (lengths && !Array.isArray(lengths)) {
    const r = lengths as { min: number; max: number };
    if (n < r.min || n > r.max) fail(path, `expected ${r.min}..${r.max} bytes`);
  }
  return v;
}

function aid(v: Json, path: string): string {
  return hex(v, path, { min: 5, max: 16 });
}

function arr(v: Json, path: string, max = 10000): Json[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  if (v.length > max) fail(path, `more than ${max} items`);
  return v;
}

function bool(v: Json, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'expected a boolean');
  return v;
}

/** Plain JSON data of bounded depth (applet data). */
function plainJson(v: Json, path: string, depth = 0): void {
  if (depth > 32) fail(path, 'nested too deeply');
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(path, 'not a finite number');
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => plainJson(x, `${path}[${i}]`, depth + 1));
    return;
  }
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, Json>)) plainJson(x, `${path}.${k}`, depth + 1);
    return;
  }
  fail(path, 'not JSON data');
}

/** RSA key records (sd/rsa-keys.ts): 'A1' modulus + exponent, 'A2' PKCS#8 DER of a 1024/2048-bit key. */
function rsaKey(o: Record<string, Json>, type: number, path: string): Pick<KeyRecord, 'value' | 'exponent'> {
  if (o['param'] !== undefined) fail(`${path}.param`, 'param belongs to ECC keys');
  if (type === RSA_PUBLIC) {
    const value = hex(o['value'], `${path}.value`, [128, 256]);
    const exponent = hex(o['exponent'], `${path}.exponent`, { min: 1, max: 4 });
    if (!isValidModulus(fromHex(value))) fail(`${path}.value`, 'not a 1024- or 2048-bit modulus');
    if (!isValidExponent(fromHex(exponent))) fail(`${path}.exponent`, 'not an odd public exponent');
    return { value, exponent };
  }
  if (o['exponent'] !== undefined) fail(`${path}.exponent`, "exponent belongs to 'A1' keys");
  const value = hex(o['value'], `${path}.value`, { min: 64, max: 2048 });
  if (privateKeyBits(fromHex(value)) === undefined) fail(`${path}.value`, 'not a PKCS#8 RSA-1024/2048 private key');
  return { value };
}

function key(v: Json, path: string): KeyRecord {
  const o = obj(v, path);
  onlyKeys(o, ['kvn', 'kid', 'type', 'value', 'usage', 'access', 'param', 'certificate', 'exponent', 'caId', 'allowlist'], path);
  const type = int(o['type'], 0, 0xff, `${path}.type`);
  if (type !== 0x80 && type !== 0x88 && type !== ECC_PUBLIC && type !== ECC_PRIVATE && type !== RSA_PUBLIC && type !== RSA_PRIVATE) {
    fail(`${path}.type`, 'only DES (80), AES (88), ECC (B0, B1) and RSA (A1, A2) keys are supported');
  }
  const ecc = type === ECC_PUBLIC || type === ECC_PRIVATE;
  const rsa = type === RSA_PUBLIC || type === RSA_PRIVATE;
  let lengths: number[] = type === 0x80 ? [16, 24] : [16, 24, 32];
  let param: number | undefined;
  if (ecc) {
    param = int(o['param'], 0, 0xff, `${path}.param`);
    const n = eccValueLength(type, param);
    if (n === undefined) fail(`${path}.param`, 'unknown key parameter reference');
    lengths = [n];
  } else if (!rsa && (o['param'] !== undefined || o['certificate'] !== undefined)) {
    fail(path, 'param and certificate belong to ECC and RSA keys');
  }
  if (!rsa && o['exponent'] !== undefined) fail(`${path}.exponent`, "exponent belongs to 'A1' keys");
  const k: KeyRecord = {
    kvn: int(o['kvn'], 1, 0xff, `${path}.kvn`),
    kid: int(o['kid'], 0, 0x7f, `${path}.kid`),
    type,
    ...(rsa ? rsaKey(o, type, path) : { value: hex(o['value'], `${path}.value`, lengths) }),
  };
  if (param !== undefined) k.param = param;
  if (o['certificate'] !== undefined) {
    if (type !== ECC_PRIVATE && type !== RSA_PRIVATE) fail(`${path}.certificate`, 'only an SK.SD.ECKA or SK.SD.AUT holds a certificate');
    k.certificate = hex(o['certificate'], `${path}.certificate`, { min: 1, max: 4096 });
    if (type === RSA_PRIVATE) {
      let tag = 0;
      try {
        tag = parseTlv(fromHex(k.certificate)).tag;
      } catch {
        tag = 0;
      }
      if (tag !== 0x7f21) fail(`${path}.certificate`, "expected one '7F21' certificate");
    }
  }
  if (o['caId'] !== undefined) {
    if (type !== ECC_PUBLIC && type !== ECC_PRIVATE) fail(`${path}.caId`, 'only ECC keys (B0, B1) carry a CA identifier');
    k.caId = hex(o['caId'], `${path}.caId`, { min: 1, max: 32 });
  }
  if (o['allowlist'] !== undefined) {
    if (type !== ECC_PUBLIC) fail(`${path}.allowlist`, "only a trust anchor ('B0') has an allowlist");
    k.allowlist = arr(o['allowlist'], `${path}.allowlist`, 64).map((x, n) => hex(x, `${path}.allowlist[${n}]`, { min: 1, max: 20 }));
  }
  if (o['usage'] !== undefined) k.usage = int(o['usage'], 0, 0xff, `${path}.usage`);
  if (o['access'] !== undefined) k.access = int(o['access'], 0, 0xff, `${path}.access`);
  return k;
}

function securityDomain(v: Json, path: string): SdRecord {
  const o = obj(v, path);
  onlyKeys(o, ['scp', 'i', 'keys', 'sequenceCounters', 'data', 'keyLog'], path);
  const scp = int(o['scp'], 2, 0x11, `${path}.scp`) as SdScp;
  if (scp !== 2 && scp !== 3 && scp !== 0x10 && scp !== 0x11) fail(`${path}.scp`, 'expected 2, 3, 16 (SCP10) or 17 (SCP11)');
  const keys = arr(o['keys'], `${path}.keys`, 512).map((k, n) => key(k, `${path}.keys[${n}]`));
  const seen = new Set<string>();
  for (const k of keys) {
    const id = `${k.kvn}/${k.kid}`;
    if (seen.has(id)) fail(`${path}.keys`, `duplicate key ${id}`);
    seen.add(id);
  }
  const counters: Record<string, number> = {};
  for (const [k, c] of Object.entries(obj(o['sequenceCounters'], `${path}.sequenceCounters`))) {
    if (!/^(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-5])$/.test(k)) fail(`${path}.sequenceCounters`, `bad key version ${JSON.stringify(k)}`);
    counters[k] = int(c, 0, 0xffffff, `${path}.sequenceCounters.${k}`);
  }
  const data: Record<string, string> = {};
  for (const [k, d] of Object.entries(obj(o['data'], `${path}.data`))) {
    if (!/^(?:[0-9A-F]{2}){1,3}$/.test(k)) fail(`${path}.data`, `bad tag ${JSON.stringify(k)}`);
    data[k] = hex(d, `${path}.data.${k}`, { min: 0, max: 4096 });
  }
  const i = int(o['i'], 0, 0xff, `${path}.i`);
  if (scp === 0x10 && i !== 0x01 && i !== 0x02) fail(`${path}.i`, "SCP10 'i' must be 01 or 02");
  const out: SdRecord = { scp, i, keys, sequenceCounters: counters, data };
  if (o['keyLog'] !== undefined) out.keyLog = arr(o['keyLog'], `${path}.keyLog`, KEY_LOG_MAX).map((e, n) => keyEvent(e, `${path}.keyLog[${n}]`));
  return out;
}

function keyEvent(v: Json, path: string): KeyEvent {
  const o = obj(v, path);
  onlyKeys(o, ['event', 'kvn', 'kid', 'param', 'publicKey', 'exponent'], path);
  if (o['event'] !== 'generate') fail(`${path}.event`, "expected 'generate'");
  const head = { event: 'generate' as const, kvn: int(o['kvn'], 1, 0x7f, `${path}.kvn`), kid: int(o['kid'], 0, 0x7f, `${path}.kid`) };
  if (o['exponent'] !== undefined) {
    // RSA: modulus and exponent, no curve.
    if (o['param'] !== undefined) fail(`${path}.param`, 'an RSA key event has no curve');
    const publicKey = hex(o['publicKey'], `${path}.publicKey`, [128, 256]);
    const exponent = hex(o['exponent'], `${path}.exponent`, { min: 1, max: 4 });
    if (!isValidModulus(fromHex(publicKey)) || !isValidExponent(fromHex(exponent))) fail(`${path}.publicKey`, 'not an RSA public key');
    return { ...head, publicKey, exponent };
  }
  const param = int(o['param'], 0, 0xff, `${path}.param`);
  const n = eccValueLength(ECC_PUBLIC, param);
  if (n === undefined) fail(`${path}.param`, 'unknown key parameter reference');
  return { ...head, param, publicKey: hex(o['publicKey'], `${path}.publicKey`, [n]) };
}

function app(v: Json, path: string): AppRecord {
  const o = obj(v, path);
  onlyKeys(o, ['aid', 'elf', 'module', 'lifeCycle', 'privileges', 'sd', 'implicitSelection', 'installParams', 'securityDomain', 'appletData'], path);
  const a: AppRecord = {
    aid: aid(o['aid'], `${path}.aid`),
    elf: o['elf'] === '' ? '' : aid(o['elf'], `${path}.elf`),
    module: o['module'] === '' ? '' : aid(o['module'], `${path}.module`),
    lifeCycle: int(o['lifeCycle'], 0, 0xff, `${path}.lifeCycle`),
    privileges: hex(o['privileges'], `${path}.privileges`, [3]),
    sd: aid(o['sd'], `${path}.sd`),
    implicitSelection: arr(o['implicitSelection'], `${path}.implicitSelection`, 20).map((x, n) => int(x, 0, 0xff, `${path}.implicitSelection[${n}]`)),
    installParams: hex(o['installParams'], `${path}.installParams`, { min: 0, max: 65535 }),
  };
  if (o['securityDomain'] !== undefined) a.securityDomain = securityDomain(o['securityDomain'], `${path}.securityDomain`);
  if (o['appletData'] !== undefined) {
    plainJson(o['appletData'], `${path}.appletData`);
    a.appletData = obj(o['appletData'], `${path}.appletData`);
  }
  return a;
}

function elf(v: Json, path: string): ElfRecord {
  const o = obj(v, path);
  onlyKeys(o, ['aid', 'lifeCycle', 'sd', 'modules', 'version', 'builtIn'], path);
  return {
    aid: aid(o['aid'], `${path}.aid`),
    lifeCycle: int(o['lifeCycle'], 1, 1, `${path}.lifeCycle`),
    sd: aid(o['sd'], `${path}.sd`),
    modules: arr(o['modules'], `${path}.modules`, 256).map((m, n) => aid(m, `${path}.modules[${n}]`)),
    version: hex(o['version'], `${path}.version`, { min: 0, max: 16 }),
    builtIn: bool(o['builtIn'], `${path}.builtIn`),
  };
}

/** Validate parsed JSON as a card state; throws `CardStateError`. */
export function validateState(value: Json): CardState {
  const o = obj(value, '');
  if (o['format'] !== STATE_FORMAT) fail('format', `expected ${JSON.stringify(STATE_FORMAT)}`);
  if (o['version'] !== CARD_STATE_VERSION) {
    throw new CardStateError('UNSUPPORTED_VERSION', `state version ${JSON.stringify(o['version'])} is not ${CARD_STATE_VERSION}`, 'version');
  }
  onlyKeys(o, ['format', 'version', 'isd', 'kdd', 'cplc', 'iccid', 'eid', 'ssdInitialKeys', 'apps', 'elfs'], '');
  let ssdInitialKeys: CardState['ssdInitialKeys'] = null;
  if (o['ssdInitialKeys'] !== null) {
    const k = obj(o['ssdInitialKeys'], 'ssdInitialKeys');
    onlyKeys(k, ['enc', 'mac', 'dek'], 'ssdInitialKeys');
    ssdInitialKeys = {
      enc: hex(k['enc'], 'ssdInitialKeys.enc', [16, 24, 32]),
      mac: hex(k['mac'], 'ssdInitialKeys.mac', [16, 24, 32]),
      dek: hex(k['dek'], 'ssdInitialKeys.dek', [16, 24, 32]),
    };
  }
  const state: CardState = {
    version: CARD_STATE_VERSION,
    isd: aid(o['isd'], 'isd'),
    kdd: hex(o['kdd'], 'kdd', [10]),
    cplc: hex(o['cplc'], 'cplc', [42]),
    iccid: hex(o['iccid'], 'iccid', [0, 10]),
    eid: hex(o['eid'], 'eid', [0, 16]),
    ssdInitialKeys,
    apps: arr(o['apps'], 'apps').map((a, n) => app(a, `apps[${n}]`)),
    elfs: arr(o['elfs'], 'elfs').map((e, n) => elf(e, `elfs[${n}]`)),
  };
  checkConsistency(state);
  return state;
}

/** Cross-references: unique AIDs, the ISD first, associations point at SDs, apps point at loaded modules. */
function checkConsistency(s: CardState): void {
  const first = s.apps[0];
  if (!first || first.aid !== s.isd || !first.securityDomain || first.sd !== s.isd) fail('apps[0]', 'the ISD must come first, as a Security Domain associated with itself');
  if (![0x01, 0x07, 0x0f, 0x7f, 0xff].includes(first.lifeCycle)) fail('apps[0].lifeCycle', 'not a card life cycle state');
  const aids = new Set<string>();
  for (const [n, x] of [...s.apps, ...s.elfs].entries()) {
    if (aids.has(x.aid)) fail(`apps/elfs[${n}]`, `duplicate AID ${x.aid}`);
    aids.add(x.aid);
  }
  const sds = new Set(s.apps.filter((a) => a.securityDomain).map((a) => a.aid));
  s.apps.forEach((a, n) => {
    if (!sds.has(a.sd)) fail(`apps[${n}].sd`, `associated SD ${a.sd} is not a Security Domain`);
    if (n > 0) {
      const e = s.elfs.find((x) => x.aid === a.elf);
      if (!e || !e.modules.includes(a.module)) fail(`apps[${n}].module`, `module ${a.module} of ${a.elf} is not loaded`);
      if (a.lifeCycle !== 0x03 && (a.lifeCycle & 0x07) !== 0x07 && (a.lifeCycle & 0x83) !== 0x83) fail(`apps[${n}].lifeCycle`, 'not an application state');
    }
  });
  s.elfs.forEach((e, n) => {
    if (!sds.has(e.sd)) fail(`elfs[${n}].sd`, `associated SD ${e.sd} is not a Security Domain`);
  });
}

/** Parse and validate a saved state. */
export function parseState(json: string): CardState {
  if (typeof json !== 'string') throw new TypeError('parseState: expected a string');
  if (json.length > MAX_STATE_JSON) throw new CardStateError('BAD_JSON', `state larger than ${MAX_STATE_JSON} bytes`);
  let value: Json;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new CardStateError('BAD_JSON', `not JSON: ${(e as Error).message}`);
  }
  return validateState(value);
}
