/**
 * SET STATUS handled by a Security Domain (GPCS 2.3.1 §11.10; life cycles chapter 5; §9.6 security
 * management: locking, card locking, termination).
 *
 *  - P1 '80' (card): the ISD, or an SD with Card Lock (lock/unlock) / Card Terminate (terminate), following
 *    Figure 5-1 (`canTransitionCard`). P2 not a card state: 6A80; transition not allowed: 6985.
 *  - P1 '40' (application or SSD, AID in the data): an SD setting its own state goes to PERSONALIZED or
 *    LOCKED; for another entry only LOCKED (P2.b8 = 1) and back (P2.b8 = 0), by its associated SD, an SD
 *    above it in the hierarchy, or an SD with Global Lock. The ISD: 6A80. Unknown AID: 6A88.
 *  - P1 '60' (SD and its associated applications): lock or unlock the whole sub-hierarchy; entries already in
 *    the requested state are left as they are (no error, §11.10.2.1 note).
 * A transition to the current state is rejected (6985).
 */
import { toHex } from '../../core/bytes.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import { CardLifeCycle, canTransitionApp, canTransitionCard, canTransitionSd, isValidCardLifeCycle, lockState, unlockState, type AppActor } from '../../gp/index.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, SwError, check } from '../errors.ts';
import { cardLifeCycle, findApp, hasPrivilege, isInHierarchy, privilegesOf, setCardLifeCycle, subHierarchy } from '../registry.ts';
import type { AppRecord } from '../state.ts';

const NONE: ResponseApdu = { data: new Uint8Array(0), sw: SW.OK };

export function setStatus(ctx: SdCommandContext): ResponseApdu {
  const c = ctx.command;
  switch (c.p1) {
    case 0x80:
      return setCard(ctx, c.p2);
    case 0x40:
      return setEntry(ctx, targetOf(ctx), c.p2);
    case 0x60:
      return setHierarchy(ctx, targetOf(ctx), c.p2);
    default:
      throw new SwError(SW.INCORRECT_P1P2);
  }
}

function targetOf(ctx: SdCommandContext): AppRecord {
  const data = ctx.command.data;
  check(data.length >= 5 && data.length <= 16, SW.INCORRECT_DATA, 'AID expected');
  const app = findApp(ctx.state, toHex(data));
  check(app !== undefined, SW.REFERENCED_DATA_NOT_FOUND, 'no such application');
  check(app.aid !== ctx.state.isd, SW.INCORRECT_DATA, "the ISD's state is the card state (P1 '80')");
  return app;
}

function setCard(ctx: SdCommandContext, to: number): ResponseApdu {
  check(isValidCardLifeCycle(to), SW.INCORRECT_DATA, 'not a card life cycle state');
  check(cardLifeCycle(ctx.state) !== CardLifeCycle.CARD_LOCKED || to !== CardLifeCycle.CARD_LOCKED, SW.CONDITIONS_OF_USE_NOT_SATISFIED);
  const actor = { isIsd: ctx.sd.aid === ctx.state.isd, privileges: privilegesOf(ctx.sd) };
  check(canTransitionCard(cardLifeCycle(ctx.state), to, actor), SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'card life cycle transition not allowed');
  setCardLifeCycle(ctx.state, to);
  return NONE;
}

/** The roles the receiving SD plays towards `target` (Figures 5-2, 5-3 legend). */
function rolesFor(ctx: SdCommandContext, target: AppRecord): AppActor[] {
  const roles: AppActor[] = [];
  if (target.aid === ctx.sd.aid) roles.push('self');
  if (target.sd === ctx.sd.aid || (target.aid !== ctx.sd.aid && isInHierarchy(ctx.state, ctx.sd.aid, target.aid))) roles.push('associatedSd');
  if (hasPrivilege(ctx.sd, 'GlobalLock')) roles.push('globalLock');
  return roles;
}

function setEntry(ctx: SdCommandContext, target: AppRecord, p2: number): ResponseApdu {
  const roles = rolesFor(ctx, target);
  check(roles.length > 0, SW.REFERENCED_DATA_NOT_FOUND, 'not associated with this Security Domain');
  const from = target.lifeCycle;
  let to: number;
  if (target.aid === ctx.sd.aid) {
    to = p2; // own state: PERSONALIZED or LOCKED, coded per Table 11-5
    if ((p2 & 0x80) !== 0) to = lockState(from);
  } else {
    to = (p2 & 0x80) !== 0 ? lockState(from) : unlockState(from); // §11.10.2.2: only b8 counts
  }
  check(to !== from, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'already in that state');
  const allowed = target.securityDomain ? canTransitionSd(from, to, roles) : canTransitionApp(from, to, roles);
  check(allowed, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'life cycle transition not allowed');
  target.lifeCycle = to;
  return NONE;
}

function setHierarchy(ctx: SdCommandContext, target: AppRecord, p2: number): ResponseApdu {
  check(target.securityDomain !== undefined, SW.INCORRECT_DATA, "P1 '60' needs a Security Domain");
  const roles = rolesFor(ctx, target).filter((r) => r !== 'self');
  check(roles.length > 0, SW.REFERENCED_DATA_NOT_FOUND, 'not associated with this Security Domain');
  const lock = (p2 & 0x80) !== 0;
  for (const app of [target, ...subHierarchy(ctx.state, target.aid)]) {
    const from = app.lifeCycle;
    const to = lock ? lockState(from) : unlockState(from);
    if (to === from) continue;
    app.lifeCycle = to;
  }
  return NONE;
}
