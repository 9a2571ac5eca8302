/**
 * A synchronous secure channel opening for the fuzzer: the sans-IO host steps of `src/scp` (SCP02 GPCS 2.2.1
 * E.5.1/E.5.2, SCP03 Amendment D §7.1.1/§7.1.2) sequenced over a synchronous `send`, so the fuzz loop stays
 * synchronous and every challenge comes from the fuzzer's seeded generator.
 */
import { decodeResponse } from '../../src/apdu/response.ts';
import { isLevelSupportedByI, parseInitializeUpdateResponse, scp02, scp03, type HostSecureChannel, type StaticKeys } from '../../src/scp/index.ts';
import type { Prng } from './prng.ts';

export interface OpenOptions {
  readonly scp: 2 | 3;
  /** The SD's "i" (SCP02 needs it; SCP03 reads it from the response). */
  readonly i: number;
  readonly channel: number;
  readonly keys: StaticKeys;
  readonly rng: Prng;
  /** Security level; by default one the "i" supports, chosen at random. */
  readonly level?: number;
}

const LEVELS = [0x01, 0x03, 0x11, 0x13, 0x33];

/** The channel, or why it could not be opened (a refusal, a bad response, a wrong card cryptogram). */
export function openHostSession(send: (apdu: Uint8Array) => Uint8Array | undefined, o: OpenOptions): HostSecureChannel | string {
  const levels = LEVELS.filter((l) => isLevelSupportedByI(o.scp, l, o.i));
  const level = o.level ?? o.rng.pick(levels);
  const challenge = o.rng.bytes(8);
  const proto = o.scp === 3 ? scp03 : scp02;
  const iuResponse = send(proto.buildInitializeUpdate(0, challenge, o.channel));
  if (!iuResponse) return 'no response to INITIALIZE UPDATE';
  const iu = decodeResponse(iuResponse);
  if (iu.sw !== 0x9000) return `INITIALIZE UPDATE ${iu.sw.toString(16)}`;
  try {
    const parsed = parseInitializeUpdateResponse(iu.data);
    let command: Uint8Array;
    let finish: () => HostSecureChannel;
    if (parsed.scp === 2) {
      const s = scp02.beginHostSession(o.keys, challenge, parsed, o.i);
      const ea = scp02.buildExternalAuthenticate(s, level, o.channel);
      command = ea.command;
      finish = () => scp02.createHostChannel(s, ea);
    } else {
      const s = scp03.beginHostSession(o.keys, challenge, parsed);
      const ea = scp03.buildExternalAuthenticate(s, level, o.channel);
      command = ea.command;
      finish = () => scp03.createHostChannel(s, ea);
    }
    const eaResponse = send(command);
    if (!eaResponse) return 'no response to EXTERNAL AUTHENTICATE';
    const ea = decodeResponse(eaResponse);
    if (ea.sw !== 0x9000) return `EXTERNAL AUTHENTICATE ${ea.sw.toString(16)}`;
    return finish();
  } catch (e) {
    return `handshake: ${(e as Error).message}`;
  }
}
