/**
 * DELETE handled by a Security Domain (GPCS 2.3.1 §11.2; processes §9.5 content removal).
 *
 *  - Card content needs Authorized Management (§9.5.1; else 6985); keys do not.
 *  - Application / SSD (P2 00): it must be in this SD's hierarchy (or this SD has Global Delete), not the
 *    ISD, not the SD itself, not selected on another logical channel, and an SD must have no associated
 *    applications or load files left (6985).
 *  - Executable Load File (P2 00): refused with 6985 while applications instantiated from it exist.
 *  - Executable Load File and related applications (P2 80): the applications go with it (same rules for them).
 *  - Key (tags 'D0' / 'D2'): one key or all keys of a KID or of a KVN of this SD (6A88 when none).
 * Not found: 6A88. Response data: '00'. 'More commands' chaining (P1.b8) is not supported: 6A86.
 */
import type { ResponseApdu } from '../../apdu/response.ts';
import { toHex } from '../../core/bytes.ts';
import { encodeConfirmationResponse } from '../../gp/index.ts';
import { parseDeleteCommand, type DeleteCardContent, type DeleteKey } from '../../gp/index.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, check } from '../errors.ts';
import { findApp, findElf, hasPrivilege, isInHierarchy } from '../registry.ts';
import { restoreUniquePrivileges } from './privilege-rules.ts';
import type { AppRecord } from '../state.ts';

const DONE: ResponseApdu = { data: encodeConfirmationResponse(), sw: SW.OK };

export function deleteCommand(ctx: SdCommandContext): ResponseApdu {
  check((ctx.command.p1 & 0x80) === 0, SW.INCORRECT_P1P2, 'DELETE chaining is not supported');
  const req = parseDeleteCommand(ctx.command);
  if (req.kind === 'key') return deleteKey(ctx, req);
  return deleteContent(ctx, req);
}

function mayDelete(ctx: SdCommandContext, aid: string): boolean {
  return hasPrivilege(ctx.sd, 'GlobalDelete') || isInHierarchy(ctx.state, ctx.sd.aid, aid);
}

function checkAppRemovable(ctx: SdCommandContext, app: AppRecord, alsoGoing: ReadonlySet<string>): void {
  check(app.aid !== ctx.state.isd && app.aid !== ctx.sd.aid, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'cannot delete the ISD or the current SD');
  const selectedElsewhere = ctx.channels.entries().some(([n, ch]) => n !== ctx.channelNo && ch.selected === app.aid);
  check(!selectedElsewhere, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'application selected on another logical channel');
  if (app.securityDomain) {
    const dependents = [...ctx.state.apps, ...ctx.state.elfs].some((x) => x.aid !== app.aid && x.sd === app.aid && !alsoGoing.has(x.aid));
    check(!dependents, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'Security Domain still has associated content');
  }
}

function remove(ctx: SdCommandContext, aids: ReadonlySet<string>): void {
  const state = ctx.state;
  state.apps = state.apps.filter((a) => !aids.has(a.aid));
  state.elfs = state.elfs.filter((e) => !aids.has(e.aid));
  // §9.5.1 "Re-assign the Application's privileges (if any) to the Issuer Security Domain" (§6.6.2): Card Reset
  // (default selection) and Final Application.
  restoreUniquePrivileges(state);
}

function deleteContent(ctx: SdCommandContext, req: DeleteCardContent): ResponseApdu {
  // §9.5.1, §9.5.2: "Check that the requesting on-card entity is a Security Domain with Delegated Management or
  // Authorized Management privilege" — Delegated Management (tokens) is not supported, see install.ts.
  check(hasPrivilege(ctx.sd, 'AuthorizedManagement'), SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'card content deletion needs Authorized Management');
  check(req.token === undefined, SW.INCORRECT_DATA, 'delete tokens are not supported');
  const aid = toHex(req.aid);
  const app = findApp(ctx.state, aid);
  const elf = app ? undefined : findElf(ctx.state, aid);
  check((app !== undefined || elf !== undefined) && mayDelete(ctx, aid), SW.REFERENCED_DATA_NOT_FOUND, `no object ${aid}`);
  if (app) {
    checkAppRemovable(ctx, app, new Set());
    remove(ctx, new Set([aid]));
    return DONE;
  }
  const instances = ctx.state.apps.filter((a) => a.elf === aid);
  if (!req.related) {
    check(instances.length === 0, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'applications of this load file exist');
    remove(ctx, new Set([aid]));
    return DONE;
  }
  const going = new Set([aid, ...instances.map((a) => a.aid)]);
  for (const a of instances) {
    check(mayDelete(ctx, a.aid), SW.CONDITIONS_OF_USE_NOT_SATISFIED, `application ${a.aid} is outside this hierarchy`);
    checkAppRemovable(ctx, a, going);
  }
  remove(ctx, going);
  return DONE;
}

function deleteKey(ctx: SdCommandContext, req: DeleteKey): ResponseApdu {
  const sd = ctx.sd.securityDomain!;
  const match = (k: { kid: number; kvn: number }) =>
    (req.keyId === undefined || k.kid === req.keyId) && (req.kvn === undefined || k.kvn === req.kvn);
  check(req.keyId !== undefined || req.kvn !== undefined, SW.INCORRECT_DATA, 'key identifier or version needed');
  check(sd.keys.some(match), SW.REFERENCED_DATA_NOT_FOUND, 'no such key');
  // Sequence counters stay: a key set loaded again under that version must not repeat challenges.
  sd.keys = sd.keys.filter((k) => !match(k));
  return DONE;
}
