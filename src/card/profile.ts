/**
 * Card profiles: what a factory-fresh simulated card looks like (GPCS 2.3.1 §5.1.1.1 OP_READY: an initial
 * key in the ISD; §7.4.1 ISD data: IIN, CIN, card recognition data; §6.6 privileges of the ISD).
 *
 * Two profiles ship: `scp03` (ISD key set KVN 0x30, i = 0x70 pseudo-random card challenge with R-MAC and
 * R-ENC support, AES-128, Amendment D §5.1) and `scp02` (KVN 0x20, i = 0x55, two-key 3DES, GPCS E.1.1).
 * Both use the well-known test keys 40..4F for ENC, MAC and DEK.
 */
import { fromHex, toHex, assertBytes, assertInt } from '../core/bytes.ts';
import { CARD_STATE_VERSION, type CardState, type AppRecord, type ElfRecord, type KeyRecord } from './state.ts';
import { isSupportedI } from '../scp/scp02/wrap.ts';

/** The well-known GlobalPlatform test key, used for ENC, MAC and DEK. */
export const DEFAULT_STATIC_KEY = '404142434445464748494A4B4C4D4E4F';

/** ISD privileges: Security Domain, Card Lock, Card Terminate, Card Reset, CVM Management (byte 1 9E);
 * Trusted Path, Authorized Management, Global Delete, Global Lock, Global Registry, Final Application (byte 2 DE). */
export const ISD_PRIVILEGES = '9EDE00';

/** Load file of the built-in Security Domain code (GP well-known AIDs). */
export const SSD_ELF_AID = 'A0000001515350';
export const SSD_MODULE_AID = 'A000000151535041';

/** Key version number of the initial ("test") key set that a new key set replaces (see `sd/put-key.ts`). */
export const INITIAL_KVN = 0xff;

export type ProfileName = 'scp03' | 'scp02';

export interface CardProfileOptions {
  /** Which secure channel protocol the ISD speaks (default `scp03`). */
  readonly profile?: ProfileName;
  /** ISD static keys (default 40..4F for all three). */
  readonly keys?: { readonly enc: Uint8Array; readonly mac: Uint8Array; readonly dek: Uint8Array };
  /** ISD key version number (default 0x30 for SCP03, 0x20 for SCP02). */
  readonly kvn?: number;
  /** SCP "i" parameter (default 0x70 for SCP03, 0x55 for SCP02). */
  readonly i?: number;
  /** ISD AID (default A000000151000000). */
  readonly isdAid?: Uint8Array;
  /** Issuer Identification Number, tag '42' (default 42 00 01 -> '00 01'). */
  readonly iin?: Uint8Array;
  /** Card Image Number, tag '45'. */
  readonly cin?: Uint8Array;
  /** Key diversification data, 10 bytes. */
  readonly kdd?: Uint8Array;
  /** CPLC, 42 bytes. */
  readonly cplc?: Uint8Array;
  /** ICCID, 10 bytes. */
  readonly iccid?: Uint8Array;
  /** EID, 16 bytes. */
  readonly eid?: Uint8Array;
  /** Initial sequence counter of the ISD key set. */
  readonly sequenceCounter?: number;
  /** Initial card life cycle state (default SECURED, 0x0F). */
  readonly cardLifeCycle?: number;
  /**
   * Initial key set given to every new Supplementary Security Domain, with KVN 0xFF (default: the same
   * well-known test keys). `null` creates SSDs without keys (keys then come with STORE DATA through
   * INSTALL [for personalization]).
   */
  readonly ssdInitialKeys?: { readonly enc: Uint8Array; readonly mac: Uint8Array; readonly dek: Uint8Array } | null;
}

/** A resolved profile: every field present. */
export interface CardProfile {
  readonly profile: ProfileName;
  readonly scp: 2 | 3;
  readonly i: number;
  readonly kvn: number;
  readonly keys: { readonly enc: Uint8Array; readonly mac: Uint8Array; readonly dek: Uint8Array };
  readonly isdAid: Uint8Array;
  readonly iin: Uint8Array;
  readonly cin: Uint8Array;
  readonly kdd: Uint8Array;
  readonly cplc: Uint8Array;
  readonly iccid: Uint8Array;
  readonly eid: Uint8Array;
  readonly sequenceCounter: number;
  readonly cardLifeCycle: number;
  readonly ssdInitialKeys: { readonly enc: Uint8Array; readonly mac: Uint8Array; readonly dek: Uint8Array } | null;
}

/** Default CPLC (GPCS 2.3.1 / Visa GP CPLC layout, 42 bytes): fabricator 4F54 'OT', IC type 534D 'SM', ... */
const DEFAULT_CPLC =
  '4F54' + '534D' + '0001' + '6140' + '0100' + '6141' + '00000001' + '0001' + '4F54' + '6141' +
  '4F54' + '6141' + '0000' + '6141' + '00000000' + '0000' + '6141' + '00000000';

function keyBytes(k: Uint8Array, scp: 2 | 3, name: string): Uint8Array {
  return assertBytes(k, scp === 2 ? 16 : [16, 24, 32], name);
}

/** An SCP02 ISD runs only the Table E-1 options the scp layer implements (GPCS 2.2.1 E.1.1). */
function scp02I(scp: 2 | 3, i: number): number {
  if (scp === 2 && !isSupportedI(i)) throw new RangeError(`SCP02 i=${i.toString(16)} is not supported`);
  return i;
}

