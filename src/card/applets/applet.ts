/**
 * Applets: card applications written as TypeScript classes (the simulator's stand-in for Java Card applets;
 * GPCS 2.3.1 §3.7 card content, §9.3 loading and installation, §7.3.2 personalisation through the SD).
 *
 * An applet object is stateless between commands: everything it must remember across commands and resets
 * goes into `ctx.data` (persistent, JSON, part of the card state and of the command's transaction), and
 * what lasts only while it is selected on a channel goes into `ctx.transient`. Refuse a command by throwing
 * `SwError`; the card state then stays unchanged.
 */
import type { CommandApdu } from '../../apdu/command.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import type { RandomSource } from '../../crypto/random.ts';
import { SW, SwError } from '../errors.ts';

export interface AppletContext {
  /** Instance AID. */
  readonly aid: Uint8Array;
  /** Logical channel the command arrived on. */
  readonly channel: number;
  /** Persistent data of this instance (JSON values only). */
  readonly data: Record<string, unknown>;
  /** Data of this selection on this channel; cleared on deselection and reset. */
  readonly transient: Record<string, unknown>;
  /** Privileges (3 bytes). */
  readonly privileges: Uint8Array;
  readonly random: RandomSource;
}

export interface InstallArguments {
  /** Application specific parameters (value of tag 'C9'). */
  readonly parameters: Uint8Array;
  readonly privileges: Uint8Array;
}

export abstract class Applet {
  /** Called once by INSTALL [for install]; throw `SwError` to refuse the installation. */
  install(_ctx: AppletContext, _args: InstallArguments): void {}

  /** SELECT by name reached this applet; the answer (usually FCI) goes back to the terminal. */
  select(_ctx: AppletContext): ResponseApdu {
    return { data: new Uint8Array(0), sw: 0x9000 };
  }

  /** Another application is being selected on the channel, or the channel closes. */
  deselect(_ctx: AppletContext): void {}

  /** Any command other than the OPEN's own (SELECT by name, MANAGE CHANNEL, GET RESPONSE). */
  abstract process(command: CommandApdu, ctx: AppletContext): ResponseApdu;

  /**
   * STORE DATA forwarded by the associated Security Domain during a personalisation session
   * (INSTALL [for personalization], §11.11.1). Returns response data (case 4) or nothing.
   */
  storeData(_ctx: AppletContext, _data: Uint8Array, _p1: number, _p2: number): Uint8Array | undefined {
    throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'personalisation not supported');
  }
}
