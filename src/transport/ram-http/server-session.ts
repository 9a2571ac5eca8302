/**
 * The server side of RAM over HTTP (GlobalPlatform Amendment B §3.3–§3.8) as a state machine
 * without sockets: `handle(request)` takes one authenticated POST of an admin agent and returns the reply
 * (200 with a command script, 204 to end the session, or 4xx problem+json); `enqueue(job)` queues a script
 * for a device. Timers (linger) and the push come in through `RamEndpointOptions`.
 *
 * Sessions and resumption. Every script gets a sequence number, unique per device and never reused, and is
 * sent with `X-Admin-Next-URI: <base>/<session token>/<seq>`; the agent POSTs the script's response there.
 * The server remembers the last request it processed and the reply it gave. An agent that lost the
 * connection repeats its last POST with `X-Admin-Resume: true`: the server recognises the request (same
 * URI, same status and body) and answers with the same reply again instead of processing it twice; a script
 * that was never acknowledged is sent again only when the agent provably did not get it (it repeats the
 * request that script answered). A script whose response is processed is never sent again. A fresh session
 * (no resume) while a script is out fails that script with SESSION_LOST: whether it ran is unknown.
 *
 * Every refused request (bad headers, content type, encoding, unknown session, response to a script never
 * sent) leaves the state untouched. Refusals are RFC 9457 problems; the service that mounts the endpoint (the
 * OTA server, a provider's terminal relay) renders them in its own shape (`RamEndpointOptions.problem`).
 *
 * Used by services/ota (phones over the air) and services/provider/relay (business terminals).
 */
import { CodecError } from '../../core/errors.ts';
import { assertBytes, toHex, equalConstantTime } from '../../core/bytes.ts';
import { systemRandom, type RandomSource } from '../../crypto/random.ts';
import {
  ADMIN_HEADER,
  ADMIN_PROTOCOL,
  CONTENT_TYPE_SCRIPT,
  formatTargetedApplication,
  parseAdminProtocol,
  parseAgentId,
  parseContentType,
  parseResume,
  parseScriptStatus,
} from './headers.ts';
import { encodeCommandScript, decodeResponseScript, type LengthForm } from './script.ts';
import { continuesScript } from './execute.ts';
import { RamServerError as OtaError } from './server-errors.ts';

/** Why the endpoint refuses a request of an admin agent (the problem's `code`). */
export type RamProblemCode =
  | 'BAD_PROTOCOL'
  | 'BAD_AGENT_ID'
  | 'AGENT_MISMATCH'
  | 'BAD_HEADER'
  | 'UNEXPECTED_BODY'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BAD_SCRIPT'
  | 'UNKNOWN_SESSION'
  | 'UNKNOWN_SCRIPT'
  | 'DUPLICATE_RESPONSE'
  | 'RESUME_MISMATCH'
  | 'SUPERSEDED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED';

/** RFC 9457 problem+json media type. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** How the mounting service renders a refusal as an RFC 9457 problem object (its `type` URIs, its fields). */
export type RenderProblem = (status: number, code: RamProblemCode, detail: string, instance: string) => Record<string, unknown>;

/** The default rendering: a plain RFC 9457 problem with `code`. */
export const plainProblem: RenderProblem = (status, code, detail, instance) => ({ type: 'about:blank', title: code, status, detail, instance, code });

/** Most C-APDUs in one script (the response counts them in one byte). */
export const MAX_SCRIPT_COMMANDS = 255;

export interface RamRequest {
  /** Device authenticated by the TLS PSK identity. */
  readonly deviceId: string;
  /** Expected X-Admin-From of that device, when registered. */
  readonly expectedAgentId?: string;
  readonly method: string;
  /** Path and query as received. */
  readonly path: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

export interface RamReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** Problem code for 4xx replies (logging, tests). */
  readonly code?: string;
}

/** A script waiting for, or out at, a device. */
export interface ScriptJob {
  readonly apdus: readonly Uint8Array[];
  readonly targetAid?: Uint8Array;
  /** Set once resolved or rejected; a settled job still out at the device is acknowledged and its result dropped. */
  settled: boolean;
  resolve(responses: Uint8Array[]): void;
  reject(error: Error): void;
}

