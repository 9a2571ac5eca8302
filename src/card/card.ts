/**
 * `SimulatedCard`: a GlobalPlatform 2.3.1 card at the APDU level. It has the shape of the transport's
 * `CardPort` (powerOn/reset → ATR, powerOff, process(C-APDU) → R-APDU) without importing it.
 *
 * Transactions: each command works on a draft copy of the persistent state; the draft replaces the state
 * only when the command succeeds, and `onChange` listeners run after each such commit (with the new JSON).
 * Transient state (channels, secure channel sessions and their MAC chaining) follows the protocol rules
 * instead and is lost on reset.
 */
import { systemRandom, type RandomSource } from '../crypto/random.ts';
import { AppletCatalogue } from './applets/catalogue.ts';
import { EchoApplet, ECHO_ELF_AID, ECHO_MODULE_AID } from './applets/echo.ts';
import { DEFAULT_ATR } from './atr.ts';
import { ChannelManager } from './channels.ts';
import { dispatch } from './dispatcher.ts';
import { parseState, serializeState } from './persistence.ts';
import { initialState, resolveProfile, type CardProfileOptions } from './profile.ts';
import { defaultSelected } from './registry.ts';
import { cloneState, type CardState, type ElfRecord } from './state.ts';
import { fromHex } from '../core/bytes.ts';

export type ChangeListener = (stateJson: string) => void;

export interface SimulatedCardOptions {
  /** Randomness for card challenges (inject a deterministic source for replayable tests). */
  readonly random?: RandomSource;
  /** ATR to answer (default `DEFAULT_ATR`, see `atr.ts`). */
  readonly atr?: Uint8Array;
}

/** The default catalogue: the echo test applet, built in. */
export function defaultCatalogue(): AppletCatalogue {
  return new AppletCatalogue().register(fromHex(ECHO_ELF_AID), [[fromHex(ECHO_MODULE_AID), () => new EchoApplet()]], {
    builtIn: true,
  });
}

export class SimulatedCard {
  #state: CardState;
  #json: string;
  readonly #catalogue: AppletCatalogue;
  readonly #random: RandomSource;
  readonly #atr: Uint8Array;
  readonly #channels = new ChannelManager();
  readonly #listeners = new Set<ChangeListener>();
  #powered = false;

  /** Use `createCard` or `SimulatedCard.fromState`. */
  constructor(state: CardState, catalogue: AppletCatalogue, options: SimulatedCardOptions = {}) {
    this.#state = cloneState(state);
    this.#json = serializeState(this.#state);
    this.#catalogue = catalogue;
    this.#random = options.random ?? systemRandom;
    this.#atr = (options.atr ?? DEFAULT_ATR).slice();
  }

  /** Rebuild a card from `serializeCard` output; throws `CardStateError` for a bad file. */
  static fromState(json: string, catalogue: AppletCatalogue = defaultCatalogue(), options: SimulatedCardOptions = {}): SimulatedCard {
    return new SimulatedCard(parseState(json), catalogue, options);
  }

  /** Cold reset: power on, only the basic channel open with the default application selected. */
  powerOn(): Uint8Array {
    this.#powered = true;
    return this.reset();
  }

  /** Warm reset: closes every channel and session (§6.4.1, §10.2.3). */
  reset(): Uint8Array {
    this.#powered = true;
    this.#channels.reset(defaultSelected(this.#state).aid);
    return this.#atr.slice();
  }

  powerOff(): void {
    this.#powered = false;
    this.#channels.clear();
  }

  /** Process one command APDU; returns the response APDU (data + SW). */
  process(command: Uint8Array): Uint8Array {
    if (!(command instanceof Uint8Array)) throw new TypeError('process: expected a Uint8Array');
    if (!this.#powered) throw new Error('SimulatedCard: powerOn() before process()');
    const draft = cloneState(this.#state);
    const outcome = dispatch({ catalogue: this.#catalogue, random: this.#random, channels: this.#channels }, draft, command);
    if (outcome.commit) {
      const json = serializeState(draft);
      if (json !== this.#json) {
        this.#state = draft;
        this.#json = json;
        for (const l of this.#listeners) l(json);
      }
    }
    return outcome.response;
  }

  /** Call `listener` with the new state JSON after every committed change; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The persistent state as JSON (what `serializeCard` returns). */
  serialize(): string {
    return this.#json;
  }

  get catalogue(): AppletCatalogue {
    return this.#catalogue;
  }
}

/** Serialise the whole persistent state of `card` (for saving after every change). */
export function serializeCard(card: SimulatedCard): string {
  return card.serialize();
}

/** A factory-fresh card for a profile (see `profile.ts`). */
export function createCard(
  options: CardProfileOptions & SimulatedCardOptions & { readonly catalogue?: AppletCatalogue } = {},
): SimulatedCard {
  const profile = resolveProfile(options);
  const catalogue = options.catalogue ?? defaultCatalogue();
  const builtIn: ElfRecord[] = catalogue
    .entries()
    .filter((e) => e.builtIn)
    .map((e) => ({ aid: e.elf, lifeCycle: 0x01, sd: '', modules: [...e.modules.keys()], version: e.version, builtIn: true }));
  return new SimulatedCard(initialState(profile, builtIn), catalogue, options);
}
