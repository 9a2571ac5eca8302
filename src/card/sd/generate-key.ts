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
 *
 * RSA (SCP10 SD only, 6985 otherwise; KID '11' = SK.SD.AUT, 6A86 otherwise):
 *   data = new KVN ‖ 'A1' 02 <modulus length in bits: '0400' or '0800'>          (6A80 for other lengths)
 *   response = 'A1' L <modulus, 128 or 256 bytes> ‖ 'A0' L <public exponent '010001'>
 * The response of RSA-2048 (265 bytes) needs extended Le, or comes with 61xx for GET RESPONSE. The key pair
 * comes from node:crypto (the card's `random` does not seed it); the record keeps PKCS#8 DER (rsa-keys.ts).
 */
import { concat, toHex } from '../../core/bytes.ts';
import { encodeTlv } from '../../core/tlv.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import { curveByReference, generateKeyPair } from '../../crypto/index.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, check } from '../errors.ts';
import { KEY_LOG_MAX, type KeyEvent, type KeyRecord, type SdRecord } from '../state.ts';
import { ECC_PRIVATE, ECC_PUBLIC, KEY_PARAMETER_REFERENCE, SD_ECKA_KIDS } from './ec-keys.ts';
import { generateRsaKeyPair, RSA_EXPONENT, RSA_PRIVATE, RSA_PUBLIC, SD_AUT_KID } from './rsa-keys.ts';

export const INS_GENERATE_KEY = 0xf1;

/** C-MAC bit of the security level (GPCS §10.4.2; SCP10 F.3.1.5: also '01'). */
const C_MAC = 0x01;

interface Generated {
  readonly record: KeyRecord;
  readonly event: KeyEvent;
  readonly response: Uint8Array;
}

function generateEcc(sd: SdRecord, kid: number, d: Uint8Array, ctx: SdCommandContext): (kvn: number) => Generated {
  check(sd.scp === 0x11, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'only an SCP11 Security Domain generates ECC key pairs');
  check(SD_ECKA_KIDS.includes(kid), SW.INCORRECT_P1P2, "P2: KID '11', '13' or '15'");
  check(d.length === 4 && d[1] === KEY_PARAMETER_REFERENCE && d[2] === 0x01, SW.INCORRECT_DATA, "data: KVN ‖ 'F0' 01 reference");
  const curve = curveByReference(d[3]!);
  check(curve !== undefined, SW.INCORRECT_DATA, `unknown key parameter reference ${d[3]!.toString(16)}`);
  return (kvn) => {
    const pair = generateKeyPair(curve.name, ctx.random);
    const record: KeyRecord = { kvn, kid, type: ECC_PRIVATE, value: toHex(pair.privateKey), param: curve.keyParameterReference };
    pair.privateKey.fill(0);
    const event: KeyEvent = { event: 'generate', kvn, kid, param: curve.keyParameterReference, publicKey: toHex(pair.publicKey) };
    return { record, event, response: encodeTlv(ECC_PUBLIC, pair.publicKey) };
  };
}

function generateRsa(sd: SdRecord, kid: number, d: Uint8Array): (kvn: number) => Generated {
  check(sd.scp === 0x10, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'only an SCP10 Security Domain generates RSA key pairs');
  check(kid === SD_AUT_KID, SW.INCORRECT_P1P2, "P2: KID '11' (SK.SD.AUT)");
  check(d.length === 5 && d[1] === RSA_PUBLIC && d[2] === 0x02, SW.INCORRECT_DATA, "data: KVN ‖ 'A1' 02 modulus bits");
  const bits = (d[3]! << 8) | d[4]!;
  check(bits === 1024 || bits === 2048, SW.INCORRECT_DATA, `RSA-${bits} is not supported (1024 or 2048)`);
  return (kvn) => {
    const pair = generateRsaKeyPair(bits);
    const record: KeyRecord = { kvn, kid, type: RSA_PRIVATE, value: toHex(pair.der) };
    pair.der.fill(0);
    const event: KeyEvent = { event: 'generate', kvn, kid, publicKey: toHex(pair.modulus), exponent: toHex(pair.exponent) };
    return { record, event, response: concat(encodeTlv(RSA_PUBLIC, pair.modulus), encodeTlv(RSA_EXPONENT, pair.exponent)) };
  };
}

export function generateKey(ctx: SdCommandContext): ResponseApdu {
  const c = ctx.command;
  const session = ctx.session!;
  check((session.level & C_MAC) !== 0 && !ctx.channel.anonymous, SW.SECURITY_STATUS_NOT_SATISFIED, 'key generation needs an authenticated session with C-MAC');
  const sd = ctx.sd.securityDomain!;
  check(sd.scp === 0x10 || sd.scp === 0x11, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'only SCP10 and SCP11 Security Domains generate key pairs');
  const replaceKvn = c.p1;
  const kid = c.p2;
  check(replaceKvn <= 0x7f, SW.INCORRECT_P1P2, 'P1: KVN to replace, 00..7F');
  const d = c.data;
  // The algorithm follows from the data: 'F0' curve reference (ECC) or 'A1' modulus length (RSA); an SD
  // asked for the other family's key answers 6985.
  const alg = d[1];
  const make =
    alg === RSA_PUBLIC || (alg !== KEY_PARAMETER_REFERENCE && sd.scp === 0x10) ? generateRsa(sd, kid, d) : generateEcc(sd, kid, d, ctx);
  check(d.length >= 1, SW.INCORRECT_DATA, 'no new KVN');
  const kvn = d[0]!;
  check(kvn >= 1 && kvn <= 0x7f, SW.INCORRECT_DATA, 'new KVN not in 01..7F');
  const exists = (v: number) => sd.keys.some((k) => k.kvn === v && k.kid === kid);
  if (replaceKvn === 0) {
    check(!exists(kvn), SW.INCORRECT_DATA, `key ${kvn}/${kid} exists`);
  } else {
    check(exists(replaceKvn), SW.REFERENCED_DATA_NOT_FOUND, `no key ${replaceKvn}/${kid} to replace`);
    check(kvn === replaceKvn || !exists(kvn), SW.INCORRECT_DATA, `key ${kvn}/${kid} exists`);
    sd.keys = sd.keys.filter((k) => !(k.kvn === replaceKvn && k.kid === kid));
  }
  const g = make(kvn);
  sd.keys.push(g.record);
  const log = sd.keyLog ?? [];
  log.push(g.event);
  sd.keyLog = log.slice(-KEY_LOG_MAX);
  return { data: g.response, sw: SW.OK };
}
