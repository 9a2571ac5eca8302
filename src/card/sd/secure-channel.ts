/**
 * Secure channel handshake of a Security Domain (GPCS 2.3.1 §10.2.1 explicit initiation, §7.3.1; SCP02
 * Appendix E.5.1/E.5.2; SCP03 Amendment D §7.1.1/§7.1.2), using the card side of `src/scp`.
 *
 * One session per logical channel, owned by the SD selected there. A new INITIALIZE UPDATE aborts the
 * current session. The sequence counter is persistent: it is part of the draft state and committed with
 * the command that changes it.
 */
import { fromHex } from '../../core/bytes.ts';
import type { CardHandshakeContext, CardExternalAuthenticateResult, CardInitializeUpdateResult, PendingExternalAuthenticate } from '../../scp/channel.ts';
import type { StaticKeys } from '../../scp/keys.ts';
import { scp02, scp03 } from '../../scp/index.ts';
import type { SdCommandContext } from '../context.ts';
import type { Outcome } from '../outcome.ts';
import type { AppRecord, SdRecord, SdScp } from '../state.ts';

interface CardProtocol {
  cardInitializeUpdate(commandBytes: Uint8Array, ctx: CardHandshakeContext): CardInitializeUpdateResult;
  cardExternalAuthenticate(pending: PendingExternalAuthenticate, commandBytes: Uint8Array): CardExternalAuthenticateResult;
}

/** An SCP10 or SCP11 SD runs SCP03 with its symmetric key sets (its initial key set 'FF'), with this "i". */
export const SCP11_SD_SCP03_I = 0x70;

const PROTOCOLS: Readonly<Record<SdScp, CardProtocol>> = { 2: scp02, 3: scp03, 0x10: scp03, 0x11: scp03 };

function protocolOf(sd: SdRecord): CardProtocol | undefined {
  return PROTOCOLS[sd.scp];
}

/** The "i" parameter of the symmetric protocol (INITIALIZE UPDATE) of an SD. */
export function symmetricI(sd: SdRecord): number {
  return sd.scp === 0x10 || sd.scp === 0x11 ? SCP11_SD_SCP03_I : sd.i;
}

/** SCP02 with one Secure Channel base key ("i" b1 = 0, GPCS 2.2.1 E.2 Table E-2): KID 1 alone is a key set. */
function oneBaseKey(sd: SdRecord): boolean {
  return sd.scp === 2 && scp02.usesOneBaseKey(sd.i);
}

/** Key sets of an SD: KVNs that hold KID 1, 2 and 3 (ENC, MAC, DEK) — or KID 1, the base key, for `oneBaseKey`. */
export function keySetVersions(sd: SdRecord): number[] {
  const out: number[] = [];
  const one = oneBaseKey(sd);
  for (const k of sd.keys) {
    if (k.kid !== 1 || out.includes(k.kvn)) continue;
    if (one || (sd.keys.some((x) => x.kvn === k.kvn && x.kid === 2) && sd.keys.some((x) => x.kvn === k.kvn && x.kid === 3))) out.push(k.kvn);
  }
  return out;
}

/** Static keys of key set `kvn`; `kvn` 0 = the default (first) key set (§E.5.1.1, Amendment D §7.1.1.1). */
export function lookupKeySet(sd: SdRecord, kvn: number): { kvn: number; keys: StaticKeys } | undefined {
  const versions = keySetVersions(sd);
  const v = kvn === 0 ? versions[0] : versions.find((x) => x === kvn);
  if (v === undefined) return undefined;
  // With one base key, KID 2 and 3 (if present) are not used: every session key comes from KID 1.
  const get = (kid: number) => fromHex((sd.keys.find((k) => k.kvn === v && k.kid === kid) ?? sd.keys.find((k) => k.kvn === v && k.kid === 1)!).value);
  return { kvn: v, keys: { enc: get(1), mac: get(oneBaseKey(sd) ? 1 : 2), dek: get(oneBaseKey(sd) ? 1 : 3) } };
}

/** The sequence counter of the default key set (GET DATA 'C1', §11.3.2.1). */
export function defaultSequenceCounter(sd: SdRecord): number | undefined {
  const v = keySetVersions(sd)[0];
  return v === undefined ? undefined : (sd.sequenceCounters[String(v)] ?? 0);
}

