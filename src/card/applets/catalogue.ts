/**
 * The applet catalogue: the code the simulated card can run, by Executable Load File AID.
 *
 * A load file (see `../load-file.ts`) names its Executable Load File and module AIDs; the card links it to
 * the code registered here under the same load-file AID (a load file for an unknown AID is refused, as a
 * real card refuses a CAP file it cannot link). Entries marked `builtIn` are in the card's immutable memory
 * from the factory (GPCS §5.2.1.1): present in the registry without any LOAD.
 */
import { assertBytes, toHex } from '../../core/bytes.ts';
import type { Applet } from './applet.ts';

export interface CatalogueEntry {
  /** Executable Load File AID, hex. */
  readonly elf: string;
  /** Executable Module AID (hex) → factory. */
  readonly modules: ReadonlyMap<string, () => Applet>;
  /** Version number (tag 'CE'), hex. */
  readonly version: string;
  readonly builtIn: boolean;
}

export class AppletCatalogue {
  readonly #entries = new Map<string, CatalogueEntry>();

  /**
   * Register a load file's code. `modules` maps module AIDs to applet factories.
   * Throws `RangeError` on bad AIDs or a duplicate load file AID.
   */
  register(
    elfAid: Uint8Array,
    modules: ReadonlyArray<readonly [Uint8Array, () => Applet]>,
    options: { builtIn?: boolean; version?: Uint8Array } = {},
  ): this {
    const elf = toHex(assertBytes(elfAid, { min: 5, max: 16 }, 'elfAid'));
    if (this.#entries.has(elf)) throw new RangeError(`load file ${elf} already registered`);
    const map = new Map<string, () => Applet>();
    for (const [aid, factory] of modules) {
      if (typeof factory !== 'function') throw new TypeError('applet factory must be a function');
      map.set(toHex(assertBytes(aid, { min: 5, max: 16 }, 'moduleAid')), factory);
    }
    if (map.size === 0) throw new RangeError('a load file needs at least one module');
    this.#entries.set(elf, Object.freeze({
      elf,
      modules: map,
      version: options.version ? toHex(options.version) : '0100',
      builtIn: options.builtIn === true,
    }));
    return this;
  }

  get(elf: string): CatalogueEntry | undefined {
    return this.#entries.get(elf);
  }

  /** Factory for a module of a load file. */
  factory(elf: string, module: string): (() => Applet) | undefined {
    return this.#entries.get(elf)?.modules.get(module);
  }

  entries(): CatalogueEntry[] {
    return [...this.#entries.values()];
  }
}
