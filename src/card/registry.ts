/**
 * Queries over the GlobalPlatform Registry held in the card state (GPCS 2.3.1 §6.5; Security Domain
 * association and hierarchies §7.2; what an SD may see and act on: §11.4.2.3, §11.10.2.3, §9.5).
 */
import { fromHex } from '../core/bytes.ts';
import { CardLifeCycle, decodePrivileges, type PrivilegeName } from '../gp/index.ts';
import type { AppRecord, CardState, ElfRecord, SdRecord } from './state.ts';
import { SW, SwError } from './errors.ts';

export function findApp(state: CardState, aid: string): AppRecord | undefined {
  return state.apps.find((a) => a.aid === aid);
}

export function findElf(state: CardState, aid: string): ElfRecord | undefined {
  return state.elfs.find((e) => e.aid === aid);
}

export function isd(state: CardState): AppRecord {
  return state.apps[0]!;
}

export function isIsd(state: CardState, app: AppRecord): boolean {
  return app.aid === state.isd;
}

/** The card life cycle state, which the ISD inherits (§5.1). */
export function cardLifeCycle(state: CardState): number {
  return isd(state).lifeCycle;
}

export function setCardLifeCycle(state: CardState, lifeCycle: number): void {
  isd(state).lifeCycle = lifeCycle;
}

export function privilegesOf(app: AppRecord): Set<PrivilegeName> {
  return decodePrivileges(fromHex(app.privileges));
}

export function hasPrivilege(app: AppRecord, name: PrivilegeName): boolean {
  return privilegesOf(app).has(name);
}

/** The SD data of an app that must be a Security Domain. */
export function sdOf(app: AppRecord): SdRecord {
  if (!app.securityDomain) throw new SwError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, `${app.aid} is not a Security Domain`);
  return app.securityDomain;
}

/** True when `target` is directly or indirectly associated with Security Domain `sd` (§7.2). */
export function isInHierarchy(state: CardState, sd: string, target: string): boolean {
  let current = findApp(state, target)?.sd ?? findElf(state, target)?.sd;
  const seen = new Set<string>([target]);
  while (current !== undefined && !seen.has(current)) {
    if (current === sd) return true;
    seen.add(current);
    current = findApp(state, current)?.sd;
  }
  return current === sd && target !== sd;
}

/**
 * True when Security Domain `sd` may see or manage `target`: it has Global Registry (for reading) or the
 * target lies in its hierarchy.
 */
export function canSee(state: CardState, sd: AppRecord, target: string): boolean {
  return hasPrivilege(sd, 'GlobalRegistry') || isInHierarchy(state, sd.aid, target);
}

/** Apps associated directly or indirectly with `sd` (not `sd` itself). */
export function subHierarchy(state: CardState, sd: string): AppRecord[] {
  return state.apps.filter((a) => a.aid !== sd && isInHierarchy(state, sd, a.aid));
}

/** The holder of the Final Application privilege; the ISD when no other entry holds it (§6.6.2, §7.1.1). */
export function finalApplication(state: CardState): AppRecord {
  return state.apps.find((a) => a.aid !== state.isd && hasPrivilege(a, 'FinalApplication')) ?? isd(state);
}

/**
 * The application selected on the basic channel after reset: in CARD_LOCKED and TERMINATED the Final
 * Application (§6.6.3 "Identifying the Application with Final Application privilege to be default selected
 * when the card is in CARD_LOCKED or TERMINATED state"), otherwise the Card Reset holder (§6.6.2) when it is
 * selectable, else the ISD.
 */
export function defaultSelected(state: CardState): AppRecord {
  const lc = cardLifeCycle(state);
  if (lc === CardLifeCycle.CARD_LOCKED || lc === CardLifeCycle.TERMINATED) return finalApplication(state);
  const holder = state.apps.find((a) => a.aid !== state.isd && hasPrivilege(a, 'CardReset'));
  if (holder && (holder.lifeCycle & 0x80) === 0 && (holder.lifeCycle & 0x07) === 0x07) return holder;
  return isd(state);
}

/** Selectable per §5.3: SELECTABLE (or an app-specific / PERSONALIZED state) and not LOCKED. */
export function isSelectableState(app: AppRecord): boolean {
  return (app.lifeCycle & 0x80) === 0 && (app.lifeCycle & 0x07) === 0x07;
}
