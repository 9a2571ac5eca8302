/**
 * Life cycle states and the transitions allowed between them
 * (GP Card Specification 2.3.1 chapter 5: §5.1 card, §5.2 Executable Load File, §5.3 Applications and
 * Security Domains; codings in §11.1.1 Tables 11-3 to 11-6; SET STATUS rules in §11.10.2.2).
 * Pure functions: the card simulator asks them before changing state.
 */
import type { Privileges } from './privileges.ts';

/** Card life cycle (Table 11-6); the ISD inherits it. */
export const CardLifeCycle = Object.freeze({
  OP_READY: 0x01,
  INITIALIZED: 0x07,
  SECURED: 0x0f,
  CARD_LOCKED: 0x7f,
  TERMINATED: 0xff,
} as const);
export type CardLifeCycleState = (typeof CardLifeCycle)[keyof typeof CardLifeCycle];

/** Application life cycle (Table 11-4). `LOCKED` is the b8 bit, kept together with the previous state. */
export const AppLifeCycle = Object.freeze({ INSTALLED: 0x03, SELECTABLE: 0x07, LOCKED: 0x80 } as const);

/** Security Domain life cycle (Table 11-5). `LOCKED` is the b8 bit over INSTALLED/SELECTABLE/PERSONALIZED. */
export const SdLifeCycle = Object.freeze({ INSTALLED: 0x03, SELECTABLE: 0x07, PERSONALIZED: 0x0f, LOCKED: 0x80 } as const);

/** Executable Load File life cycle (Table 11-3). */
export const ElfLifeCycle = Object.freeze({ LOADED: 0x01 } as const);

const CARD_NAMES: Record<number, string> = {
  0x01: 'OP_READY',
  0x07: 'INITIALIZED',
  0x0f: 'SECURED',
  0x7f: 'CARD_LOCKED',
  0xff: 'TERMINATED',
};

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

/** True for the five card states of Table 11-6. */
export function isValidCardLifeCycle(state: number): state is CardLifeCycleState {
  return CARD_NAMES[state] !== undefined;
}

/** Name of a card life cycle state, e.g. `SECURED`; unknown values as `UNKNOWN(xx)`. */
export function cardLifeCycleName(state: number): string {
  return CARD_NAMES[state] ?? `UNKNOWN(${hex(state)})`;
}

/** True for an application state of Table 11-4 (b1 b2 set; LOCKED keeps b3..b7 of the previous state). */
export function isValidAppLifeCycle(state: number): boolean {
  if (!Number.isInteger(state) || state < 0 || state > 0xff) return false;
  const base = state & 0x7f;
  return base === 0x03 || (base & 0x07) === 0x07;
}

/** True for a Security Domain state of Table 11-5 (03, 07, 0F, or 80 | one of them). */
export function isValidSdLifeCycle(state: number): boolean {
  const base = state & 0x7f;
  return (state & ~0x8f) === 0 && (base === 0x03 || base === 0x07 || base === 0x0f);
}

/** True when the LOCKED bit (b8) is set on an application or Security Domain state. */
export function isLocked(state: number): boolean {
  return (state & 0x80) !== 0;
}

/** The LOCKED state that remembers `state` (Tables 11-4, 11-5). */
export function lockState(state: number): number {
  return (state | 0x80) & 0xff;
}

/** The state an unlock returns to (§5.3.1.3: "returns to its previous state"). */
export function unlockState(state: number): number {
  return state & 0x7f;
}

/** Name of an application state: INSTALLED, SELECTABLE, APP_SPECIFIC(xx), LOCKED(previous). */
export function appLifeCycleName(state: number): string {
  if (!isValidAppLifeCycle(state)) return `UNKNOWN(${hex(state)})`;
  if (isLocked(state)) return `LOCKED(${appLifeCycleName(unlockState(state))})`;
  if (state === 0x03) return 'INSTALLED';
  if (state === 0x07) return 'SELECTABLE';
  return `APP_SPECIFIC(${hex(state)})`;
}

/** Name of a Security Domain state: INSTALLED, SELECTABLE, PERSONALIZED, LOCKED. */
export function sdLifeCycleName(state: number): string {
  if (!isValidSdLifeCycle(state)) return `UNKNOWN(${hex(state)})`;
  if (isLocked(state)) return 'LOCKED';
  return state === 0x03 ? 'INSTALLED' : state === 0x07 ? 'SELECTABLE' : 'PERSONALIZED';
}

/** Name of an Executable Load File state. */
export function elfLifeCycleName(state: number): string {
  return state === 0x01 ? 'LOADED' : `UNKNOWN(${hex(state)})`;
}

