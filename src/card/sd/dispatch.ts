/**
 * Command dispatch inside a Security Domain (GPCS 2.3.1 §6.3 command dispatch, §7.3.1 secure messaging
 * support, Table 11-1 commands per card life cycle state, Table 11-2 minimum security level).
 *
 * Secure messaging is removed before the command is handled and applied to the response after, so a
 * refused command still carries an R-MAC when the level asks for one. Any refusal rolls the draft back.
 */
import { decodeCommand, encodeCommand, type CommandApdu } from '../../apdu/command.ts';
import { chainStep, CLA_CHAINING } from './chain.ts';
import { encodeResponse, type ResponseApdu } from '../../apdu/response.ts';
import { CardLifeCycle } from '../../gp/index.ts';
import type { CommandContext, SdCommandContext } from '../context.ts';
import { SW, SwError } from '../errors.ts';
import { swBytes, swFor, type Outcome } from '../outcome.ts';
import { cardLifeCycle } from '../registry.ts';
import { cloneState, type AppRecord, type CardState } from '../state.ts';
import { deleteCommand } from './delete.ts';
import { getData } from './get-data.ts';
import { getStatus } from './get-status.ts';
import { install } from './install.ts';
import { load } from './load.ts';
import { putKey } from './put-key.ts';
import { generateKey, INS_GENERATE_KEY } from './generate-key.ts';
import { authenticate, performSecurityOperation } from './scp11.ts';
import { SCP10_INS, scp10Command } from './scp10.ts';
import { externalAuthenticate, implicitOpen, initializeUpdate, opensImplicitly } from './secure-channel.ts';
import { setStatus } from './set-status.ts';
import { storeData } from './store-data.ts';

type Handler = (ctx: SdCommandContext) => ResponseApdu;

interface Route {
  readonly handler: Handler;
  /** Table 11-2: needs an authenticated secure channel session. */
  readonly authenticated: boolean;
  /** Changes card content or SD data: refused in CARD_LOCKED (§5.1.1.4). */
  readonly contentChange: boolean;
}

const ROUTES: ReadonlyMap<number, Route> = new Map([
  [0xe4, { handler: deleteCommand, authenticated: true, contentChange: true }],
  [0xca, { handler: getData, authenticated: false, contentChange: false }],
  [0xf2, { handler: getStatus, authenticated: true, contentChange: false }],
  [0xe6, { handler: install, authenticated: true, contentChange: true }],
  [0xe8, { handler: load, authenticated: true, contentChange: true }],
  [0xd8, { handler: putKey, authenticated: true, contentChange: true }],
  [0xf0, { handler: setStatus, authenticated: true, contentChange: false }],
  [0xe2, { handler: storeData, authenticated: true, contentChange: true }],
  [INS_GENERATE_KEY, { handler: generateKey, authenticated: true, contentChange: true }],
]);

/** SCP11 handshake instructions (Amendment F §7.5–§7.7): PSO, MUTUAL AUTHENTICATE, INTERNAL AUTHENTICATE. */
const SCP11_INS = new Set([0x2a, 0x82, 0x88]);

/** Instructions the OPEN handles only with an interindustry class. */
const ISO_ONLY = new Set([0x70, 0xa4, 0xc0]);

function protect(ctx: CommandContext, plain: Uint8Array): Uint8Array {
  const session = ctx.channel.session;
  return session ? session.wrapResponse(plain) : plain;
}

