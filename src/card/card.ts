/**
 * `SimulatedCard`: a GlobalPlatform 2.3.1 card at the APDU level. It has the shape of the transport's
 * `CardPort` (powerOn/reset → ATR, powerOff, process(C-APDU) → R-APDU) without importing it.
 *
 * Transactions: each command works on a draft copy of the persistent state; the draft replaces the state
 * only when the command succeeds, and `onChange` listeners run after each such commit (with the new JSON).
 * Transient state (channels, secure channel sessions and their MAC chaining) follows the protocol rules
 * instead and is lost on reset.
 *
 * Durability (storage.ts): with a `CardStorage`, every commit is staged there, and `sync()` is the barrier a
 * transport awaits before a response leaves the card. When the storage cannot make the staged changes durable,
 * the card behaves as after a write failure of its EEPROM: it goes back to the last durable state (no response
 * acknowledged the lost changes) and closes its channels and sessions, and `sync()` rejects.
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
import type { CardStorage } from './storage.ts';
import { fromHex } from '../core/bytes.ts';

export type ChangeListener = (stateJson: string) => void;

export interface SimulatedCardOptions {
  /** Randomness for card challenges (inject a deterministic source for replayable tests). */
  readonly random?: RandomSource;
  /** ATR to answer (default `DEFAULT_ATR`, see `atr.ts`). */
  readonly atr?: Uint8Array;
  /** Non-volatile memory: commits are staged there and made durable by `sync()` (default: none, in memory only). */
  readonly storage?: CardStorage;
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
  #storage: CardStorage | undefined;
  /** Commits so far, and the last one known durable with its state (what a failed write goes back to). */
  #seq = 0;
  #durable: { seq: number; state: CardState; json: string };

  /** Use `createCard` or `SimulatedCard.fromState`. */
  constructor(state: CardState, catalogue: AppletCatalogue, options: SimulatedCardOptions = {}) {
    this.#state = cloneState(state);
    this.#json = serializeState(this.#state);
    this.#catalogue = catalogue;
    this.#random = options.random ?? systemRandom;
    this.#atr = (options.atr ?? DEFAULT_ATR).slice();
    this.#storage = options.storage;
    this.#durable = { seq: 0, state: this.#state, json: this.#json };
  }

  /**
   * Give the card its non-volatile memory after construction (a phone's storage is made from its record).
   * The current state counts as durable: the caller has just loaded or written it.
   */
  attachStorage(storage: CardStorage): void {
    if (this.#storage) throw new Error('SimulatedCard: a storage is attached already');
    this.#storage = storage;
    this.#durable = { seq: this.#seq, state: this.#state, json: this.#json };
  }

  /**
   * The durability barrier: resolves when every change committed so far is durable. Transports await it
   * before a response leaves the card. On a storage failure the card returns to its last durable state,
   * closes every channel and session (as after a tear), and the promise rejects with the storage's error.
   */
  async sync(): Promise<void> {
    const storage = this.#storage;
    if (!storage || this.#durable.seq === this.#seq) return;
    const target = { seq: this.#seq, state: this.#state, json: this.#json };
    try {
      await storage.sync();
    } catch (e) {
      if (this.#seq > this.#durable.seq) this.#revert();
      throw e;
    }
    if (target.seq > this.#durable.seq) this.#durable = target;
  }

  #revert(): void {
    const d = this.#durable;
    this.#state = d.state;
    this.#json = d.json;
    this.#seq++;
    // The reverted state is what the storage holds or will hold after the next barrier.
    this.#storage?.stage(d.json);
    this.#channels.clear();
    if (this.#powered) this.#channels.reset(defaultSelected(this.#state).aid);
    for (const l of this.#listeners) l(d.json);
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
        this.#seq++;
        this.#storage?.stage(json);
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
