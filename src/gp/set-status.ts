/**
 * SET STATUS (GP Card Specification 2.3.1 §11.10): P1 status type (Table 11-86: '80' ISD/card, '40' application or
 * SSD, '60' SD and its associated applications), P2 state control (§11.10.2.2, codings of §11.1.1), data = target
 * AID (ignored for '80'). No response data.
 */
import type { CommandApdu } from '../apdu/command.ts';
import { command } from '../apdu/command.ts';
import { assertAid, checkAid } from './aid.ts';
import { GpError } from './errors.ts';
import { byteOf } from './reader.ts';

/** P1 status types (Table 11-86). */
export const SetStatusScope = Object.freeze({ ISD: 0x80, APPLICATION: 0x40, SD_AND_APPLICATIONS: 0x60 } as const);

export interface SetStatusRequest {
  readonly scope: number;
  /** P2: the requested life cycle state (for another application only b8 counts: lock / unlock). */
  readonly state: number;
  /** Target application or SD (absent for the ISD). */
  readonly aid?: Uint8Array;
}

/** Build SET STATUS: `80 F0 P1 P2 [Lc aid]` (no Le, §11.10.2). */
export function buildSetStatus(req: SetStatusRequest, cla = 0x80): CommandApdu {
  const scope = req.scope;
  if (scope !== 0x80 && scope !== 0x40 && scope !== 0x60) throw new RangeError(`SET STATUS scope ${scope} is not 80/40/60`);
  if (scope !== 0x80 && !req.aid) throw new RangeError('SET STATUS for an application needs its AID');
  const data = req.aid ? assertAid(req.aid, 'aid') : new Uint8Array(0);
  return command(byteOf(cla, 'cla'), 0xf0, scope, byteOf(req.state, 'state'), data);
}

/**
 * Card side: parse SET STATUS. P1 must be 80/40/60 (RFU low bits ignored, §11.1) else 6A86; for 40/60 the data
 * must be an AID of 5–16 bytes (6A80); for 80 the data is ignored (§11.10.2.3).
 */
export function parseSetStatusCommand(cmd: CommandApdu): SetStatusRequest {
  const scope = cmd.p1 & 0xe0;
  if (scope !== 0x80 && scope !== 0x40 && scope !== 0x60) throw new GpError('BAD_P1P2', `SET STATUS P1 ${cmd.p1.toString(16)}`);
  if (scope === 0x80) return { scope, state: cmd.p2 };
  return { scope, state: cmd.p2, aid: checkAid(cmd.data, 'SET STATUS target AID') };
}
