/**
 * Running applet code for a registry entry: find the class in the catalogue, build its context over the
 * draft state (so an applet's changes share the command's transaction).
 */
import { fromHex } from '../../core/bytes.ts';
import type { RandomSource } from '../../crypto/random.ts';
import { SW, SwError } from '../errors.ts';
import type { AppRecord } from '../state.ts';
import type { Applet, AppletContext } from './applet.ts';
import type { AppletCatalogue } from './catalogue.ts';

/** Applet object for an installed application; 6F00 when its code is not in the catalogue. */
export function appletFor(catalogue: AppletCatalogue, app: AppRecord): Applet {
  const factory = catalogue.factory(app.elf, app.module);
  if (!factory) throw new SwError(SW.UNKNOWN, `no code for module ${app.module} of ${app.elf}`);
  return factory();
}

export function appletContext(
  app: AppRecord,
  channel: number,
  transient: Record<string, unknown>,
  random: RandomSource,
): AppletContext {
  if (app.appletData === undefined) app.appletData = {};
  return {
    aid: fromHex(app.aid),
    channel,
    data: app.appletData,
    transient,
    privileges: fromHex(app.privileges),
    random,
  };
}
