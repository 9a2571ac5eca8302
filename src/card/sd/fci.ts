/**
 * What a Security Domain tells about itself: the SELECT response FCI (GPCS 2.3.1 §11.9.3.1 Table 11-82),
 * Card Recognition Data (GET DATA '66', Appendix H.2 Table H-2) and Security Domain Management Data
 * ('73', Appendix H.3) — encoded with the gp layer.
 */
import { fromHex } from '../../core/bytes.ts';
import { encodeTlv } from '../../core/tlv.ts';
import { encodeCardRecognitionData, encodeFci } from '../../gp/index.ts';
import type { AppRecord, CardState } from '../state.ts';

/**
 * Template '73': {gp 1}, card management type and version {gp 2 2 3 1} (GP 2.3.1), card identification
 * scheme {gp 3}, the SD's secure channel protocol {gp 4 scp i}.
 */
export function recognitionData(sd: AppRecord): Uint8Array {
  const s = sd.securityDomain!;
  return encodeCardRecognitionData(
    { gpVersion: [2, 3, 1], cardIdentificationScheme: true, scp: [{ id: s.scp, i: s.i }] },
    { template: 0x73, format: 2 },
  );
}

/** GET DATA '66': stored Card Data / SD Management Data if any (STORE DATA), else generated. */
export function cardData(sd: AppRecord): Uint8Array {
  const stored = sd.securityDomain!.data['66'];
  return encodeTlv(0x66, stored !== undefined ? fromHex(stored) : recognitionData(sd));
}

/** FCI of a Security Domain: 6F { 84 AID, A5 { 73 …, [9F6E …,] 9F65 'FF' } }. */
export function securityDomainFci(state: CardState, sd: AppRecord): Uint8Array {
  return encodeFci({
    aid: fromHex(sd.aid),
    securityDomainManagementData: recognitionData(sd),
    // Application production life cycle data (ISD): IC fabricator … OS release level, CPLC bytes 0..9.
    ...(sd.aid === state.isd ? { productionLifeCycleData: fromHex(state.cplc.slice(0, 20)) } : {}),
    maxCommandLength: 0xff,
  });
}
