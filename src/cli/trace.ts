/**
 * `--debug` APDU tracing: every command and response, plain and wrapped, with key material masked.
 * PUT KEY data is shown as `<key data, KCV 1A2B3C>` (CONVENTIONS.md: log KCVs, never keys).
 */
import { toHex } from '../core/bytes.ts';
import { swName } from '../apdu/sw.ts';
import { hasSecureMessaging } from '../apdu/logical-channel.ts';

const INS_PUT_KEY = 0xd8;

/** KCVs found in a PUT KEY data field (GP 2.3.1 §11.8.2.3), best effort; empty when unparsable. */
function putKeyKcvs(data: Uint8Array): string[] {
  const kcvs: string[] = [];
  let o = 1; // new key version number
  while (o + 2 <= data.length) {
    o++; // key type
    let len = data[o++]!;
    if (len === 0xff) return kcvs; // extended format: leave it masked without KCVs
    o += len;
    if (o >= data.length) break;
    len = data[o++]!;
    if (o + len > data.length) break;
    if (len > 0) kcvs.push(toHex(data.subarray(o, o + len)));
    o += len;
  }
  return kcvs;
}

/**
 * Hex of a command with PUT KEY data masked. `plain` is the unwrapped form of a wrapped command, when known:
 * the wrapped data then show the plain command's KCVs only when they are the plain data plus a C-MAC (not
 * encrypted) — KCVs are never read out of ciphertext.
 */
export function maskCommand(apdu: Uint8Array, plain?: Uint8Array): string {
  if (apdu.length > 5 && apdu[1] === INS_PUT_KEY) {
    const lc = apdu[4]!;
    const data = apdu.subarray(5, 5 + lc);
    let kcvs: string[] = [];
    if (!hasSecureMessaging(apdu[0]!)) kcvs = putKeyKcvs(data);
    else if (plain !== undefined && plain.length > 5 && plain[1] === INS_PUT_KEY) {
      const plainData = plain.subarray(5, 5 + plain[4]!);
      const macOnly = (data.length === plainData.length + 8 || data.length === plainData.length + 16) && data.subarray(0, plainData.length).every((b, i) => b === plainData[i]);
      if (macOnly) kcvs = putKeyKcvs(plainData);
    }
    const what = kcvs.length > 0 ? `KCV ${kcvs.join(' ')}` : `${data.length} bytes`;
    return `${toHex(apdu.subarray(0, 5))} <key data, ${what}>${apdu.length > 5 + lc ? ` ${toHex(apdu.subarray(5 + lc))}` : ''}`;
  }
  return toHex(apdu);
}

export function describeResponse(rapdu: Uint8Array): string {
  if (rapdu.length < 2) return toHex(rapdu);
  const sw = (rapdu[rapdu.length - 2]! << 8) | rapdu[rapdu.length - 1]!;
  return `${toHex(rapdu)} (${swName(sw)})`;
}

export interface Tracer {
  plainCommand(apdu: Uint8Array): void;
  wireCommand(apdu: Uint8Array): void;
  wireResponse(rapdu: Uint8Array): void;
  plainResponse(rapdu: Uint8Array): void;
}

/** A tracer writing to `write` (stderr by default); `null` tracer when debugging is off. */
export function createTracer(write: (line: string) => void): Tracer {
  let lastPlain: Uint8Array | undefined;
  return {
    plainCommand: (a) => {
      lastPlain = a;
      write(`>> ${maskCommand(a)}`);
    },
    wireCommand: (a) => {
      write(` > ${maskCommand(a, lastPlain)}`);
      lastPlain = undefined;
    },
    wireResponse: (r) => write(` < ${describeResponse(r)}`),
    plainResponse: (r) => write(`<< ${describeResponse(r)}`),
  };
}
