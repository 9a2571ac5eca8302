/**
 * LOAD handled by a Security Domain (GPCS 2.3.1 §11.6; process §9.3.5; DAP §9.2.1 and Appendix C.3).
 *
 * Blocks are collected in the channel's load session (started by INSTALL [for load]); nothing persistent
 * changes until the last block, when the Load File is checked and the Executable Load File registered:
 *  - block numbers strictly sequential from 00 (else 6A86, and the load is abandoned);
 *  - Load File structure (Table 11-58); ciphered blocks ('D4') are refused (6A80);
 *  - the Load File Data Block Hash of INSTALL [for load], when given, must match (6A80);
 *  - DAP blocks: required for the associated SD when it has DAP Verification, and for every SD with
 *    Mandated DAP Verification in the PERSONALIZED state; a missing or wrong signature is 6982; the hash is then mandatory (C.2);
 *  - the Load File Data Block (`load-file.ts`) must name the AID of INSTALL [for load] and code the applet
 *    catalogue knows (6A80).
 */
import { equalConstantTime, toHex } from '../../core/bytes.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import { encodeConfirmationResponse } from '../../gp/index.ts';
import { appendLoadBlock, parseLoadCommand, parseLoadFile, type LoadFile } from '../../gp/index.ts';
import type { SdCommandContext } from '../context.ts';
import { loadFileDataBlockHash, verifyDap } from '../dap.ts';
import { SW, SwError, check } from '../errors.ts';
import { parseLoadFileDataBlock } from '../load-file.ts';
import { findApp, hasPrivilege } from '../registry.ts';

/** Largest Load File accepted (bytes); beyond it: 6A84 not enough memory. */
export const MAX_LOAD_FILE = 64 * 1024;

export function load(ctx: SdCommandContext): ResponseApdu {
  const session = ctx.channel.load;
  check(session !== undefined, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'LOAD without INSTALL [for load]');
  try {
    const block = parseLoadCommand(ctx.command);
    session.reassembly = appendLoadBlock(session.reassembly, block);
    const size = session.reassembly.received.reduce((n, b) => n + b.length, 0);
    check(size <= MAX_LOAD_FILE, SW.NOT_ENOUGH_MEMORY, 'load file too large');
    if (!session.reassembly.complete) return { data: encodeConfirmationResponse(), sw: SW.OK };
    ctx.channel.load = undefined;
    finish(ctx, session.elf, session.sd, session.hash, session.reassembly.loadFile!);
    return { data: encodeConfirmationResponse(), sw: SW.OK };
  } catch (e) {
    ctx.channel.load = undefined; // any error ends the load (§11.6: the sequence is broken)
    throw e;
  }
}

function finish(ctx: SdCommandContext, elf: string, sdAid: string, hash: Uint8Array, bytes: Uint8Array): void {
  let file: LoadFile;
  try {
    file = parseLoadFile(bytes);
  } catch {
    throw new SwError(SW.INCORRECT_DATA, 'malformed Load File');
  }
  check(!file.ciphered, SW.INCORRECT_DATA, 'ciphered Load File Data Blocks are not supported');
  const block = file.loadFileDataBlock;
  const daps = file.dapBlocks ?? [];
  if (hash.length) {
    check(equalConstantTime(loadFileDataBlockHash(block, hash.length), hash), SW.INCORRECT_DATA, 'Load File Data Block Hash mismatch');
  }
  // DAP verification (§9.3.5 runtime behaviour): the associated SD if it has DAP Verification; every SD with
  // Mandated DAP Verification "in the PERSONALIZED state" — a locked one that was PERSONALIZED still counts
  // (locking a Verification Authority must not switch its control off).
  const verifiers = ctx.state.apps.filter(
    (a) =>
      a.securityDomain &&
      ((hasPrivilege(a, 'MandatedDAPVerification') && (a.lifeCycle & 0x7f) === 0x0f) || (a.aid === sdAid && hasPrivilege(a, 'DAPVerification'))),
  );
  if (daps.length || verifiers.length) check(hash.length > 0, SW.INCORRECT_DATA, 'DAP needs the Load File Data Block Hash');
  for (const v of verifiers) {
    const dap = daps.find((d) => toHex(d.sdAid) === v.aid);
    check(dap !== undefined, SW.SECURITY_STATUS_NOT_SATISFIED, `DAP block for ${v.aid} missing`);
    check(verifyDap(v.securityDomain!, hash, dap.signature), SW.SECURITY_STATUS_NOT_SATISFIED, `DAP of ${v.aid} does not verify`);
  }
  for (const d of daps) {
    const sd = findApp(ctx.state, toHex(d.sdAid));
    check(sd?.securityDomain !== undefined, SW.REFERENCED_DATA_NOT_FOUND, 'DAP block for an unknown Security Domain');
  }
  const content = parseLoadFileDataBlock(block);
  check(content.elf === elf, SW.INCORRECT_DATA, 'Load File AID differs from INSTALL [for load]');
  const code = ctx.catalogue.get(elf);
  check(code !== undefined && content.modules.every((m) => code.modules.has(m)), SW.INCORRECT_DATA, 'no code for this load file');
  check(!ctx.state.elfs.some((e) => e.aid === elf) && !findApp(ctx.state, elf), SW.INCORRECT_DATA, 'load file already present');
  for (const m of content.modules) check(!ctx.state.apps.some((a) => a.aid === m), SW.INCORRECT_DATA, 'module AID in use');
  ctx.state.elfs.push({ aid: elf, lifeCycle: 0x01, sd: sdAid, modules: content.modules, version: content.version, builtIn: false });
}
