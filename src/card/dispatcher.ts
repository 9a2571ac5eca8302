/**
 * The OPEN's command dispatcher (GPCS 2.3.1 §6.3, §6.4; ISO/IEC 7816-4 §5): decodes the APDU and class byte,
 * checks the logical channel, handles MANAGE CHANNEL, SELECT [by name] and GET RESPONSE itself and passes
 * everything else to the application selected on the channel (a Security Domain or an applet).
 *
 * Order of checks: length (6700) → class (6E00) → channel open (6881) → life cycle → instruction. ISO command
 * chaining is taken by Security Domains only (6884 elsewhere; sd/chain.ts).
 */
import { decodeCommand, type CommandApdu } from '../apdu/command.ts';
import { encodeResponse } from '../apdu/response.ts';
import { CardLifeCycle } from '../gp/index.ts';
import { appletContext, appletFor } from './applets/run.ts';
import { decodeCla, type DecodedCla } from './channels.ts';
import type { CardRuntime, CommandContext } from './context.ts';
import { SW, SwError } from './errors.ts';
import { ok, refused, swBytes, swFor, type Outcome } from './outcome.ts';
import { cardLifeCycle, defaultSelected, finalApplication, findApp } from './registry.ts';
import { dispatchToSd } from './sd/dispatch.ts';
import { select, selectableNow } from './select.ts';
import type { CardState } from './state.ts';

/** Process one command APDU against the draft `state`. */
export function dispatch(runtime: CardRuntime, state: CardState, raw: Uint8Array): Outcome {
  let c: CommandApdu;
  try {
    c = decodeCommand(raw);
  } catch {
    return refused(SW.WRONG_LENGTH);
  }
  let cla: DecodedCla;
  try {
    cla = decodeCla(c.cla);
  } catch (e) {
    return refused(swFor(e));
  }
  const channel = runtime.channels.get(cla.channel);
  if (!channel) return refused(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
  const ctx: CommandContext = { ...runtime, state, channelNo: cla.channel, channel, cla };

  // ISO/IEC 7816-4 §5.1.1.1 command chaining: only a Security Domain takes chains (sd/chain.ts); the OPEN's
  // own commands and applets refuse the chaining bit with 6884, and end a chain in progress.
  if (c.ins === 0xc0 && !cla.proprietary) {
    channel.chain = undefined;
    return cla.chaining ? refused(SW.COMMAND_CHAINING_NOT_SUPPORTED) : getResponse(ctx, c);
  }
  channel.pendingResponse = undefined;

  // A command that changed persistent state must not answer 6Cxx: the host would send it again (ISO/IEC 7816-4
  // §5.3.4) and run it twice. Its data then goes out with 61xx instead. Only a short Le can lead to 6Cxx, so the
  // state is compared only then.
  const before = c.le !== undefined && c.le < 256 ? JSON.stringify(state) : undefined;
  const outcome = route(ctx, c, raw);
  const changed = before !== undefined && outcome.commit && JSON.stringify(state) !== before;
  return { ...outcome, response: limitResponse(ctx, outcome.response, c.le, changed) };
}

function route(ctx: CommandContext, c: CommandApdu, raw: Uint8Array): Outcome {
  const { state, channel, cla } = ctx;
  try {
    const lc = cardLifeCycle(state);
    const own = !cla.proprietary && (c.ins === 0x70 || (c.ins === 0xa4 && c.p1 === 0x04));
    if (own) {
      channel.chain = undefined;
      if (cla.chaining) throw new SwError(SW.COMMAND_CHAINING_NOT_SUPPORTED);
    }
    if (!cla.proprietary && c.ins === 0x70) return ok(manageChannel(ctx, c));
    if (!cla.proprietary && c.ins === 0xa4 && c.p1 === 0x04) return ok(select(ctx, c));
    const app = channel.selected ? findApp(state, channel.selected) : undefined;
    if (!app) throw new SwError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'no application selected on this channel');
    if (lc === CardLifeCycle.TERMINATED) {
      // §5.1.1.5: a Security Domain with the Final Application privilege processes only GET DATA.
      if (c.ins === 0xca && app.securityDomain && app.aid === finalApplication(state).aid) return dispatchToSd(ctx, app, c, raw);
      throw new SwError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'card terminated: only GET DATA');
    }
    // An entry LOCKED (§5.3.1.3, §5.3.2.4) or, in CARD_LOCKED, not the Final Application (§5.1.1.4) while it
    // stays selected on a channel receives no more commands — Security Domains and applets alike.
    if (!selectableNow(state, app)) throw new SwError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'application not available');
    if (app.securityDomain) return dispatchToSd(ctx, app, c, raw);
    channel.chain = undefined;
    if (cla.chaining) throw new SwError(SW.COMMAND_CHAINING_NOT_SUPPORTED);
    const applet = appletFor(ctx.catalogue, app);
    return ok(applet.process(c, appletContext(app, cla.channel, channel.transient, ctx.random)));
  } catch (e) {
    return refused(swFor(e));
  }
}

