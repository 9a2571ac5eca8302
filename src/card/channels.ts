/**
 * Logical channels and class byte decoding (GPCS 2.3.1 §6.4 logical channels and application selection,
 * §11.1.4 class byte coding, §11.7 MANAGE CHANNEL; ISO/IEC 7816-4 §5.4.1).
 *
 * Everything here is transient: it is lost on reset and never part of the persisted card state.
 */
import type { CardSecureChannel, PendingExternalAuthenticate } from '../scp/channel.ts';
import type { Scp11Card } from '../scp/scp11/index.ts';
import type { Scp10CardHandshake } from '../scp/scp10/index.ts';
import type { LoadReassembly } from '../gp/index.ts';
import { SW, SwError } from './errors.ts';

/** Number of logical channels: the basic channel 0 and supplementary channels 1–19. */
export const LOGICAL_CHANNELS = 20;

export interface DecodedCla {
  /** Logical channel 0–19. */
  readonly channel: number;
  /** b8 set: GlobalPlatform (proprietary) command. */
  readonly proprietary: boolean;
  /** Secure messaging indicated (first interindustry b4/b3, further interindustry b6). */
  readonly secureMessaging: boolean;
  /** ISO command chaining bit b5. */
  readonly chaining: boolean;
}

/**
 * Decode CLA per Tables 11-11 and 11-12. Throws `SwError(6E00)` for classes that are neither first nor
 * further interindustry (b7 b6 = 01, and 'FF').
 */
export function decodeCla(cla: number): DecodedCla {
  if (cla === 0xff) throw new SwError(SW.CLA_NOT_SUPPORTED, 'invalid class FF');
  const proprietary = (cla & 0x80) !== 0;
  const chaining = (cla & 0x10) !== 0;
  if ((cla & 0x40) === 0) {
    if ((cla & 0x20) !== 0) throw new SwError(SW.CLA_NOT_SUPPORTED, 'class with b6 set and b7 clear');
    return { channel: cla & 0x03, proprietary, secureMessaging: (cla & 0x0c) !== 0, chaining };
  }
  return { channel: 4 + (cla & 0x0f), proprietary, secureMessaging: (cla & 0x20) !== 0, chaining };
}

/** A personalisation session opened by INSTALL [for personalization] (§11.11.1). */
export interface PersonalizationSession {
  /** Target application AID, hex. */
  readonly target: string;
  nextBlock: number;
}

/** STORE DATA to the Security Domain itself, collected until the last block (§11.11.2.2). */
export interface StoreDataSession {
  nextBlock: number;
  readonly blocks: Uint8Array[];
}

/** A load started by INSTALL [for load] (§9.3.5, §11.6). */
export interface LoadSession {
  readonly elf: string;
  /** SD the new Executable Load File will be associated with. */
  readonly sd: string;
  /** Load File Data Block Hash from INSTALL [for load] (empty when none was given). */
  readonly hash: Uint8Array;
  reassembly: LoadReassembly | undefined;
}

/** A command chain being received (see `ChannelState.chain`). */
export interface CommandChain {
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly parts: Uint8Array[];
  length: number;
}

/** GET STATUS pages still to be fetched with [get next occurrence] (§11.4.2.2). */
export interface GetStatusSession {
  readonly p1: number;
  readonly pages: Uint8Array[];
}

export interface ChannelState {
  /** AID (hex) of the application selected on this channel, if any. */
  selected: string | undefined;
  /** Open secure channel session of the selected Security Domain. */
  session: CardSecureChannel | undefined;
  /** INITIALIZE UPDATE answered, EXTERNAL AUTHENTICATE expected. */
  pendingAuth: PendingExternalAuthenticate | undefined;
  /**
   * True when the open session did not authenticate the off-card entity (SCP11b, Amendment F §3.1.2): it
   * protects messages but content and key management commands are refused (6982).
   */
  anonymous: boolean;
  /** SCP11 card-side state of the selected SD (PSO chain, PK.OCE.ECKA), rebuilt when its keys change. */
  scp11: { readonly fingerprint: string; readonly card: Scp11Card } | undefined;
  /** SCP10 card-side handshake of the selected SD (MSE, PSO, challenges), rebuilt when its RSA keys change. */
  scp10: { readonly fingerprint: string; readonly card: Scp10CardHandshake } | undefined;
  personalization: PersonalizationSession | undefined;
  storeData: StoreDataSession | undefined;
  /**
   * ISO/IEC 7816-4 §5.1.1.1 command chain in progress (CLA b5): the header of the chain and the plain data of
   * the pieces received so far — each piece was unwrapped on its own by the secure channel.
   */
  chain: CommandChain | undefined;
  load: LoadSession | undefined;
  getStatus: GetStatusSession | undefined;
  /** Response bytes still to be fetched with GET RESPONSE (ISO/IEC 7816-4 §5.3.4, 61xx). */
  pendingResponse: Uint8Array | undefined;
  /** The selected applet's transient data. */
  transient: Record<string, unknown>;
}

function fresh(selected: string | undefined): ChannelState {
  return {
    selected,
    session: undefined,
    pendingAuth: undefined,
    anonymous: false,
    scp11: undefined,
    scp10: undefined,
    personalization: undefined,
    storeData: undefined,
    chain: undefined,
    load: undefined,
    getStatus: undefined,
    pendingResponse: undefined,
    transient: {},
  };
}

/** Forget everything tied to the current selection (new SELECT, deletion, lock). */
export function clearSelectionState(ch: ChannelState): void {
  ch.session?.abort();
  ch.session = undefined;
  ch.pendingAuth = undefined;
  ch.anonymous = false;
  ch.scp11 = undefined;
  ch.scp10 = undefined;
  ch.personalization = undefined;
  ch.storeData = undefined;
  ch.load = undefined;
  ch.getStatus = undefined;
  ch.pendingResponse = undefined;
  ch.transient = {};
}

export class ChannelManager {
  readonly #channels: (ChannelState | undefined)[] = new Array(LOGICAL_CHANNELS).fill(undefined);

  /** Reset: only the basic channel is open, with `selected` implicitly selected (§6.4.1). */
  reset(selected: string | undefined): void {
    for (const ch of this.#channels) if (ch) clearSelectionState(ch);
    this.#channels.fill(undefined);
    this.#channels[0] = fresh(selected);
  }

  /** Power off: no channel at all. */
  clear(): void {
    for (const ch of this.#channels) if (ch) clearSelectionState(ch);
    this.#channels.fill(undefined);
  }

  get(n: number): ChannelState | undefined {
    return this.#channels[n];
  }

  /** Open `n`, or the lowest free supplementary channel when `n` is 0; throws 6A81 when none is free. */
  open(n: number, selected: string | undefined): number {
    let target = n;
    if (target === 0) {
      target = this.#channels.findIndex((c, i) => i > 0 && c === undefined);
      if (target < 0) throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'no free logical channel');
    } else if (this.#channels[target] !== undefined) {
      throw new SwError(SW.FUNCTION_NOT_SUPPORTED, `logical channel ${target} already open`);
    }
    this.#channels[target] = fresh(selected);
    return target;
  }

  close(n: number): void {
    const ch = this.#channels[n];
    if (ch) clearSelectionState(ch);
    this.#channels[n] = undefined;
  }

  /** Open channels with their numbers. */
  entries(): Array<[number, ChannelState]> {
    const out: Array<[number, ChannelState]> = [];
    this.#channels.forEach((c, i) => {
      if (c) out.push([i, c]);
    });
    return out;
  }
}
