/** Test fixtures for SCP11: CA-KLOC, CA-KLCC, an OCE and an SD with certificates, on one curve. */
import { fromHex } from '../../src/core/bytes.ts';
import {
  bcdDate,
  KEY_USAGE_KEY_AGREEMENT,
  KEY_USAGE_SIGNATURE,
  Scp11Card,
  signCertificate,
  type GpCertificate,
  type Scp11CardConfig,
} from '../../src/scp/scp11/index.ts';
import { generateKeyPair, type CurveName, type EcKeyPair } from '../../src/crypto/index.ts';

export interface Pki {
  readonly curve: CurveName;
  readonly caKloc: EcKeyPair;
  readonly caKlcc: EcKeyPair;
  readonly kaKloc: EcKeyPair;
  readonly kaCert: GpCertificate;
  readonly oce: EcKeyPair;
  readonly oceCert: GpCertificate;
  /** CERT.OCE.ECKA signed by the KA (chain CA → KA → OCE). */
  readonly oceCertViaKa: GpCertificate;
  readonly sd: EcKeyPair;
  readonly sdCert: GpCertificate;
}

export const OCE_ID = fromHex('0102030405');
export const CA_KLOC_ID = fromHex('C0C0C0');
export const CARD_GROUP_ID = fromHex('47524F5550');

export function makePki(curve: CurveName = 'P-256'): Pki {
  const caKloc = generateKeyPair(curve);
  const caKlcc = generateKeyPair(curve);
  const kaKloc = generateKeyPair(curve);
  const oce = generateKeyPair(curve);
  const sd = generateKeyPair(curve);
  const base = { effectiveDate: bcdDate('20240101'), expirationDate: bcdDate('20391231') };
  const kaCert = signCertificate(
    { serialNumber: fromHex('0A'), caId: CA_KLOC_ID, subjectId: fromHex('4B41'), keyUsage: KEY_USAGE_SIGNATURE, ...base, publicKey: { curve, point: kaKloc.publicKey } },
    caKloc,
  );
  const oceFields = { serialNumber: fromHex('01'), caId: CA_KLOC_ID, subjectId: OCE_ID, keyUsage: KEY_USAGE_KEY_AGREEMENT, ...base, publicKey: { curve, point: oce.publicKey } };
  return {
    curve,
    caKloc,
    caKlcc,
    kaKloc,
    kaCert,
    oce,
    oceCert: signCertificate(oceFields, caKloc),
    oceCertViaKa: signCertificate({ ...oceFields, serialNumber: fromHex('02'), caId: fromHex('4B41') }, kaKloc),
    sd,
    sdCert: signCertificate(
      { serialNumber: fromHex('77'), caId: fromHex('C1C1'), subjectId: CARD_GROUP_ID, keyUsage: KEY_USAGE_KEY_AGREEMENT, ...base, publicKey: { curve, point: sd.publicKey } },
      caKlcc,
    ),
  };
}

export const SD_KVN = 0x01;
export const CA_KVN = 0x01;

/** An SD supporting all three variants with one SK.SD.ECKA per KID '11', '13', '15'. */
export function makeCard(pki: Pki, extra: Partial<Scp11CardConfig> = {}): Scp11Card {
  const sdKeys = [0x11, 0x13, 0x15].map((kid) => ({ kvn: SD_KVN, kid, curve: pki.curve, privateKey: pki.sd.privateKey, certificate: pki.sdCert }));
  return new Scp11Card({
    i: 0x01 | 0x02 | 0x08 | 0x10,
    sdKeys,
    trustAnchors: [{ kvn: CA_KVN, kid: 0x10, caId: CA_KLOC_ID, publicKey: { curve: pki.curve, point: pki.caKloc.publicKey } }],
    ownerId: OCE_ID,
    today: () => '20260101',
    ...extra,
  });
}