/** Fill in a profile from options. Throws `TypeError`/`RangeError` on bad options (a caller's mistake). */
export function resolveProfile(options: CardProfileOptions = {}): CardProfile {
  const profile = options.profile ?? 'scp03';
  if (profile !== 'scp03' && profile !== 'scp02') throw new RangeError(`unknown profile ${String(profile)}`);
  const scp = profile === 'scp03' ? 3 : 2;
  const def = fromHex(DEFAULT_STATIC_KEY);
  const keys = options.keys ?? { enc: def, mac: def, dek: def };
  const k = {
    enc: keyBytes(keys.enc, scp, 'keys.enc').slice(),
    mac: keyBytes(keys.mac, scp, 'keys.mac').slice(),
    dek: keyBytes(keys.dek, scp, 'keys.dek').slice(),
  };
  if (scp === 3 && (k.mac.length !== k.enc.length || k.dek.length !== k.enc.length)) {
    throw new RangeError('SCP03 keys must have one length');
  }
  const ssd = options.ssdInitialKeys === undefined ? { enc: def, mac: def, dek: def } : options.ssdInitialKeys;
  return Object.freeze({
    profile,
    scp,
    i: scp02I(scp, assertInt(options.i ?? (scp === 3 ? 0x70 : 0x55), 0, 0xff, 'i')),
    kvn: assertInt(options.kvn ?? (scp === 3 ? 0x30 : 0x20), 1, 0xff, 'kvn'),
    keys: k,
    isdAid: assertBytes(options.isdAid ?? fromHex('A000000151000000'), { min: 5, max: 16 }, 'isdAid'),
    iin: assertBytes(options.iin ?? fromHex('0001'), { min: 1, max: 16 }, 'iin'),
    cin: assertBytes(options.cin ?? fromHex('0102030405060708'), { min: 1, max: 16 }, 'cin'),
    kdd: assertBytes(options.kdd ?? fromHex('00010203040506070809'), 10, 'kdd'),
    cplc: assertBytes(options.cplc ?? fromHex(DEFAULT_CPLC), 42, 'cplc'),
    iccid: assertBytes(options.iccid ?? fromHex('98001032547698103214'), [0, 10], 'iccid'),
    eid: assertBytes(options.eid ?? fromHex('89049032000000000000000000000001'), [0, 16], 'eid'),
    sequenceCounter: assertInt(options.sequenceCounter ?? 0, 0, scp === 2 ? 0xffff : 0xffffff, 'sequenceCounter'),
    cardLifeCycle: assertInt(options.cardLifeCycle ?? 0x0f, 0, 0xff, 'cardLifeCycle'),
    ssdInitialKeys: ssd === null ? null : {
      enc: keyBytes(ssd.enc, scp, 'ssdInitialKeys.enc').slice(),
      mac: keyBytes(ssd.mac, scp, 'ssdInitialKeys.mac').slice(),
      dek: keyBytes(ssd.dek, scp, 'ssdInitialKeys.dek').slice(),
    },
  });
}

/** Key records for a secure channel key set (KID 1 ENC, 2 MAC, 3 DEK; Amendment D §6.1, GPCS E.2). */
export function keySetRecords(
  kvn: number,
  scp: 2 | 3,
  keys: { readonly enc: Uint8Array; readonly mac: Uint8Array; readonly dek: Uint8Array },
): KeyRecord[] {
  const type = scp === 3 ? 0x88 : 0x80;
  return [keys.enc, keys.mac, keys.dek].map((v, n) => ({ kvn, kid: n + 1, type, value: toHex(v) }));
}

/** Built-in Executable Load Files: the SSD code, plus whatever the applet catalogue marks built in. */
export function builtInSsdElf(isd: string): ElfRecord {
  return { aid: SSD_ELF_AID, lifeCycle: 0x01, sd: isd, modules: [SSD_MODULE_AID], version: '0100', builtIn: true };
}

/** The persistent state of a factory-fresh card for `profile`. */
export function initialState(profile: CardProfile, builtInElfs: readonly ElfRecord[] = []): CardState {
  const isd = toHex(profile.isdAid);
  const isdRecord: AppRecord = {
    aid: isd,
    elf: '',
    module: '',
    lifeCycle: profile.cardLifeCycle,
    privileges: ISD_PRIVILEGES,
    sd: isd,
    implicitSelection: [],
    installParams: '',
    securityDomain: {
      scp: profile.scp,
      i: profile.i,
      keys: keySetRecords(profile.kvn, profile.scp, profile.keys),
      sequenceCounters: { [String(profile.kvn)]: profile.sequenceCounter },
      data: { '42': toHex(profile.iin), '45': toHex(profile.cin) },
    },
  };
  return {
    version: CARD_STATE_VERSION,
    isd,
    kdd: toHex(profile.kdd),
    cplc: toHex(profile.cplc),
    iccid: toHex(profile.iccid),
    eid: toHex(profile.eid),
    ssdInitialKeys: profile.ssdInitialKeys
      ? { enc: toHex(profile.ssdInitialKeys.enc), mac: toHex(profile.ssdInitialKeys.mac), dek: toHex(profile.ssdInitialKeys.dek) }
      : null,
    apps: [isdRecord],
    elfs: [builtInSsdElf(isd), ...builtInElfs.map((e) => ({ ...e, sd: isd }))],
  };
}
