/**
 * `openSecureChannel`: the one I/O convenience of the scp layer. Runs INITIALIZE UPDATE and EXTERNAL
 * AUTHENTICATE (GPCS 2.2.1 E.5.1/E.5.2 for SCP02; Amendment D v1.2 §7.1.1/§7.1.2 for SCP03) over a
 * caller-supplied `transmit` and returns the open `HostSecureChannel`. Everything else is the sans-IO
 * functions of scp02/ and scp03/; this file only sequences them.
 */
import { systemRandom, type RandomSource } from '../crypto/random.ts';
import type { HostSecureChannel, ParsedInitializeUpdateResponse } from './channel.ts';
import { SecureChannelError } from './errors.ts';
import { parseInitializeUpdateResponse } from './handshake.ts';
import type { StaticKeys } from './keys.ts';
import { assertSecurityLevel, isLevelSupportedByI } from './level.ts';
import { splitResponse } from './messaging.ts';
import * as scp02 from './scp02/handshake.ts';
import * as scp03 from './scp03/handshake.ts';

export type Transmit = (apdu: Uint8Array) => Promise<Uint8Array>;

export interface OpenSecureChannelOptions {
  /** The static keys, or a function choosing them from the response (e.g. diversified from its KDD). */
  readonly keys: StaticKeys | ((iu: ParsedInitializeUpdateResponse) => StaticKeys);
  /** Key version number for INITIALIZE UPDATE P1; 0 (default) = the first available key set. */
  readonly kvn?: number;
  /** Security level (EXTERNAL AUTHENTICATE P1), see level.ts. */
  readonly level: number;
  /** Expected protocol; by default whatever the card answers. */
  readonly scp?: 2 | 3;
  /** Host challenge; by default `random(8)` (or `random(16)` with `s16`). A 16-byte challenge means SCP03 S16. */
  readonly hostChallenge?: Uint8Array;
  readonly random?: RandomSource;
  /** SCP03: ask for S16 mode (16-byte host challenge). */
  readonly s16?: boolean;
  /** SCP02: the card's "i" (not part of its response); default '55'. */
  readonly i?: number;
  /** Logical channel (0–19) coded in the CLA of both commands; default 0. */
  readonly logicalChannel?: number;
}

/**
 * Open a secure channel. Throws `SecureChannelError`: 'BAD_STATUS' (with `sw`) when the card refuses
 * INITIALIZE UPDATE or EXTERNAL AUTHENTICATE, 'BAD_RESPONSE' for a malformed response, 'BAD_CARD_CRYPTOGRAM'
 * when the card does not prove knowledge of the keys, 'UNSUPPORTED' for another protocol than `scp` or a
 * level the card's "i" does not support. A `RangeError` for an invalid level or challenge.
 */
export async function openSecureChannel(transmit: Transmit, options: OpenSecureChannelOptions): Promise<HostSecureChannel> {
  const random = options.random ?? systemRandom;
  if (options.scp !== undefined) assertSecurityLevel(options.scp, options.level);
  const hostChallenge = options.hostChallenge ?? random(options.s16 === true ? 16 : 8);
  if (options.scp === 2 && hostChallenge.length !== 8) throw new RangeError('SCP02 host challenge must be 8 bytes');
  const channel = options.logicalChannel ?? 0;
  const kvn = options.kvn ?? 0;

  const iuCommand =
    hostChallenge.length === 16 ? scp03.buildInitializeUpdate(kvn, hostChallenge, channel) : scp02.buildInitializeUpdate(kvn, hostChallenge, channel);
  const iuResponse = splitResponse(await transmit(iuCommand));
  if (iuResponse.sw !== 0x9000) throw new SecureChannelError('BAD_STATUS', 'INITIALIZE UPDATE refused', iuResponse.sw);
  const iu = parseInitializeUpdateResponse(iuResponse.data);
  if (options.scp !== undefined && iu.scp !== options.scp) {
    throw new SecureChannelError('UNSUPPORTED', `card answered SCP0${iu.scp}, SCP0${options.scp} was asked for`);
  }
  assertSecurityLevel(iu.scp, options.level);
  const cardI = iu.scp === 3 ? iu.i! : options.i ?? scp02.DEFAULT_I;
  if ((iu.scp === 3 || options.i !== undefined) && !isLevelSupportedByI(iu.scp, options.level, cardI)) {
    throw new SecureChannelError('UNSUPPORTED', `security level ${options.level.toString(16).padStart(2, '0')} is not supported by i=${cardI.toString(16)}`);
  }
  const keys = typeof options.keys === 'function' ? options.keys(iu) : options.keys;

  let command: Uint8Array;
  let finish: () => HostSecureChannel;
  if (iu.scp === 2) {
    const session = scp02.beginHostSession(keys, hostChallenge, iu, cardI);
    const ea = scp02.buildExternalAuthenticate(session, options.level, channel);
    command = ea.command;
    finish = () => scp02.createHostChannel(session, ea);
  } else {
    const session = scp03.beginHostSession(keys, hostChallenge, iu);
    const ea = scp03.buildExternalAuthenticate(session, options.level, channel);
    command = ea.command;
    finish = () => scp03.createHostChannel(session, ea);
  }
  const eaResponse = splitResponse(await transmit(command));
  if (eaResponse.sw !== 0x9000) throw new SecureChannelError('BAD_STATUS', 'EXTERNAL AUTHENTICATE refused', eaResponse.sw);
  return finish();
}
