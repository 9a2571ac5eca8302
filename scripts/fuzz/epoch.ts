/**
 * One epoch of the card fuzzer: a card (replaced when the fuzz itself locked, terminated or re-keyed it), its
 * APDU history, the logical channels and secure channel session the fuzzer believes open, the oracle applied to
 * every APDU, and the four generators (random bytes, mutated well-formed commands, mutated plaintexts inside an
 * authenticated SCP02/SCP03 session — sometimes corrupted after wrapping —, and session churn).
 */
import { decodeCommand, encodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { decodeResponse } from '../../src/apdu/response.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeTlv } from '../../src/core/tlv.ts';
import {
  buildInstallForExtradition,
  buildInstallForInstall,
  buildInstallForLoad,
  buildInstallForPersonalization,
  buildSelect,
  buildStoreData,
  encodeInstallParameters,
  encodePrivileges,
  encodeSdInstallParameters,
} from '../../src/gp/index.ts';
import type { HostSecureChannel } from '../../src/scp/index.ts';
import { parseState, type ProfileName } from '../../src/card/index.ts';
import { AIDS, DEFAULT_KEY, INSTRUCTIONS, loadBlocks, onChannel, wellFormed } from './apdus.ts';
import { openHostSession } from './host-session.ts';
import { mutate, mutateBytes, mutateCommand } from './mutate.ts';
import { channelOfClass, invalidClass, isProcessed, isValidSw1, malformedCommand, malformedReason, needsSecureChannel } from './oracle.ts';
import { Prng, deriveSeed } from './prng.ts';
import type { CardSetup, Finding, FindingKind, FuzzStats, FuzzTarget, TargetFactory } from './card-types.ts';

const SETUPS: readonly { profile: ProfileName; apps: boolean }[] = [
  { profile: 'scp03', apps: false },
  { profile: 'scp02', apps: false },
  { profile: 'scp03', apps: true },
  { profile: 'scp02', apps: true },
];

const KEYS = { enc: DEFAULT_KEY, mac: DEFAULT_KEY, dek: DEFAULT_KEY };

/** Instructions a plaintext must not have to keep the host and card sessions in step. */
const LEAVES_SESSION = new Set([0xa4, 0x70, 0x50, 0x82, 0xc0]);

interface Meta {
  readonly generator: string;
  readonly mutations?: readonly string[];
  readonly plain?: string;
  readonly malformed?: string;
  readonly mustRefuse?: string;
}

interface Session {
  readonly host: HostSecureChannel;
  readonly channel: number;
  readonly scp: 2 | 3;
  alive: boolean;
  readonly queue: CommandApdu[];
}

export interface Run {
  readonly seed: number;
  readonly factory: TargetFactory;
  readonly stats: FuzzStats;
  readonly findings: Finding[];
  readonly maxFindings: number;
  readonly perKind: Map<string, number>;
}

function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

function bump(r: Record<string, number>, k: string): void {
  r[k] = (r[k] ?? 0) + 1;
}

/** First difference between two state JSON texts, for the report. */
function diffSummary(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 40);
  return `state differs at ${i}: …${a.slice(from, i + 40)}… → …${b.slice(from, i + 40)}…`;
}

export class Epoch {
  readonly rng: Prng;
  setup: CardSetup;
  cardSeed: number;
  card: FuzzTarget;
  history: string[] = [];
  /** Cards made in this epoch (a card that cannot be managed any more is replaced). */
  #cards = 0;
  #sessionFailuresInARow = 0;
  open = new Set<number>([0]);
  session: Session | undefined;
  caseIndex: number;
  readonly #run: Run;
  readonly #epoch: number;

  constructor(run: Run, epoch: number, firstCase: number) {
    this.#run = run;
    this.#epoch = epoch;
    this.caseIndex = firstCase;
    this.rng = new Prng(deriveSeed(run.seed, epoch, 1));
    this.cardSeed = 0;
    this.setup = { ...SETUPS[epoch % SETUPS.length]!, random: () => new Uint8Array(0) };
    this.card = this.freshCard();
  }