function kddOf(ctx: SdCommandContext): Uint8Array {
  return fromHex(ctx.state.kdd);
}

/** INITIALIZE UPDATE (INS 50). */
export function initializeUpdate(ctx: SdCommandContext, raw: Uint8Array): Outcome {
  const sd = ctx.sd.securityDomain!;
  ctx.channel.session?.abort();
  ctx.channel.session = undefined;
  ctx.channel.anonymous = false;
  ctx.channel.pendingAuth = undefined;
  const protocol = protocolOf(sd);
  if (!protocol) return { response: Uint8Array.of(0x6a, 0x88), commit: false };
  const requested = raw.length > 2 ? raw[2]! : 0;
  const found = lookupKeySet(sd, requested);
  const counter = found ? (sd.sequenceCounters[String(found.kvn)] ?? 0) : 0;
  const result = protocol.cardInitializeUpdate(raw, {
    lookupKeys: (kvn) => lookupKeySet(sd, kvn),
    sequenceCounter: counter,
    kdd: kddOf(ctx),
    i: symmetricI(sd),
    aid: fromHex(ctx.sd.aid),
    random: ctx.random,
  });
  if (!result.pending || result.kvn === undefined) return { response: result.response, commit: false };
  ctx.channel.pendingAuth = result.pending;
  if (result.nextSequenceCounter !== counter) sd.sequenceCounters[String(result.kvn)] = result.nextSequenceCounter;
  return { response: result.response, commit: true };
}

/** EXTERNAL AUTHENTICATE (INS 82): 6985 without a preceding INITIALIZE UPDATE on this channel. */
export function externalAuthenticate(ctx: SdCommandContext, raw: Uint8Array): Outcome {
  const pending = ctx.channel.pendingAuth;
  ctx.channel.pendingAuth = undefined;
  const sd = ctx.sd.securityDomain!;
  const protocol = protocolOf(sd);
  if (!pending || !protocol) return { response: Uint8Array.of(0x69, 0x85), commit: false };
  const result = protocol.cardExternalAuthenticate(pending, raw);
  if (!result.channel) return { response: result.response, commit: false };
  ctx.channel.session = result.channel;
  ctx.channel.anonymous = false;
  if (result.nextSequenceCounter !== undefined) sd.sequenceCounters[String(pending.kvn)] = result.nextSequenceCounter;
  return { response: result.response, commit: true };
}

/** Is `app` a Security Domain whose protocol this card can run? */
export function speaksScp(app: AppRecord): boolean {
  return app.securityDomain !== undefined && protocolOf(app.securityDomain) !== undefined;
}

/** Does this SD open SCP02 sessions implicitly, on the first C-MAC ("i" b3 = 0, GPCS 2.2.1 E.1.2.2)? */
export function opensImplicitly(app: AppRecord): boolean {
  const sd = app.securityDomain;
  return sd !== undefined && sd.scp === 2 && scp02.isSupportedI(sd.i) && scp02.isImplicitI(sd.i);
}

/**
 * Implicit initiation (E.1.2.2): a command with secure messaging and no open session opens one when its
 * C-MAC verifies under the default key set; the sequence counter is incremented. Returns the unwrapped
 * command, or the status word of the refusal (nothing changed).
 */
export function implicitOpen(ctx: SdCommandContext, raw: Uint8Array): { plain: Uint8Array } | { sw: number } {
  const sd = ctx.sd.securityDomain!;
  const found = lookupKeySet(sd, 0);
  const counter = found ? (sd.sequenceCounters[String(found.kvn)] ?? 0) : 0;
  const r = scp02.cardImplicitOpen(raw, {
    lookupKeys: (kvn) => lookupKeySet(sd, kvn),
    sequenceCounter: counter,
    kdd: kddOf(ctx),
    i: sd.i,
    aid: fromHex(ctx.sd.aid),
    random: ctx.random,
  });
  if (!r.ok) return { sw: r.sw };
  ctx.channel.session = r.channel;
  ctx.channel.anonymous = false;
  sd.sequenceCounters[String(r.kvn)] = r.nextSequenceCounter;
  return { plain: r.plain };
}