export interface RamEndpointOptions {
  /** Path of the first POST, e.g. `/ram`. */
  readonly basePath?: string;
  /** How long to hold a reply when nothing is queued before answering 204 (default 1000 ms). */
  readonly lingerMs?: number;
  /** A session with no request for this long no longer counts as live: new work triggers a push (default 30 000 ms). */
  readonly sessionIdleMs?: number;
  /** A push not followed by a session is repeated for new work after this long (default 5000 ms). */
  readonly repushMs?: number;
  readonly scriptForm?: LengthForm;
  readonly random?: RandomSource;
  readonly now?: () => number;
  readonly schedule?: (ms: number, fn: () => void) => () => void;
  /** Called when a device must be woken up. */
  readonly trigger: (deviceId: string) => void;
  /** How refusals are rendered (default `plainProblem`). */
  readonly problem?: RenderProblem;
}

interface Outstanding {
  readonly seq: number;
  readonly job: ScriptJob;
}

interface Session {
  readonly token: string;
  outstanding: Outstanding | undefined;
  /** Key of the last processed request: 'initial' or the seq whose response it carried. */
  lastKey: 'initial' | number;
  /** Status and body of the last processed response (to recognise a repeated one). */
  lastFingerprint: string;
  /** Reply given to the last processed request; undefined while it is being held (linger). */
  lastReply: RamReply | undefined;
  waiter: { resolve: (r: RamReply | Promise<RamReply>) => void; cancel: () => void } | undefined;
  ended: boolean;
  lastActivity: number;
}

interface DeviceState {
  queue: ScriptJob[];
  session: Session | undefined;
  nextSeq: number;
  /** When the last push went out, if no initial POST came since. */
  pushedAt: number | undefined;
}

const EMPTY = new Uint8Array(0);

function problemReply(render: RenderProblem, status: number, code: RamProblemCode, detail: string, instance: string): RamReply {
  const body = new TextEncoder().encode(JSON.stringify(render(status, code, detail, instance)));
  return { status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'x-admin-protocol': ADMIN_PROTOCOL }, body, code };
}

export class RamEndpoint {
  readonly basePath: string;
  readonly #lingerMs: number;
  readonly #problem: RenderProblem;
  readonly #idleMs: number;
  readonly #repushMs: number;
  readonly #form: LengthForm;
  readonly #random: RandomSource;
  readonly #now: () => number;
  readonly #schedule: (ms: number, fn: () => void) => () => void;
  readonly #trigger: (deviceId: string) => void;
  readonly #devices = new Map<string, DeviceState>();
  /** Counters for tests and benchmarks. */
  readonly stats = { scriptsSent: 0, responsesProcessed: 0, replays: 0, refused: 0, sessions: 0, pushes: 0 };

