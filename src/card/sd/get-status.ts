/**
 * GET STATUS handled by a Security Domain (GPCS 2.3.1 §11.4): P1 80 (ISD; only the ISD or a Global Registry
 * SD), 40 (applications and SSDs), 20 (load files), 10 (load files and modules); TLV format (P2.b2 = 1) with
 * '63 10' paging and [get next occurrence]; search by AID prefix ('4F 00' = everything); tag list '5C'.
 *
 * An SD sees the entries directly or indirectly associated with it; one with Global Registry sees them all
 * (§11.4.2.3). The deprecated format (P2.b2 = 0) is refused with 6A86 (§11.4.2.2 allows it).
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import { decodePrivileges } from '../../gp/index.ts';
import { GetStatusScope, encodeGetStatusEntries, parseGetStatusCommand, type RegistryEntry } from '../../gp/index.ts';
import type { SdCommandContext } from '../context.ts';
import { SW, SwError } from '../errors.ts';
import { canSee, hasPrivilege } from '../registry.ts';
import type { AppRecord, CardState, ElfRecord } from '../state.ts';

function appEntry(a: AppRecord): RegistryEntry {
  return {
    aid: fromHex(a.aid),
    lifeCycle: a.lifeCycle,
    privileges: decodePrivileges(fromHex(a.privileges)),
    ...(a.implicitSelection.length ? { implicitSelection: a.implicitSelection } : {}),
    ...(a.elf ? { loadFileAid: fromHex(a.elf) } : {}),
    associatedSd: fromHex(a.sd),
  };
}

function elfEntry(e: ElfRecord, modules: boolean): RegistryEntry {
  return {
    aid: fromHex(e.aid),
    lifeCycle: e.lifeCycle,
    ...(e.version ? { loadFileVersion: fromHex(e.version) } : {}),
    ...(modules ? { moduleAids: e.modules.map(fromHex) } : {}),
    associatedSd: fromHex(e.sd),
  };
}

function entries(state: CardState, sd: AppRecord, scope: number, prefix: string): RegistryEntry[] {
  const visible = (aid: string) => aid.startsWith(prefix) && canSee(state, sd, aid);
  switch (scope) {
    case GetStatusScope.ISD: {
      const isd = state.apps[0]!;
      return [appEntry(isd)];
    }
    case GetStatusScope.APPLICATIONS:
      // An SD is not in its own hierarchy; with Global Registry "the search applies to all" entries (§11.4.2.3),
      // so an SSD with Global Registry reports itself too. The ISD is reported only with P1 '80'.
      return state.apps.filter((a) => a.aid !== state.isd && visible(a.aid)).map(appEntry);
    case GetStatusScope.LOAD_FILES:
      return state.elfs.filter((e) => visible(e.aid)).map((e) => elfEntry(e, false));
    default:
      return state.elfs.filter((e) => visible(e.aid)).map((e) => elfEntry(e, true));
  }
}

/** Response data budget: 256 bytes less room for an R-MAC (8) so a wrapped page still fits (§11.1.5). */
const PAGE = 256 - 16;

export function getStatus(ctx: SdCommandContext): ResponseApdu {
  const req = parseGetStatusCommand(ctx.command);
  if (req.format !== 'tlv') throw new SwError(SW.INCORRECT_P1P2, 'only the TLV format (P2.b2 = 1) is supported');
  if (req.scope === GetStatusScope.ISD && ctx.sd.aid !== ctx.state.isd && !hasPrivilege(ctx.sd, 'GlobalRegistry')) {
    throw new SwError(SW.INCORRECT_P1P2, 'only the ISD or a Global Registry SD reports the ISD');
  }
  let pages: Uint8Array[];
  if (req.next) {
    const session = ctx.channel.getStatus;
    if (!session || session.p1 !== req.scope || session.pages.length === 0) {
      throw new SwError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'no GET STATUS to continue');
    }
    pages = session.pages;
  } else {
    const list = entries(ctx.state, ctx.sd, req.scope, toHex(req.aid));
    if (list.length === 0) {
      ctx.channel.getStatus = undefined;
      throw new SwError(SW.REFERENCED_DATA_NOT_FOUND);
    }
    pages = [];
    let rest = list;
    while (rest.length > 0) {
      const page = encodeGetStatusEntries(rest, PAGE, req.tagList);
      pages.push(page.data);
      rest = rest.slice(page.count);
    }
  }
  const [first, ...more] = pages;
  ctx.channel.getStatus = more.length ? { p1: req.scope, pages: more } : undefined;
  return { data: first!, sw: more.length ? SW.MORE_DATA : SW.OK };
}
