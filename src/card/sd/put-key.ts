/**
 * PUT KEY handled by a Security Domain (GPCS 2.3.1 §11.8; key management §7.5; Appendix B.6 KCV).
 *
 *  - P1 = '00': add keys under the new KVN of the data field. Each (KVN, KID) must be new (6A80).
 *    When an initial key set (KVN 'FF', see `profile.ts`) exists, it is removed as soon as another KVN holds
 *    a whole key set (KIDs 1, 2, 3): the initial key set only serves to load the first real one.
 *  - P1 = KVN (01..7F, or 'FF' for the initial key set): replace the keys with the KIDs of the data field
 *    in that version, by keys of the new KVN. The old keys must exist (6A88) and the new ones keep the
 *    type and length of the old (6A80, §11.8.2.3.3) — except when replacing the initial key set.
 *  - Several keys in one command (P2.b8), KIDs from P2 upwards; all or none are stored (§11.8.2.3.3).
 *  - Secret key components are decrypted with the session's key-encryption (SCP03 Key-DEK / SCP02 session
 *    DEK); each KCV is checked: a wrong KCV answers 6982 (Table 11-78).
 * DES (80: 16 or 24 bytes) and AES (88: 16, 24, 32 bytes) keys are accepted, and — in an SCP11 SD — an ECC
 * public key PK.CA-KLOC.ECDSA (Amendment F; GPCS Table 11-16): components 'B0' (uncompressed point) and 'F0'
 * (key parameter reference, 1 byte), empty KCV, KID '10' or '20'–'2F'; the point must lie on the curve.
 * In an SCP10 SD, an RSA public key PK.TP_EX.AUT (GPCS 2.2.1 F.1.1; Table 11-16): components 'A1' (modulus,
 * 128 or 256 bytes, top bit set) and 'A0' (public exponent: odd, ≥ 3, at most 4 bytes), in clear, empty KCV,
 * KID '10'. Anything else: 6A80. Private keys (ECC or RSA) are never imported: SK.SD.ECKA and SK.SD.AUT are
 * generated on card (generate-key.ts). Key components are decrypted with the session's DEK: 16-byte blocks in
 * SCP03 sessions, 8-byte (3DES) blocks in SCP02 and SCP10 sessions.
 * Chaining (P1.b8 with
 * P1 ≠ 'FF') is not supported (6A86). Response: new KVN ‖ KCVs.
 */
import { toHex } from '../../core/bytes.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import { GpError } from '../../gp/index.ts';
import { encodePutKeyResponse, parsePutKeyCommand, type PutKeyCommand, type PutKeyCommandKey } from '../../gp/index.ts';
import { curveByReference, isValidPublicKey } from '../../crypto/index.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, SwError, check } from '../errors.ts';
import { INITIAL_KVN } from '../profile.ts';
import type { KeyRecord, SdRecord } from '../state.ts';
import { ECC_PUBLIC, eccValueLength, isTrustAnchorKid, KEY_PARAMETER_REFERENCE } from './ec-keys.ts';
import { isValidExponent, isValidModulus, RSA_EXPONENT, RSA_PUBLIC, TRUST_POINT_KID } from './rsa-keys.ts';

/** PK.TP_EX.AUT from a key data field: 'A1' modulus + 'A0' exponent. */
function rsaTrustPoint(sd: SdRecord, kvn: number, k: PutKeyCommandKey): KeyRecord {
  check(sd.scp === 0x10, SW.INCORRECT_DATA, 'RSA keys belong to SCP10 Security Domains');
  check(k.keyId === TRUST_POINT_KID, SW.INCORRECT_DATA, "an RSA public key is PK.TP_EX.AUT: KID '10'");
  const n = k.components.find((x) => x.type === RSA_PUBLIC);
  const e = k.components.find((x) => x.type === RSA_EXPONENT);
  check(k.components.length === 2 && n !== undefined && e !== undefined, SW.INCORRECT_DATA, "RSA public key: 'A1' modulus and 'A0' exponent");
  check(isValidModulus(n.value), SW.INCORRECT_DATA, 'modulus: 128 or 256 bytes, top bit set');
  check(isValidExponent(e.value), SW.INCORRECT_DATA, 'exponent: odd, at least 3, at most 4 bytes');
  check(k.kcv.length === 0, SW.INCORRECT_DATA, 'an RSA public key has no key check value');
  return { kvn, kid: k.keyId, type: RSA_PUBLIC, value: toHex(n.value), exponent: toHex(e.value) };
}