/** MANAGE CHANNEL (§11.7). */
function manageChannel(ctx: CommandContext, c: CommandApdu) {
  if (ctx.cla.secureMessaging) throw new SwError(SW.SECURE_MESSAGING_NOT_SUPPORTED);
  if (c.data.length !== 0) throw new SwError(SW.WRONG_LENGTH);
  const lc = cardLifeCycle(ctx.state);
  if (lc === CardLifeCycle.CARD_LOCKED || lc === CardLifeCycle.TERMINATED) {
    throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'logical channels are not available in this card state');
  }
  if (c.p1 === 0x00) {
    if (c.p2 > 0x13) throw new SwError(SW.INCORRECT_P1P2);
    // §6.4.2.2: opened from the basic channel → the application implicitly selectable on the new channel (the
    // one actually opened, also when P2 = '00' lets the card choose), failing that the one of the basic
    // channel; §6.4.3.1.1: opened from a supplementary channel → the application selected on that channel.
    const n = ctx.channels.open(c.p2, undefined);
    ctx.channels.get(n)!.selected = ctx.channelNo === 0 ? implicitFor(ctx.state, n) : ctx.channel.selected;
    return { data: Uint8Array.of(n), sw: SW.OK };
  }
  if (c.p1 === 0x80) {
    const n = c.p2 === 0 ? ctx.channelNo : c.p2;
    if (n === 0 || n > 0x13) throw new SwError(SW.INCORRECT_P1P2, 'the basic channel cannot be closed');
    if (!ctx.channels.get(n)) return { data: new Uint8Array(0), sw: 0x6200 };
    ctx.channels.close(n);
    return { data: new Uint8Array(0), sw: SW.OK };
  }
  throw new SwError(SW.INCORRECT_P1P2);
}

/**
 * The application implicitly selected on newly opened channel `n` (§6.4.1, tag 'CF' contact interface and
 * channel number; §6.4.2.2: a LOCKED one gives way to the Final Application).
 */
function implicitFor(state: CardState, n: number): string | undefined {
  const holder = state.apps.find((a) => a.implicitSelection.some((p) => (p & 0x40) !== 0 && (p & 0x1f) === n));
  if (holder) return selectableNow(state, holder) ? holder.aid : finalApplication(state).aid;
  return defaultSelected(state).aid;
}

/** GET RESPONSE (ISO/IEC 7816-4 §7.6.1): the rest of a response announced with 61xx. */
function getResponse(ctx: CommandContext, c: CommandApdu): Outcome {
  const pending = ctx.channel.pendingResponse;
  if (c.p1 !== 0 || c.p2 !== 0) return refused(SW.INCORRECT_P1P2);
  if (!pending) return refused(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
  ctx.channel.pendingResponse = undefined;
  return { response: limitResponse(ctx, pending, c.le, true), commit: false };
}

/**
 * Fit response bytes (data + SW) to Ne: data longer than Ne is split — the first Ne bytes with 61xx, the rest
 * kept for GET RESPONSE. When Ne is given, smaller than the data, and the data fits in one response, the
 * card answers 6Cxx (wrong Le, xx = the exact length) instead — except to GET RESPONSE itself, which always
 * hands out the next Ne bytes, and to a command that changed persistent state (`noWrongLe`).
 */
export function limitResponse(ctx: CommandContext, response: Uint8Array, le: number | undefined, noWrongLe = false): Uint8Array {
  const dataLength = response.length - 2;
  const ne = le ?? 256;
  if (dataLength <= ne) return response;
  if (le !== undefined && dataLength <= 256 && !noWrongLe) {
    ctx.channel.pendingResponse = undefined;
    return swBytes(0x6c00 | (dataLength & 0xff));
  }
  const first = response.slice(0, ne);
  const rest = response.slice(ne);
  ctx.channel.pendingResponse = rest;
  const remaining = rest.length - 2;
  return encodeResponse({ data: first, sw: 0x6100 | (remaining >= 256 ? 0 : remaining) });
}