  /** A new card for this epoch's set-up, powered on, with its applets installed when the set-up has them. */
  freshCard(): FuzzTarget {
    this.cardSeed = deriveSeed(this.#run.seed, this.#epoch, 2, this.#cards++);
    this.setup = { ...this.setup, random: new Prng(this.cardSeed).source() };
    this.history = [];
    this.#sessionFailuresInARow = 0;
    this.card = this.#run.factory(this.setup);
    this.#run.stats.cards++;
    this.event('powerOn');
    if (this.setup.apps) this.installApps();
    return this.card;
  }

  get scp(): 2 | 3 {
    return this.setup.profile === 'scp03' ? 3 : 2;
  }

  /** Power on / reset / power off / reload; nothing of the session survives. */
  event(what: 'powerOn' | 'reset' | 'powerOff' | 'reload'): void {
    this.history.push(what);
    this.session = undefined;
    this.open = new Set(what === 'powerOff' ? [] : [0]);
    try {
      if (what === 'powerOn') this.card.powerOn();
      else if (what === 'reset') this.card.reset();
      else if (what === 'powerOff') this.card.powerOff();
      else {
        this.card = this.#run.factory(this.setup, this.card.serialize());
        this.card.powerOn();
      }
    } catch (e) {
      this.report('crash', `${what} threw ${(e as Error)?.stack ?? String(e)}`, { generator: 'churn' }, what);
    }
  }

  report(kind: FindingKind, message: string, meta: Meta, command: string, response?: Uint8Array): void {
    const run = this.#run;
    run.stats.findings++;
    const n = run.perKind.get(kind) ?? 0;
    if (n >= 5 || run.findings.length >= run.maxFindings) return;
    run.perKind.set(kind, n + 1);
    run.findings.push({
      kind,
      message,
      seed: run.seed,
      caseIndex: this.caseIndex,
      epoch: this.#epoch,
      profile: this.setup.profile,
      apps: this.setup.apps,
      cardSeed: this.cardSeed,
      generator: meta.generator,
      mutations: meta.mutations ?? [],
      command,
      ...(meta.plain !== undefined ? { plain: meta.plain } : {}),
      ...(response ? { response: toHex(response) } : {}),
      history: this.history.slice(),
    });
  }

  /** Send one APDU and judge the answer. */
  send(bytes: Uint8Array, meta: Meta): Uint8Array | undefined {
    const { stats } = this.#run;
    const hex = toHex(bytes);
    this.history.push(hex);
    stats.apdus++;
    const before = this.card.serialize();
    let response: Uint8Array;
    try {
      response = this.card.process(bytes);
    } catch (e) {
      this.report('crash', `process() threw ${(e as Error)?.stack ?? String(e)}`, meta, hex);
      return undefined;
    }
    if (!(response instanceof Uint8Array) || response.length < 2) {
      this.report('short-response', `response of ${response?.length ?? 'no'} bytes`, meta, hex, response);
      return undefined;
    }
    const sw = decodeResponse(response).sw;
    bump(stats.sw, swHex(sw));
    // The simulator answers '6F00' for exceptions that are not typed errors (src/card/outcome.ts): a caught crash.
    if (sw === 0x6f00) this.report('internal-error', "answered '6F00' (no precise diagnosis): an untyped exception inside the card", meta, hex, response);
    if (!isValidSw1(sw >> 8)) this.report('invalid-sw', `SW1 ${swHex(sw).slice(0, 2)} is not '6X'/'9X'`, meta, hex, response);
    if (meta.malformed !== undefined) {
      stats.malformed++;
      if (isProcessed(sw)) this.report('malformed-accepted', `${meta.malformed}; answered ${swHex(sw)}`, meta, hex, response);
    }
    if (meta.mustRefuse !== undefined) {
      stats.mustRefuse++;
      if (isProcessed(sw)) this.report('refusal-expected', `${meta.mustRefuse}; answered ${swHex(sw)}`, meta, hex, response);
    }
    const after = this.card.serialize();
    if (after !== before) {
      stats.stateChanges++;
      if (!isProcessed(sw)) this.report('state-changed-on-failure', `answered ${swHex(sw)} but ${diffSummary(before, after)}`, meta, hex, response);
      try {
        parseState(after);
      } catch (e) {
        this.report('invalid-state', `committed a state that does not load: ${(e as Error).message}`, meta, hex, response);
      }
    }
    return response;
  }

  /** A raw command (not through the host session): the channel and secure channel rules apply. */
  sendRaw(bytes: Uint8Array, generator: string, mutations?: readonly string[]): Uint8Array | undefined {
    const malformed = malformedReason(bytes);
    let mustRefuse: string | undefined;
    let c: CommandApdu | undefined;
    try {
      c = decodeCommand(bytes);
    } catch {
      c = undefined;
    }
    if (c && !invalidClass(c.cla)) {
      const ch = channelOfClass(c.cla);
      if (!this.open.has(ch)) mustRefuse = `logical channel ${ch} is not open`;
      else if (needsSecureChannel(bytes)) mustRefuse = `${INSTRUCTIONS[c.ins]} outside an authenticated secure channel`;
    }
    if (this.session && bytes.length >= 4 && channelOfClass(bytes[0]!) === this.session.channel) this.session.alive = false;
    const response = this.send(bytes, {
      generator,
      ...(mutations ? { mutations } : {}),
      ...(malformed !== undefined ? { malformed } : {}),
      ...(mustRefuse !== undefined ? { mustRefuse } : {}),
    });
    if (response && c && (c.cla & 0x80) === 0 && c.ins === 0x70 && !invalidClass(c.cla)) {
      const r = decodeResponse(response);
      if (r.sw === 0x9000 && c.p1 === 0x00) this.open.add(c.p2 !== 0 ? c.p2 : r.data[0]!);
      if (r.sw === 0x9000 && c.p1 === 0x80) this.open.delete(c.p2 !== 0 ? c.p2 : channelOfClass(c.cla));
    }
    return response;
  }

  /** A plaintext through the host session; `undefined` when the host side refuses to wrap it. */
  sendWrapped(plain: CommandApdu, generator: string, mutations?: readonly string[]): { sw: number; data: Uint8Array } | undefined {
    const s = this.session!;
    let wrapped: Uint8Array;
    const plainBytes = encodeCommand(plain);
    try {
      wrapped = s.host.wrapCommand(plainBytes);
    } catch {
      return undefined;
    }
    const malformed = malformedCommand(plain);
    const response = this.send(wrapped, {
      generator,
      plain: toHex(plainBytes),
      ...(mutations ? { mutations } : {}),
      ...(malformed !== undefined ? { malformed } : {}),
    });
    if (!response) {
      s.alive = false;
      return undefined;
    }
    const sw = decodeResponse(response).sw;
    let data: Uint8Array = new Uint8Array(0);
    try {
      data = decodeResponse(s.host.unwrapResponse(response)).data;
    } catch {
      this.#run.stats.unwrapFailures++;
      s.alive = false;
    }
    if (sw === 0x6982 || LEAVES_SESSION.has(plain.ins)) s.alive = false;
    return { sw, data };
  }

  openChannel(): number | undefined {
    const r = this.sendRaw(fromHex('0070000001'), 'handshake');
    if (!r) return undefined;
    const d = decodeResponse(r);
    return d.sw === 0x9000 && d.data.length === 1 ? d.data[0] : undefined;
  }

  /** Select an SD on a channel and authenticate with the default keys. */
  openSession(forIsd?: { level: number }): boolean {
    const { stats } = this.#run;
    const ssd = forIsd === undefined && this.setup.apps && this.rng.chance(0.4);
    const level = forIsd?.level;
    let channel = 0;
    const supplementary = [...this.open].filter((n) => n !== 0);
    if ((ssd || this.rng.chance(0.3)) && supplementary.length && this.rng.chance(0.8)) {
      channel = this.rng.pick(supplementary);
    } else if (ssd || this.rng.chance(0.3)) {
      const ch = this.openChannel();
      if (ch === undefined) {
        stats.sessionsFailed++;
        bump(stats.sessionFailures, 'MANAGE CHANNEL refused');
        return false;
      }
      channel = ch;
    }
    const sel = this.sendRaw(encodeCommand(onChannel(buildSelect(fromHex(ssd ? AIDS.SSD : AIDS.ISD)), channel)), 'handshake');
    if (!sel || !isProcessed(decodeResponse(sel).sw)) {
      stats.sessionsFailed++;
      bump(stats.sessionFailures, `SELECT ${sel ? swHex(decodeResponse(sel).sw) : 'failed'}`);
      return false;
    }
    const i = this.scp === 3 ? 0x70 : 0x55;
    const host = openHostSession((apdu) => this.send(apdu, { generator: 'handshake', ...maybeMalformed(apdu) }), {
      scp: this.scp,
      i,
      channel,
      keys: KEYS,
      rng: this.rng,
      ...(level !== undefined ? { level } : {}),
    });
    if (typeof host === 'string') {
      stats.sessionsFailed++;
      bump(stats.sessionFailures, host.replace(/:.*/, ''));
      this.session = undefined;
      return false;
    }
    stats.sessionsOpened++;
    this.session = { host, channel, scp: this.scp, alive: true, queue: [] };
    return true;
  }

  /** SSD (AM privilege), echo applet 1 (personalised) under the ISD, echo applet 2 extradited to the SSD. */
  installApps(): void {
    if (!this.openSession({ level: 0x03 })) {
      this.report('setup-failed', 'could not open a secure channel to the ISD', { generator: 'setup' }, this.history.at(-1) ?? '');
      return;
    }
    const scp = this.scp === 3 ? { id: 3, i: 0x70 } : { id: 2, i: 0x55 };
    const steps: CommandApdu[] = [
      buildInstallForInstall({
        makeSelectable: true,
        loadFileAid: fromHex(AIDS.SSD_ELF),
        moduleAid: fromHex(AIDS.SSD_MODULE),
        applicationAid: fromHex(AIDS.SSD),
        privileges: encodePrivileges(new Set(['SecurityDomain', 'AuthorizedManagement'])),
        parameters: encodeInstallParameters({ applicationSpecific: encodeSdInstallParameters({ scp }) }),
      }),
      buildInstallForInstall({ makeSelectable: true, loadFileAid: fromHex(AIDS.ECHO_ELF), moduleAid: fromHex(AIDS.ECHO_MODULE), applicationAid: fromHex(AIDS.ECHO1), privileges: encodePrivileges(new Set()), parameters: encodeInstallParameters({}) }),
      buildInstallForInstall({ makeSelectable: true, loadFileAid: fromHex(AIDS.ECHO_ELF), moduleAid: fromHex(AIDS.ECHO_MODULE), applicationAid: fromHex(AIDS.ECHO2), privileges: encodePrivileges(new Set()), parameters: encodeInstallParameters({ applicationSpecific: fromHex('00000005') }) }),
      buildInstallForExtradition({ sdAid: fromHex(AIDS.SSD), aid: fromHex(AIDS.ECHO2) }),
      buildInstallForPersonalization(fromHex(AIDS.ECHO1)),
      buildStoreData(encodeTlv(0x5f20, new TextEncoder().encode('opentsm fuzz')), 0, true, { format: 'ber' }),
    ];
    const channel = this.session!.channel;
    for (const step of steps) {
      const r = this.sendWrapped(onChannel(step, channel), 'setup');
      if (!r || r.sw !== 0x9000) {
        this.report('setup-failed', `set-up command ${toHex(encodeCommand(step))} answered ${r ? swHex(r.sw) : 'nothing'}`, { generator: 'setup' }, this.history.at(-1) ?? '');
        break;
      }
    }
    this.event('reset');
  }

  // ---- generators: each sends exactly one counted APDU ----

  randomCase(): void {
    const { rng } = this;
    if (rng.chance(0.6)) {
      const n = rng.pick([rng.range(0, 8), rng.range(0, 32), rng.range(0, 300)]);
      this.sendRaw(rng.bytes(n), 'random');
      return;
    }
    const cla = rng.pick([0x00, 0x80, 0x84, 0x01, 0x81, 0x40, 0xc0, 0xe0, rng.byte()]);
    const ins = rng.pick([...Object.keys(INSTRUCTIONS).map(Number), rng.byte()]);
    const bytes = new Uint8Array([cla, ins, rng.byte(), rng.byte(), ...rng.bytes(rng.pick([0, 1, rng.range(0, 40), rng.range(0, 270)]))]);
    this.sendRaw(bytes, 'random');
  }

  pickOpenChannel(): number {
    const open = [...this.open];
    return open.length && this.rng.chance(0.9) ? this.rng.pick(open) : this.rng.range(0, 19);
  }

  mutatedCase(): void {
    const { command, ins } = wellFormed({ rng: this.rng, scp: this.scp, channel: this.pickOpenChannel() });
    bump(this.#run.stats.byInstruction, INSTRUCTIONS[ins] ?? 'other');
    const m = this.rng.chance(0.15) ? { bytes: encodeCommand(command), what: ['(unmutated)'] } : mutate(command, this.rng);
    this.sendRaw(m.bytes, 'mutated', m.what);
  }

  /** A mutated plaintext wrapped in the session (or a corrupted wrapped command); false if none could be sent. */
  sessionCase(): boolean {
    if (!this.session?.alive && !this.openSession()) {
      // Locked, terminated, or keys changed by the fuzz itself: carry on with a new card.
      if (++this.#sessionFailuresInARow >= 4) this.freshCard();
      return false;
    }
    this.#sessionFailuresInARow = 0;
    const s = this.session!;
    const { rng } = this;
    if (s.queue.length === 0 && rng.chance(0.08)) s.queue.push(...this.scenario(s));
    let plain: CommandApdu;
    let mutations: string[] = [];
    let ins: number;
    if (s.queue.length) {
      plain = s.queue.shift()!;
      ins = plain.ins;
      mutations.push('(scenario)');
    } else {
      let g = wellFormed({ rng, scp: s.scp, channel: s.channel, encryptKey: (k) => s.host.encryptKeyData(k) });
      for (let n = 0; n < 3 && LEAVES_SESSION.has(g.ins) && rng.chance(0.9); n++) {
        g = wellFormed({ rng, scp: s.scp, channel: s.channel, encryptKey: (k) => s.host.encryptKeyData(k) });
      }
      plain = g.command;
      ins = g.ins;
    }
    const count = s.queue.length ? (rng.chance(0.1) ? 1 : 0) : rng.weighted([[3, 0], [5, 1], [2, 2]] as const);
    for (let n = 0; n < count; n++) {
      const m = mutateCommand(plain, rng, true);
      plain = m.command;
      mutations.push(m.what);
    }
    bump(this.#run.stats.byInstruction, INSTRUCTIONS[ins] ?? 'other');
    if (rng.chance(0.08) && !LEAVES_SESSION.has(plain.ins)) return this.corruptedCase(s, plain, mutations);
    if (mutations.length === 0) mutations = ['(unmutated)'];
    const r = this.sendWrapped(plain, 'secure-channel', mutations);
    if (r === undefined && s.alive) {
      // The host would not wrap it (too long for the level, …): send the plaintext raw instead.
      this.sendRaw(encodeCommand(plain), 'secure-channel', [...mutations, '(not wrappable: sent raw)']);
    }
    return true;
  }

  /** Command sequences that only make sense in order: a load, a personalisation, GET STATUS paging. */
  scenario(s: Session): CommandApdu[] {
    const { rng } = this;
    const on = (c: CommandApdu) => onChannel(c, s.channel);
    return rng.weighted<() => CommandApdu[]>([
      [2, () => [
        on(buildInstallForLoad({ loadFileAid: fromHex(AIDS.NEW_ELF) })),
        ...loadBlocks(rng).map(on),
        on(buildInstallForInstall({ makeSelectable: true, loadFileAid: fromHex(AIDS.NEW_ELF), moduleAid: fromHex(AIDS.NEW_ELF + '01'), applicationAid: fromHex(AIDS.NEW_ELF + '0101'), privileges: encodePrivileges(new Set()), parameters: encodeInstallParameters({}) })),
      ]],
      [2, () => [on(buildInstallForPersonalization(fromHex(rng.pick([AIDS.ECHO1, AIDS.ECHO2])))), on(buildStoreData(encodeTlv(0x42, rng.bytes(3)), 0, false, { format: 'ber' })), on(buildStoreData(encodeTlv(0x45, rng.bytes(2)), 1, true, { format: 'ber' }))]],
      [1, () => [on(fromHexCommand('80F24002024F0000')), on(fromHexCommand('80F24003024F0000')), on(fromHexCommand('80F21002024F0000'))]],
    ])();
  }

  corruptedCase(s: Session, plain: CommandApdu, mutations: string[]): boolean {
    const { rng } = this;
    let wrapped: Uint8Array;
    try {
      wrapped = s.host.wrapCommand(encodeCommand(plain));
    } catch {
      return false;
    }
    s.alive = false;
    const leLength = decodeCommand(wrapped).le === undefined ? 0 : wrapped.length > 5 && wrapped[4] === 0 ? 2 : 1;
    if (rng.chance(0.75)) {
      // One bit flipped in INS, P1, P2, Lc, data or C-MAC: the C-MAC covers all of them.
      for (let tries = 0; tries < 8; tries++) {
        const at = rng.range(1, wrapped.length - 1 - leLength);
        const bytes = wrapped.slice();
        bytes[at] = bytes[at]! ^ (1 << rng.int(8));
        if (at === 1 && LEAVES_SESSION.has(bytes[1]!)) continue;
        const malformed = malformedReason(bytes);
        this.send(bytes, {
          generator: 'corrupted-wrap',
          plain: toHex(encodeCommand(plain)),
          mutations: [...mutations, `bit flip at offset ${at} after wrapping`],
          mustRefuse: `bit flip at offset ${at} of a C-MAC protected command`,
          ...(malformed !== undefined ? { malformed } : {}),
        });
        return true;
      }
    }
    const m = mutateBytes(wrapped, rng);
    const malformed = malformedReason(m.bytes);
    this.send(m.bytes, { generator: 'corrupted-wrap', plain: toHex(encodeCommand(plain)), mutations: [...mutations, `${m.what} after wrapping`], ...(malformed !== undefined ? { malformed } : {}) });
    return true;
  }

  churnCase(): void {
    const { rng } = this;
    const action = rng.weighted([[3, 'reset'], [1, 'powercycle'], [2, 'reload'], [4, 'open'], [3, 'close'], [6, 'select'], [2, 'getResponse']] as const);
    if (action === 'reset') this.event('reset');
    if (action === 'powercycle') {
      this.event('powerOff');
      this.event('powerOn');
    }
    if (action === 'reload') this.event('reload');
    const ch = this.pickOpenChannel();
    let c: CommandApdu;
    switch (action) {
      case 'open':
        c = { cla: ch < 4 ? ch : 0x40 | (ch - 4), ins: 0x70, p1: 0x00, p2: rng.chance(0.7) ? 0 : rng.range(1, 19), data: new Uint8Array(0), le: 1 };
        break;
      case 'close': {
        const target = rng.chance(0.8) && this.open.size > 1 ? rng.pick([...this.open].filter((x) => x !== 0)) : rng.range(0, 19);
        c = onChannel({ cla: 0, ins: 0x70, p1: 0x80, p2: rng.chance(0.5) ? target : 0, data: new Uint8Array(0) }, rng.chance(0.5) ? target : ch);
        break;
      }
      case 'getResponse':
        c = onChannel({ cla: 0, ins: 0xc0, p1: 0, p2: 0, data: new Uint8Array(0), le: rng.pick([256, rng.range(1, 255)]) }, ch);
        break;
      default:
        c = onChannel(buildSelect(fromHex(rng.pick([AIDS.ISD, AIDS.SSD, AIDS.ECHO1, AIDS.ECHO2, AIDS.ECHO_ELF, 'A000000151', 'F04F50454E54534D'])), { next: rng.chance(0.2) }), ch);
    }
    this.sendRaw(encodeCommand(c), 'churn', [action]);
  }

  runCase(): void {
    const { rng } = this;
    const stats = this.#run.stats;
    const g = rng.weighted([[20, 'random'], [35, 'mutated'], [30, 'secure-channel'], [15, 'churn']] as const);
    let used: string = g;
    if (g === 'random') this.randomCase();
    else if (g === 'mutated') this.mutatedCase();
    else if (g === 'churn') this.churnCase();
    else if (!this.sessionCase()) {
      used = 'mutated';
      this.mutatedCase();
    }
    bump(stats.byGenerator, used);
  }
}

function fromHexCommand(hex: string): CommandApdu {
  return decodeCommand(fromHex(hex));
}

function maybeMalformed(apdu: Uint8Array): { malformed?: string } {
  const m = malformedReason(apdu);
  return m === undefined ? {} : { malformed: m };
}
