/**
 * GENERATE KEY PAIR — proprietary (GlobalPlatform defines no command for on-card key generation; this is the
 * command Yubico's SCP11 implementation uses, see docs/simulator.md "Choices the specification leaves open"):
 *
 *   CLA '80' (or '84' with secure messaging)  INS 'F1'  P1 = KVN to replace ('00' = new key)  P2 = KID
 *   data = new KVN ‖ 'F0' 01 <key parameter reference>        response = 'B0' L <uncompressed public point>
 *
 * The SD (an SCP11 SD) generates SK.SD.ECKA / PK.SD.ECKA for KID '11' (SCP11a), '13' (SCP11b) or '15'
 * (SCP11c). Only inside an authenticated session with at least C-MAC (6982 otherwise; never in an SCP11b
 * session). P1 = '00': (KVN, KID) must be new (6A80). P1 = KVN: key P1/P2 must exist (6A88) and is replaced,
 * its certificate dropped. Unknown curve, bad KVN/KID, malformed data: 6A80; not an SCP11 SD: 6985.
 * The private key stays in the card state; each generation is appended to the SD's key log (public data only).
 */
import { toHex } from '../../core/bytes.ts';
import { encodeTlv } from '../../core/tlv.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import { curveByReference, generateKeyPair } from '../../scp/scp11/index.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, check } from '../errors.ts';
import { KEY_LOG_MAX, type KeyRecord } from '../state.ts';
import { ECC_PRIVATE, ECC_PUBLIC, KEY_PARAMETER_REFERENCE, SD_ECKA_KIDS } from './ec-keys.ts';

export const INS_GENERATE_KEY = 0xf1;

/** C-MAC bit of the security level (GPCS §10.4.2). */
const C_MAC = 0x01;

export function generateKey(ctx: SdCommandContext): ResponseApdu {
  const c = ctx.command;
  const session = ctx.session!;
  check((session.level & C_MAC) !== 0 && !ctx.channel.anonymous, SW.SECURITY_STATUS_NOT_SATISFIED, 'key generation needs an authenticated session with C-MAC');
  const sd = ctx.sd.securityDomain!;
  check(sd.scp === 0x11, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'only an SCP11 Security Domain generates ECC key pairs');
  const replaceKvn = c.p1;
  const kid = c.p2;
  check(replaceKvn <= 0x7f, SW.INCORRECT_P1P2, 'P1: KVN to replace, 00..7F');
  check(SD_ECKA_KIDS.includes(kid), SW.INCORRECT_P1P2, "P2: KID '11', '13' or '15'");
  const d = c.data;
  check(d.length === 4 && d[1] === KEY_PARAMETER_REFERENCE && d[2] === 0x01, SW.INCORRECT_DATA, "data: KVN ‖ 'F0' 01 reference");
  const kvn = d[0]!;
  check(kvn >= 1 && kvn <= 0x7f, SW.INCORRECT_DATA, 'new KVN not in 01..7F');
  const curve = curveByReference(d[3]!);
  check(curve !== undefined, SW.INCORRECT_DATA, `unknown key parameter reference ${d[3]!.toString(16)}`);
  const exists = (v: number) => sd.keys.some((k) => k.kvn === v && k.kid === kid);
  if (replaceKvn === 0) {
    check(!exists(kvn), SW.INCORRECT_DATA, `key ${kvn}/${kid} exists`);
  } else {
    check(exists(replaceKvn), SW.REFERENCED_DATA_NOT_FOUND, `no key ${replaceKvn}/${kid} to replace`);
    check(kvn === replaceKvn || !exists(kvn), SW.INCORRECT_DATA, `key ${kvn}/${kid} exists`);
    sd.keys = sd.keys.filter((k) => !(k.kvn === replaceKvn && k.kid === kid));
  }
  const pair = generateKeyPair(curve.name, ctx.random);
  const rec: KeyRecord = { kvn, kid, type: ECC_PRIVATE, value: toHex(pair.privateKey), param: curve.keyParameterReference };
  pair.privateKey.fill(0);
  sd.keys.push(rec);
  const log = sd.keyLog ?? [];
  log.push({ event: 'generate', kvn, kid, param: curve.keyParameterReference, publicKey: toHex(pair.publicKey) });
  sd.keyLog = log.slice(-KEY_LOG_MAX);
  return { data: encodeTlv(ECC_PUBLIC, pair.publicKey), sw: SW.OK };
}
