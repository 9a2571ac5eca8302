/**
 * `--debug` APDU tracing: every command and response, plain and wrapped, with key material masked.
 * PUT KEY data is shown as `<key data, KCV 1A2B3C>` (CONVENTIONS.md: log KCVs, never keys).
 */
import { toHex } from '../core/bytes.ts';
import { swName } from '../apdu/sw.ts';

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

/** Hex of a command with PUT KEY data masked. */
export function maskCommand(apdu: Uint8Array): string {
  if (apdu.length > 5 && apdu[1] === INS_PUT_KEY) {
    const lc = apdu[4]!;
    const data = apdu.subarray(5, 5 + lc);
    const kcvs = putKeyKcvs(data);
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
  return {
    plainCommand: (a) => write(`>> ${maskCommand(a)}`),
    wireCommand: (a) => write(` > ${maskCommand(a)}`),
    wireResponse: (r) => write(` < ${describeResponse(r)}`),
    plainResponse: (r) => write(`<< ${describeResponse(r)}`),
  };
}
