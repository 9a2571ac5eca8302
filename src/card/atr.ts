/**
 * Answer To Reset of the simulated card (ISO/IEC 7816-3 §8.2; historical bytes ISO/IEC 7816-4 §8.1.1).
 *
 *   3B           TS   direct convention
 *   FC           T0   TA1 TB1 TC1 TD1 follow; 12 historical bytes
 *   13           TA1  Fi = 372, Di = 4
 *   00           TB1  no VPP
 *   00           TC1  no extra guard time
 *   81           TD1  TD2 follows; T=1
 *   31           TD2  TA3 TB3 follow; T=1
 *   FE           TA3  IFSC = 254
 *   45           TB3  BWI = 4, CWI = 5
 *   80           category indicator: compact-TLV data objects follow
 *   31 C0        card service data: selection by full DF name and by partial DF name
 *   73 C0 21 1F  card capabilities: full/partial DF name selection; data coding 21; logical channel
 *                assignment by card and by interface device, 8 or more logical channels
 *   54 4F54534D  card issuer's data (tag 5, 4 bytes): ASCII "OTSM"
 *   49           TCK  XOR of T0 … last historical byte
 *
 * In full: 3BFC1300008131FE458031C073C0211F544F54534D49
 */
import { fromHex, toHex } from '../core/bytes.ts';

const HISTORICAL = '8031C073C0211F544F54534D';

function withTck(body: Uint8Array): Uint8Array {
  let tck = 0;
  for (let i = 1; i < body.length; i++) tck ^= body[i]!;
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  out[body.length] = tck;
  return out;
}

/** The default ATR. */
export const DEFAULT_ATR: Uint8Array = withTck(fromHex(`3BFC1300008131FE45${HISTORICAL}`));

/** Hex of the default ATR, for documentation and tests. */
export const ATR_HEX: string = toHex(DEFAULT_ATR);