/** Who asks for a card life cycle change (§5.1.1, §11.10.2.2). */
export interface CardActor {
  /** The Issuer Security Domain (acting for the OPEN). */
  readonly isIsd: boolean;
  /** Privileges of the requesting Security Domain or Application. */
  readonly privileges: Privileges;
}

/**
 * Whether the card may go from `from` to `to` when `actor` asks (Figure 5-1, §5.1.1):
 * OP_READY → INITIALIZED → SECURED are forward-only and done by the ISD (skipping INITIALIZED is allowed);
 * SECURED ⇄ CARD_LOCKED by the ISD or a holder of Card Lock; any state except TERMINATED → TERMINATED by the
 * ISD or a holder of Card Terminate. A transition to the current state is rejected (§11.10.2.2).
 */
export function canTransitionCard(from: number, to: number, actor: CardActor): boolean {
  if (!isValidCardLifeCycle(from) || !isValidCardLifeCycle(to) || from === to) return false;
  const { OP_READY, INITIALIZED, SECURED, CARD_LOCKED, TERMINATED } = CardLifeCycle;
  if (from === TERMINATED) return false;
  if (to === TERMINATED) return actor.isIsd || actor.privileges.has('CardTerminate');
  if (from === OP_READY && (to === INITIALIZED || to === SECURED)) return actor.isIsd;
  if (from === INITIALIZED && to === SECURED) return actor.isIsd;
  if ((from === SECURED && to === CARD_LOCKED) || (from === CARD_LOCKED && to === SECURED)) {
    return actor.isIsd || actor.privileges.has('CardLock');
  }
  return false;
}

/**
 * Who asks for an application or Security Domain life cycle change (Figures 5-2 and 5-3, legend 1–5):
 * `am`/`dm` a Security Domain with Authorized/Delegated Management (INSTALL [for make selectable]),
 * `associatedSd` the associated Security Domain, `globalLock` a holder of Global Lock,
 * `self` the application or Security Domain itself, `open` the OPEN.
 */
export type AppActor = 'open' | 'am' | 'dm' | 'associatedSd' | 'globalLock' | 'self';

function roles(actor: AppActor | readonly AppActor[]): ReadonlySet<AppActor> {
  return new Set(typeof actor === 'string' ? [actor] : actor);
}

function lockRules(from: number, to: number, r: ReadonlySet<AppActor>): boolean | undefined {
  if (!isLocked(from) && to === lockState(from)) {
    return r.has('open') || r.has('associatedSd') || r.has('globalLock') || r.has('self');
  }
  if (isLocked(from)) {
    // §5.3.1.3 / §5.3.2.4: only the associated SD or a Global Lock holder unlocks, back to the previous state.
    return to === unlockState(from) && (r.has('open') || r.has('associatedSd') || r.has('globalLock'));
  }
  return undefined;
}

/**
 * Whether an application may go from `from` to `to` (Figure 5-2): INSTALLED → SELECTABLE through
 * INSTALL [for make selectable] (AM/DM SD or OPEN), SELECTABLE ⇄ application-specific states by the
 * application itself, LOCKED from any state and back to it (see `AppActor`). INSTALLED is never re-entered.
 */
export function canTransitionApp(from: number, to: number, actor: AppActor | readonly AppActor[]): boolean {
  if (!isValidAppLifeCycle(from) || !isValidAppLifeCycle(to) || from === to) return false;
  const r = roles(actor);
  const lock = lockRules(from, to, r);
  if (lock !== undefined) return lock;
  if (isLocked(to)) return false;
  if (from === AppLifeCycle.INSTALLED) return to === AppLifeCycle.SELECTABLE && (r.has('am') || r.has('dm') || r.has('open'));
  if (to === AppLifeCycle.INSTALLED) return false;
  return r.has('self');
}

/**
 * Whether a Security Domain may go from `from` to `to` (Figure 5-3, §11.10.2.2): INSTALLED → SELECTABLE by
 * an AM/DM SD or the OPEN, SELECTABLE → PERSONALIZED by the SD itself (irreversible), LOCKED and back as for
 * applications.
 */
export function canTransitionSd(from: number, to: number, actor: AppActor | readonly AppActor[]): boolean {
  if (!isValidSdLifeCycle(from) || !isValidSdLifeCycle(to) || from === to) return false;
  const r = roles(actor);
  const lock = lockRules(from, to, r);
  if (lock !== undefined) return lock;
  if (isLocked(to)) return false;
  if (from === SdLifeCycle.INSTALLED) return to === SdLifeCycle.SELECTABLE && (r.has('am') || r.has('dm') || r.has('open'));
  if (from === SdLifeCycle.SELECTABLE) return to === SdLifeCycle.PERSONALIZED && r.has('self');
  return false;
}