/** Process a command for the Security Domain `sd` selected on the channel. */
export function dispatchToSd(base: CommandContext, sd: AppRecord, outer: CommandApdu, raw: Uint8Array): Outcome {
  const ctx0 = { ...base, sd, session: undefined, command: outer };
  const scp = sd.securityDomain!.scp;
  const handshake = outer.ins === 0x50 || (outer.ins === 0x82 && (base.channel.pendingAuth !== undefined || (scp !== 0x11 && scp !== 0x10))) || (SCP10_INS.has(outer.ins) && scp === 0x10);
  if (handshake) {
    // Secure channel initiation is never chained; it ends any chain in progress.
    base.channel.chain = undefined;
    if (base.cla.chaining) return { response: swBytes(SW.COMMAND_CHAINING_NOT_SUPPORTED), commit: false };
  }
  if (outer.ins === 0x50) {
    if (!base.cla.proprietary || base.cla.secureMessaging) return { response: swBytes(SW.CLA_NOT_SUPPORTED), commit: false };
    return initializeUpdate(ctx0, raw);
  }
  if (outer.ins === 0x82 && (base.channel.pendingAuth !== undefined || (scp !== 0x11 && scp !== 0x10))) {
    if (!base.cla.proprietary) return { response: swBytes(SW.CLA_NOT_SUPPORTED), commit: false };
    return externalAuthenticate(ctx0, raw);
  }
  if (SCP11_INS.has(outer.ins) && scp === 0x11) {
    base.channel.pendingAuth = undefined;
    if (!base.cla.proprietary || base.cla.secureMessaging) return { response: swBytes(SW.CLA_NOT_SUPPORTED), commit: false };
    // PSO / MUTUAL AUTHENTICATE may come as an ISO chain of short commands (a long OCE certificate).
    const step = chainStep(base.channel, outer);
    if (step.kind === 'more') return { response: swBytes(SW.OK), commit: false };
    if (step.kind === 'refused') return { response: swBytes(step.sw), commit: false };
    const whole = step.command === outer ? raw : encodeCommand({ ...step.command, cla: step.command.cla & ~CLA_CHAINING });
    return outer.ins === 0x2a ? performSecurityOperation(ctx0, whole) : authenticate(ctx0, whole);
  }
  // SCP10 initiation (GPCS 2.2.1 F.4): interindustry class without secure messaging.
  if (SCP10_INS.has(outer.ins) && scp === 0x10) {
    base.channel.pendingAuth = undefined;
    if (base.cla.proprietary || base.cla.secureMessaging) return { response: swBytes(SW.CLA_NOT_SUPPORTED), commit: false };
    return scp10Command(ctx0, raw);
  }
  // EXTERNAL AUTHENTICATE must be the command right after INITIALIZE UPDATE (SCP02 E.5.2, SCP03 Amd D
  // §7.1.2): any other command in between abandons the half-open handshake.
  base.channel.pendingAuth = undefined;
  // Secure messaging (§10.5): unwrap when a session is open; SM without a session is refused.
  let session = base.channel.session;
  let command = outer;
  let openedImplicitly = false;
  if (session && opensImplicitly(sd) && !base.cla.secureMessaging) {
    // Implicit SCP02 session (E.1.6): a command without C-MAC clears C_MAC. This card ends the session
    // there; the command runs with no session, and the next C-MAC command initiates a new one.
    session.abort();
    base.channel.session = session = undefined;
  }
  if (!session && base.cla.secureMessaging && opensImplicitly(sd)) {
    const opened = implicitOpen({ ...ctx0 }, raw);
    if ('sw' in opened) return { response: swBytes(opened.sw), commit: false };
    openedImplicitly = true;
    session = base.channel.session;
    try {
      command = decodeCommand(opened.plain);
    } catch {
      return { response: protect(base, swBytes(SW.WRONG_LENGTH)), commit: true };
    }
  } else if (session) {
    let plain: Uint8Array;
    try {
      plain = session.unwrapCommand(raw);
    } catch (e) {
      base.channel.session = undefined;
      base.channel.chain = undefined;
      return { response: swBytes(swFor(e) === SW.UNKNOWN ? SW.SECURITY_STATUS_NOT_SATISFIED : swFor(e)), commit: false };
    }
    try {
      command = decodeCommand(plain);
    } catch {
      return { response: protect(base, swBytes(SW.WRONG_LENGTH)), commit: false };
    }
  } else if (base.cla.secureMessaging) {
    base.channel.chain = undefined;
    return { response: swBytes(SW.SECURITY_STATUS_NOT_SATISFIED), commit: false };
  }
  // ISO command chaining (sd/chain.ts): each piece was unwrapped on its own; the SD runs the whole command.
  const step = chainStep(base.channel, command);
  if (step.kind === 'more') return { response: protect(base, swBytes(SW.OK)), commit: openedImplicitly };
  if (step.kind === 'refused') return { response: protect(base, swBytes(step.sw)), commit: openedImplicitly };
  if (step.command !== command) command = { ...step.command, cla: step.command.cla & ~CLA_CHAINING };
  const ctx: SdCommandContext = { ...base, sd, session: session?.active ? session : undefined, command };
  // The sequence counter incremented by an implicit initiation stays incremented when the command itself
  // fails (E.1.2: "incremented before the processing specific for the command"); nothing else of it is kept.
  const afterOpen = openedImplicitly ? cloneState(base.state) : undefined;
  try {
    const response = route(ctx);
    return { response: protect(base, encodeResponse(response)), commit: true };
  } catch (e) {
    if (afterOpen) restoreState(base.state, afterOpen);
    return { response: protect(base, swBytes(swFor(e))), commit: afterOpen !== undefined };
  }
}

function route(ctx: SdCommandContext): ResponseApdu {
  const { command } = ctx;
  if (ISO_ONLY.has(command.ins)) throw new SwError(ctx.cla.proprietary ? SW.CLA_NOT_SUPPORTED : SW.INCORRECT_P1P2);
  const r = ROUTES.get(command.ins);
  if (!r) throw new SwError(SW.INS_NOT_SUPPORTED);
  if (command.ins !== 0xca && !ctx.cla.proprietary) throw new SwError(SW.CLA_NOT_SUPPORTED);
  const lc = cardLifeCycle(ctx.state);
  if (lc === CardLifeCycle.TERMINATED && command.ins !== 0xca) throw new SwError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'card terminated');
  if (r.authenticated && !ctx.session) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'secure channel required');
  // An SCP11b session does not authenticate the off-card entity (Amendment F §3.1.2): no management in it.
  if (r.contentChange && ctx.channel.anonymous) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'SCP11b session: off-card entity not authenticated');
  if (r.contentChange && lc === CardLifeCycle.CARD_LOCKED) {
    throw new SwError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'card locked: no content or data changes');
  }
  return r.handler(ctx);
}

/** Put `snapshot` back into the draft `state` object in place (the card commits that object). */
function restoreState(state: CardState, snapshot: CardState): void {
  const target = state as unknown as Record<string, unknown>;
  for (const k of Object.keys(target)) delete target[k];
  Object.assign(target, snapshot);
}
