/**
 * SELECT [by name] handled by the OPEN (GPCS 2.3.1 §11.9; §6.4 application selection; ISO/IEC 7816-4 §7.1.1
 * partial DF name selection with P2 first/next occurrence).
 *
 * Selection rules: the application must be SELECTABLE (or later, not LOCKED); in CARD_LOCKED only the holder
 * of the Final Application privilege is selectable (answering '62 83', others 6A81); in TERMINATED
 * nothing is (6A81). A failed SELECT keeps the previous selection. A successful one ends whatever belonged
 * to the previous selection on that channel: secure channel session, personalisation, STORE DATA, LOAD,
 * GET STATUS paging.
 */
import { toHex } from '../core/bytes.ts';
import { CardLifeCycle } from '../gp/index.ts';
import type { ResponseApdu } from '../apdu/response.ts';
import type { CommandApdu } from '../apdu/command.ts';
import { appletContext, appletFor } from './applets/run.ts';
import { clearSelectionState } from './channels.ts';
import type { CommandContext } from './context.ts';
import { SW, SwError } from './errors.ts';
import { cardLifeCycle, finalApplication, findApp, isd, isSelectableState } from './registry.ts';
import { securityDomainFci } from './sd/fci.ts';
import type { AppRecord, CardState } from './state.ts';

/**
 * May `app` be selected (and receive commands) in the current card life cycle state? In CARD_LOCKED only the
 * Final Application is (§5.1.1.4 "the card shall only allow selection of the application with the Final
 * Application privilege"; Table 11-1 note 1) — the ISD when it holds that privilege, as it does by default.
 */
export function selectableNow(state: CardState, app: AppRecord): boolean {
  const lc = cardLifeCycle(state);
  if (lc === CardLifeCycle.TERMINATED) return false;
  if (lc === CardLifeCycle.CARD_LOCKED) return app.aid === finalApplication(state).aid && (app.aid === state.isd || isSelectableState(app));
  return app.aid === state.isd || isSelectableState(app);
}

function candidates(state: CardState, prefix: string): AppRecord[] {
  return state.apps.filter((a) => a.aid.startsWith(prefix));
}

/** End the current selection on the channel (applet deselect hook, transient state cleared). */
export function deselect(ctx: CommandContext): void {
  const current = ctx.channel.selected ? findApp(ctx.state, ctx.channel.selected) : undefined;
  if (current && !current.securityDomain) {
    try {
      appletFor(ctx.catalogue, current).deselect(appletContext(current, ctx.channelNo, ctx.channel.transient, ctx.random));
    } catch {
      // A failing deselect hook does not stop the new selection.
    }
  }
  clearSelectionState(ctx.channel);
}

/** SELECT with P1 = 04. */
export function select(ctx: CommandContext, c: CommandApdu): ResponseApdu {
  if (ctx.cla.secureMessaging) throw new SwError(SW.SECURE_MESSAGING_NOT_SUPPORTED);
  if (c.p2 !== 0x00 && c.p2 !== 0x02) throw new SwError(SW.INCORRECT_P1P2, 'SELECT P2 must be 00 or 02');
  const lc = cardLifeCycle(ctx.state);
  if (lc === CardLifeCycle.TERMINATED) throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'card terminated');
  if (c.data.length !== 0 && (c.data.length < 5 || c.data.length > 16)) throw new SwError(SW.WRONG_LENGTH, 'AID length');

  let target: AppRecord | undefined;
  if (c.data.length === 0) {
    target = isd(ctx.state); // §11.9.2.3: no data selects the ISD
  } else {
    const list = candidates(ctx.state, toHex(c.data));
    let start = 0;
    if (c.p2 === 0x02) {
      const at = list.findIndex((a) => a.aid === ctx.channel.selected);
      start = at < 0 ? 0 : at + 1;
    }
    target = list.slice(start).find((a) => isSelectableState(a) || a.aid === ctx.state.isd);
    if (target === undefined) throw new SwError(SW.FILE_NOT_FOUND);
  }
  if (!selectableNow(ctx.state, target)) {
    throw new SwError(lc === CardLifeCycle.CARD_LOCKED ? SW.FUNCTION_NOT_SUPPORTED : SW.FILE_NOT_FOUND);
  }
  const warning = lc === CardLifeCycle.CARD_LOCKED ? SW.WARNING_CARD_LOCKED : SW.OK;

  if (target.securityDomain) {
    deselect(ctx);
    ctx.channel.selected = target.aid;
    return { data: securityDomainFci(ctx.state, target), sw: warning };
  }
  const applet = appletFor(ctx.catalogue, target);
  deselect(ctx);
  ctx.channel.selected = target.aid;
  const r = applet.select(appletContext(target, ctx.channelNo, ctx.channel.transient, ctx.random));
  if (r.sw !== SW.OK && (r.sw >> 8) !== 0x62 && (r.sw >> 8) !== 0x63) {
    // The applet refused its selection: nothing is selected on this channel any more (Java Card behaviour).
    ctx.channel.selected = undefined;
    throw new SwError(r.sw);
  }
  return r;
}