  constructor(options: RamEndpointOptions) {
    this.basePath = options.basePath ?? '/ram';
    if (!/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/.test(this.basePath)) throw new RangeError('basePath must be an absolute path without a trailing slash');
    this.#lingerMs = options.lingerMs ?? 1000;
    this.#problem = options.problem ?? plainProblem;
    this.#idleMs = options.sessionIdleMs ?? 30_000;
    this.#repushMs = options.repushMs ?? 5000;
    this.#form = options.scriptForm ?? 'definite';
    this.#random = options.random ?? systemRandom;
    this.#now = options.now ?? Date.now;
    this.#schedule =
      options.schedule ??
      ((ms, fn) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      });
    this.#trigger = options.trigger;
  }

  #state(deviceId: string): DeviceState {
    let s = this.#devices.get(deviceId);
    if (!s) {
      s = { queue: [], session: undefined, nextSeq: 1, pushedAt: undefined };
      this.#devices.set(deviceId, s);
    }
    return s;
  }

  /** Queue a script for a device; wakes the device up (push) unless a live session will pick it up. */
  enqueue(deviceId: string, job: ScriptJob): void {
    const st = this.#state(deviceId);
    st.queue.push(job);
    const s = st.session;
    if (s?.waiter) {
      const w = s.waiter;
      s.waiter = undefined;
      w.cancel();
      w.resolve(this.#next(st, s));
      return;
    }
    const now = this.#now();
    const live = s !== undefined && !s.ended && now - s.lastActivity < this.#idleMs;
    if (!live && (st.pushedAt === undefined || now - st.pushedAt >= this.#repushMs)) {
      st.pushedAt = now;
      this.stats.pushes++;
      this.#trigger(deviceId);
    }
  }

  /**
   * Queue `apdus` as one script for `deviceId` and resolve with its R-APDUs; a script not answered within
   * `timeoutMs` of queueing is dropped from the queue (if still there) and rejects with OtaError('TIMEOUT').
   * Bad arguments reject with RangeError and queue nothing. (Used by the OTA server and the provider's
   * terminal relay, which both drive an admin agent with this endpoint.)
   */
  submit(deviceId: string, apdus: readonly Uint8Array[], options: { readonly targetAid?: Uint8Array; readonly timeoutMs: number }): Promise<Uint8Array[]> {
    if (!Array.isArray(apdus) || apdus.length === 0 || apdus.length > MAX_SCRIPT_COMMANDS) {
      return Promise.reject(new RangeError(`a script has 1 to ${MAX_SCRIPT_COMMANDS} C-APDUs`));
    }
    for (const a of apdus) if (!(a instanceof Uint8Array) || a.length < 4) return Promise.reject(new RangeError('a C-APDU has at least 4 bytes'));
    if (options.targetAid !== undefined) {
      try {
        assertBytes(options.targetAid, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 'targetAid');
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const timeoutMs = options.timeoutMs;
    return new Promise<Uint8Array[]>((resolve, reject) => {
      let cancelTimer: (() => void) | undefined;
      const job: ScriptJob = {
        apdus: apdus.map((a) => a.slice()),
        ...(options.targetAid !== undefined ? { targetAid: options.targetAid.slice() } : {}),
        settled: false,
        resolve: (r) => {
          cancelTimer?.();
          resolve(r);
        },
        reject: (e) => {
          cancelTimer?.();
          reject(e);
        },
      };
      cancelTimer = this.#schedule(timeoutMs, () => {
        if (job.settled) return;
        job.settled = true;
        this.dequeue(deviceId, job);
        reject(new OtaError('TIMEOUT', `device ${deviceId} did not answer within ${timeoutMs} ms`, { deviceId }));
      });
      this.enqueue(deviceId, job);
    });
  }

  /** Drop a job that is still queued (time-out); returns whether it was. */
  dequeue(deviceId: string, job: ScriptJob): boolean {
    const st = this.#devices.get(deviceId);
    if (!st) return false;
    const i = st.queue.indexOf(job);
    if (i < 0) return false;
    st.queue.splice(i, 1);
    return true;
  }

  /** Fail every job and answer held replies with 204 (server shutdown). */
  closeAll(error: Error): void {
    for (const st of this.#devices.values()) {
      for (const j of st.queue.splice(0)) settle(j, error);
      const s = st.session;
      if (s?.outstanding) settle(s.outstanding.job, error);
      if (s?.waiter) {
        const w = s.waiter;
        s.waiter = undefined;
        w.cancel();
        w.resolve({ status: 204, headers: { 'x-admin-protocol': ADMIN_PROTOCOL }, body: EMPTY });
      }
    }
  }

  /** Pending work of a device (tests, stats). */
  pending(deviceId: string): { queued: number; outstandingSeq: number | undefined; session: boolean } {
    const st = this.#devices.get(deviceId);
    return { queued: st?.queue.length ?? 0, outstandingSeq: st?.session?.outstanding?.seq, session: st?.session !== undefined && !st.session.ended };
  }

  async handle(req: RamRequest): Promise<RamReply> {
    const r = this.#handle(req);
    if (r instanceof Promise) return r;
    if (r.status >= 400) this.stats.refused++;
    return r;
  }

  #handle(req: RamRequest): RamReply | Promise<RamReply> {
    const path = req.path.split('?')[0]!;
    const refuse = (status: number, code: RamProblemCode, detail: string) => problemReply(this.#problem, status, code, detail, path);
    if (req.method !== 'POST') return { ...refuse(405, 'METHOD_NOT_ALLOWED', 'RAM over HTTP takes POST only'), headers: { 'content-type': PROBLEM_CONTENT_TYPE, allow: 'POST' } };
    // Path first: which request is this?
    let key: 'initial' | { token: string; seq: number };
    if (path === this.basePath) key = 'initial';
    else {
      const m = /^\/([0-9a-f]{32})\/([1-9][0-9]{0,14})$/.exec(path.slice(this.basePath.length));
      if (!path.startsWith(this.basePath + '/') || !m) return refuse(404, 'NOT_FOUND', 'no such RAM over HTTP resource');
      key = { token: m[1]!, seq: Number(m[2]) };
    }
    // Headers every agent request carries.
    const h = req.headers;
    try {
      parseAdminProtocol(h[ADMIN_HEADER.protocol] ?? '');
    } catch (e) {
      return refuse(400, 'BAD_PROTOCOL', `X-Admin-Protocol: ${ADMIN_PROTOCOL} required (${(e as Error).message})`);
    }
    const from = h[ADMIN_HEADER.from];
    try {
      parseAgentId(from ?? '');
    } catch (e) {
      return refuse(400, 'BAD_AGENT_ID', `X-Admin-From: ${(e as Error).message}`);
    }
    if (req.expectedAgentId !== undefined && from!.trim() !== req.expectedAgentId) {
      return refuse(403, 'AGENT_MISMATCH', 'X-Admin-From is not the agent registered for this PSK identity');
    }
    let resume = false;
    if (h[ADMIN_HEADER.resume] !== undefined) {
      try {
        resume = parseResume(h[ADMIN_HEADER.resume]!);
      } catch (e) {
        return refuse(400, 'BAD_HEADER', (e as Error).message);
      }
    }
    const st = this.#state(req.deviceId);
    return key === 'initial' ? this.#initial(st, req, resume, refuse) : this.#response(st, req, key, resume, refuse);
  }

  #initial(
    st: DeviceState,
    req: RamRequest,
    resume: boolean,
    refuse: (status: number, code: RamProblemCode, detail: string) => RamReply,
  ): RamReply | Promise<RamReply> {
    if (req.body.length !== 0) return refuse(400, 'UNEXPECTED_BODY', 'the first POST of a session carries no body');
    const s = st.session;
    if (resume && s && !s.ended) {
      if (s.lastKey !== 'initial') return refuse(409, 'RESUME_MISMATCH', 'the session already went past its first request; resume with the last request');
      s.lastActivity = this.#now();
      return this.#replay(st, s);
    }
    // A fresh session. A script still out may or may not have run: its caller must reconcile.
    if (s && !s.ended) {
      if (s.outstanding) {
        settle(s.outstanding.job, new OtaError('SESSION_LOST', 'the admin agent started a new session while a script was out', { deviceId: req.deviceId }));
      }
      if (s.waiter) {
        const w = s.waiter;
        s.waiter = undefined;
        w.cancel();
        w.resolve(problemReply(this.#problem, 409, 'SUPERSEDED', 'a newer request of this agent took over', this.basePath));
      }
    }
    const fresh: Session = {
      token: toHex(this.#random(16)).toLowerCase(),
      outstanding: undefined,
      lastKey: 'initial',
      lastFingerprint: '',
      lastReply: undefined,
      waiter: undefined,
      ended: false,
      lastActivity: this.#now(),
    };
    st.session = fresh;
    st.pushedAt = undefined;
    this.stats.sessions++;
    return this.#next(st, fresh);
  }

  #response(
    st: DeviceState,
    req: RamRequest,
    key: { token: string; seq: number },
    resume: boolean,
    refuse: (status: number, code: RamProblemCode, detail: string) => RamReply,
  ): RamReply | Promise<RamReply> {
    const s = st.session;
    const enc = new TextEncoder();
    if (!s || !equalConstantTime(enc.encode(s.token), enc.encode(key.token))) return refuse(404, 'UNKNOWN_SESSION', 'no such administration session');
    const statusHeader = req.headers[ADMIN_HEADER.scriptStatus];
    if (statusHeader === undefined) return refuse(400, 'BAD_HEADER', 'X-Admin-Script-Status required');
    let status;
    try {
      status = parseScriptStatus(statusHeader);
    } catch (e) {
      return refuse(400, 'BAD_HEADER', (e as Error).message);
    }
    let parsed;
    if (status === 'ok') {
      const ct = req.headers['content-type'];
      let kind: string | undefined;
      try {
        kind = parseContentType(ct ?? '');
      } catch {
        kind = undefined;
      }
      if (kind !== 'response') return refuse(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type application/vnd.globalplatform.card-content-mgt-response;version=1.0 required');
      try {
        parsed = decodeResponseScript(req.body);
      } catch (e) {
        if (e instanceof CodecError) return refuse(400, 'BAD_SCRIPT', `response script: ${e.message}`);
        throw e;
      }
    } else if (req.body.length !== 0) {
      return refuse(400, 'UNEXPECTED_BODY', `X-Admin-Script-Status ${status} carries no response script`);
    }
    const fingerprint = `${status}:${toHex(req.body)}`;
    const out = s.outstanding;
    if (out && key.seq === out.seq && !s.ended) {
      // The response to the script that is out: check it fits that script before anything changes.
      if (parsed) {
        const n = out.job.apdus.length;
        if (parsed.badFormat === undefined) {
          if (parsed.executed < 1 || parsed.executed > n || parsed.responses.length !== parsed.executed) {
            return refuse(400, 'BAD_SCRIPT', `${parsed.responses.length} R-APDUs / ${parsed.executed} executed for a script of ${n} commands`);
          }
          if (parsed.executed < n) {
            const last = parsed.responses[parsed.responses.length - 1]!;
            const sw = (last[last.length - 2]! << 8) | last[last.length - 1]!;
            if (continuesScript(sw)) return refuse(400, 'BAD_SCRIPT', 'the script stopped after a status word that does not stop it');
          }
        } else if (parsed.executed !== 0 || parsed.responses.length !== 0) {
          return refuse(400, 'BAD_SCRIPT', 'a Bad Format response executes nothing');
        }
      }
      s.outstanding = undefined;
      s.lastKey = key.seq;
      s.lastFingerprint = fingerprint;
      s.lastActivity = this.#now();
      this.stats.responsesProcessed++;
      if (!parsed) {
        settle(out.job, new OtaError('SCRIPT_STATUS', `the admin agent answered X-Admin-Script-Status: ${status}`, { deviceId: req.deviceId, scriptStatus: status }));
      } else if (parsed.badFormat !== undefined) {
        settle(out.job, new OtaError('BAD_FORMAT', `the admin agent found the script malformed (${parsed.badFormat})`, { deviceId: req.deviceId }));
      } else {
        settle(out.job, parsed.responses.map((r) => r.slice()));
      }
      return this.#next(st, s);
    }
    if (key.seq === s.lastKey) {
      if (!resume) return refuse(409, 'DUPLICATE_RESPONSE', 'this response was processed already; repeat it with X-Admin-Resume: true');
      if (fingerprint !== s.lastFingerprint) return refuse(409, 'DUPLICATE_RESPONSE', 'a different response to a script already answered');
      s.lastActivity = this.#now();
      return this.#replay(st, s);
    }
    return refuse(409, 'UNKNOWN_SCRIPT', `script ${key.seq} is not out at this agent`);
  }

  /** Same reply again for a repeated request; a held reply moves to the new connection. */
  #replay(st: DeviceState, s: Session): RamReply | Promise<RamReply> {
    this.stats.replays++;
    if (s.lastReply) return s.lastReply;
    if (s.waiter) {
      const old = s.waiter;
      return new Promise<RamReply>((resolve) => {
        s.waiter = { resolve, cancel: old.cancel };
        old.resolve(problemReply(this.#problem, 409, 'SUPERSEDED', 'a newer request of this agent took over', this.basePath));
      });
    }
    return this.#next(st, s);
  }

  /** Decide the reply after a processed request: the next script, a held reply (linger), or 204. */
  #next(st: DeviceState, s: Session): RamReply | Promise<RamReply> {
    let job: ScriptJob | undefined;
    while ((job = st.queue.shift()) !== undefined && job.settled);
    if (job) {
      const seq = st.nextSeq++;
      const script = encodeCommandScript(job.apdus as Uint8Array[], this.#form);
      const headers: Record<string, string> = {
        'x-admin-protocol': ADMIN_PROTOCOL,
        'x-admin-next-uri': `${this.basePath}/${s.token}/${seq}`,
        'content-type': CONTENT_TYPE_SCRIPT,
      };
      if (job.targetAid) headers['x-admin-targeted-application'] = formatTargetedApplication(job.targetAid);
      s.outstanding = { seq, job };
      this.stats.scriptsSent++;
      return (s.lastReply = { status: 200, headers, body: script });
    }
    if (this.#lingerMs > 0) {
      s.lastReply = undefined;
      return new Promise<RamReply>((resolve) => {
        const cancel = this.#schedule(this.#lingerMs, () => {
          if (s.waiter?.cancel !== cancel) return;
          const w = s.waiter;
          s.waiter = undefined;
          w.resolve(this.#end(s));
        });
        s.waiter = { resolve, cancel };
      });
    }
    return this.#end(s);
  }

  #end(s: Session): RamReply {
    s.ended = true;
    return (s.lastReply = { status: 204, headers: { 'x-admin-protocol': ADMIN_PROTOCOL }, body: EMPTY });
  }
}

function settle(job: ScriptJob, result: Uint8Array[] | Error): void {
  if (job.settled) return;
  job.settled = true;
  if (result instanceof Error) job.reject(result);
  else job.resolve(result);
}