/** PK.CA-KLOC.ECDSA from a key data field: 'B0' point + 'F0' reference. */
function trustAnchor(sd: SdRecord, kvn: number, k: PutKeyCommandKey): KeyRecord {
  check(sd.scp === 0x11, SW.INCORRECT_DATA, 'ECC keys belong to SCP11 Security Domains');
  check(isTrustAnchorKid(k.keyId), SW.INCORRECT_DATA, "an ECC public key is PK.CA-KLOC.ECDSA: KID '10' or '20'-'2F'");
  const point = k.components.find((x) => x.type === ECC_PUBLIC);
  const ref = k.components.find((x) => x.type === KEY_PARAMETER_REFERENCE);
  check(k.components.length === 2 && point !== undefined && ref !== undefined && ref.value.length === 1, SW.INCORRECT_DATA, "ECC public key: 'B0' point and 'F0' reference");
  const curve = curveByReference(ref.value[0]!);
  check(curve !== undefined && eccValueLength(ECC_PUBLIC, ref.value[0]!) === point.value.length, SW.INCORRECT_DATA, 'unknown curve or wrong point length');
  check(isValidPublicKey(curve.name, point.value), SW.INCORRECT_DATA, 'point not on the curve');
  check(k.kcv.length === 0, SW.INCORRECT_DATA, 'an ECC public key has no key check value');
  return { kvn, kid: k.keyId, type: ECC_PUBLIC, value: toHex(point.value), param: ref.value[0]! };
}

const LENGTHS: Record<number, readonly number[]> = { 0x80: [16, 24], 0x88: [16, 24, 32] };

export function putKey(ctx: SdCommandContext): ResponseApdu {
  const c = ctx.command;
  const session = ctx.session!;
  const replaceKvn = c.p1 === 0xff ? INITIAL_KVN : c.p1;
  check((c.p1 & 0x80) === 0 || c.p1 === 0xff, SW.INCORRECT_P1P2, 'PUT KEY chaining is not supported');
  const sd = ctx.sd.securityDomain!;
  let cmd: PutKeyCommand;
  try {
    cmd = parsePutKeyCommand(c, (enc) => session.decryptKeyData(enc), { dekBlockSize: session.scp === 3 ? 16 : 8 });
  } catch (e) {
    if (e instanceof GpError && e.code === 'KCV_MISMATCH') throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'key check value');
    throw e;
  }
  const newKeys: KeyRecord[] = cmd.keys.map((k) => {
    if (k.components.some((x) => x.type === ECC_PUBLIC)) return trustAnchor(sd, cmd.newKvn, k);
    if (k.components.some((x) => x.type === RSA_PUBLIC || x.type === RSA_EXPONENT)) return rsaTrustPoint(sd, cmd.newKvn, k);
    check(k.components.length === 1, SW.INCORRECT_DATA, 'only single-component symmetric keys are supported');
    const { type, value } = k.components[0]!;
    check((LENGTHS[type] ?? []).includes(value.length), SW.INCORRECT_DATA, `key type ${type.toString(16)} of ${value.length} bytes not supported`);
    const rec: KeyRecord = { kvn: cmd.newKvn, kid: k.keyId, type, value: toHex(value) };
    if (k.usage && k.usage.length) rec.usage = k.usage[0]!; // first byte (the second, Table 11-18, is not kept)
    if (k.access && k.access.length) rec.access = k.access[0]!;
    return rec;
  });
  const exists = (kvn: number, kid: number) => sd.keys.some((k) => k.kvn === kvn && k.kid === kid);

  if (replaceKvn === 0) {
    for (const k of newKeys) check(!exists(k.kvn, k.kid), SW.INCORRECT_DATA, `key ${k.kvn}/${k.kid} exists`);
  } else {
    check(sd.keys.some((k) => k.kvn === replaceKvn), SW.REFERENCED_DATA_NOT_FOUND, `no key version ${replaceKvn}`);
    for (const k of newKeys) {
      const old = sd.keys.find((x) => x.kvn === replaceKvn && x.kid === k.kid);
      check(old !== undefined, SW.REFERENCED_DATA_NOT_FOUND, `no key ${replaceKvn}/${k.kid} to replace`);
      if (replaceKvn !== INITIAL_KVN) {
        check(old.type === k.type && old.value.length === k.value.length && old.param === k.param, SW.INCORRECT_DATA, 'a replaced key keeps its type and length');
      }
      if (cmd.newKvn !== replaceKvn) check(!exists(cmd.newKvn, k.kid), SW.INCORRECT_DATA, `key ${cmd.newKvn}/${k.kid} exists`);
    }
    const replaced = new Set(newKeys.map((k) => k.kid));
    sd.keys = sd.keys.filter((k) => !(k.kvn === replaceKvn && replaced.has(k.kid)));
    const carried = sd.sequenceCounters[String(replaceKvn)];
    if (carried !== undefined && cmd.newKvn !== replaceKvn) {
      sd.sequenceCounters[String(cmd.newKvn)] = Math.max(carried, sd.sequenceCounters[String(cmd.newKvn)] ?? 0);
    }
  }
  sd.keys.push(...newKeys);
  // The initial key set only serves to load the first real one: it goes once another version holds a whole
  // secure channel key set (ENC, MAC, DEK — in one command or several). A lone key (a DAP or token key)
  // leaves it in place.
  const fullSet = (kvn: number) => [1, 2, 3].every((kid) => exists(kvn, kid));
  if (cmd.newKvn !== INITIAL_KVN && fullSet(cmd.newKvn)) sd.keys = sd.keys.filter((k) => k.kvn !== INITIAL_KVN);
  if (sd.sequenceCounters[String(cmd.newKvn)] === undefined) sd.sequenceCounters[String(cmd.newKvn)] = 0;
  return { data: encodePutKeyResponse(cmd.newKvn, cmd.keys.map((k) => k.kcv)), sw: SW.OK };
}
