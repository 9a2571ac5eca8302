/**
 * The provider's secure sessions to its asymmetric SSD, straight to the card over its route (the issuer is not
 * on the path): SCP11a / SCP11c or SCP10 (option '02', key transport) at C-MAC + C-DEC + R-MAC + R-ENC, the
 * provider authenticated by its OCE certificate against the trust point in the SSD, and the SSD authenticated
 * either by the public key the issuer reported for the first key pair (`pinned`) or by its certificate from the
 * provider's CA (`certified`).
 */
import type { CardChannel } from '../../../apdu/channel.ts';
import { fromHex } from '../../../core/bytes.ts';
import { openScp10Session, openScp11Session } from '../../../scp/asymmetric-session.ts';
import type { SecureSession } from '../../../scp/secure-session.ts';
import { rsaPublicKey } from '../../../crypto/index.ts';
import type { CurveName } from '../../../crypto/index.ts';
import { TRUST_POINT, type AsymmetricVariant, type KeyRef, type SdPublicKeyHex, type TrustPointKey } from '../../sd-keys/asymmetric.ts';
import type { OceIdentity } from './oce.ts';

/** C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION. */
export const ASYMMETRIC_LEVEL = 0x33;

/** `certified`: the provider's CA (its id names the issuer of the SD's certificate). */
export type SdAuthentication = { readonly pinned: SdPublicKeyHex } | { readonly certified: TrustPointKey; readonly caId: string };

export async function openAsymmetricSd(
  channel: CardChannel,
  sdAid: Uint8Array,
  variant: AsymmetricVariant,
  sdKey: KeyRef,
  oce: OceIdentity,
  auth: SdAuthentication,
): Promise<SecureSession> {
  if (variant === '10') {
    if (oce.kind !== 'scp10') throw new TypeError('SCP10 needs the SCP10 OCE identity');
    let card: Parameters<typeof openScp10Session>[1]['card'];
    if ('pinned' in auth) {
      if (!('modulus' in auth.pinned)) throw new TypeError('an SCP10 SD has an RSA key');
      // Option '02' does not use the SD's id; before its certificate the SD has none the provider knows.
      card = { publicKey: rsaPublicKey(fromHex(auth.pinned.modulus), fromHex(auth.pinned.exponent)), id: new Uint8Array(8) };
    } else {
      const t = auth.certified;
      if ('point' in t) throw new TypeError('an SCP10 trust point is an RSA key');
      card = { trustPoint: { id: fromHex(auth.caId), publicKey: rsaPublicKey(fromHex(t.modulus), fromHex(t.exponent)) } };
    }
    return openScp10Session(channel, { sdAid, i: 2, level: ASYMMETRIC_LEVEL, oceCertificates: [oce.certificate], ocePrivateKey: oce.privateKey, oceId: oce.oceId, card });
  }
  if (oce.kind !== 'scp11') throw new TypeError('SCP11 needs the SCP11 OCE identity');
  let card: Parameters<typeof openScp11Session>[1]['card'];
  const curve: CurveName = oce.curve;
  if ('pinned' in auth) {
    if (!('point' in auth.pinned)) throw new TypeError('an SCP11 SD has an EC key');
    card = { publicKey: { curve, point: fromHex(auth.pinned.point) } };
  } else {
    const t = auth.certified;
    if (!('point' in t)) throw new TypeError('an SCP11 trust point is an EC key');
    card = { trustAnchor: { curve: t.curve, point: fromHex(t.point) } };
  }
  return openScp11Session(channel, {
    sdAid,
    variant,
    level: ASYMMETRIC_LEVEL,
    sdKey,
    caKloc: TRUST_POINT,
    oceCertificates: [oce.certificate],
    ocePrivateKey: oce.privateKey,
    curve,
    card,
  });
}
