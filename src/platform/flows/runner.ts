/**
 * The one flow runner (docs/architecture.md §5 "persisted flows"): every flow that talks to a card runs its steps
 * through `runFlow`, so that recording, resuming and failing mean the same thing in every service.
 *
 * Step loop and record-before-do. A flow is a table of named steps. The runner runs the step the flow record
 * names; the step does its work (APDUs, calls to other platforms) and answers a `StepOutcome`: the next step,
 * the facts to merge into the flow's data, and `commit`, the step's own rows and audit records. The runner
 * writes `commit` and the next step in ONE transaction before it runs that next step, so the database always
 * names a step that has not completed yet. A crash (a thrown error, a killed process, a cut connection) between
 * that record and the next one leaves the flow at the step that was under way; running the flow again resumes
 * there, and the step reconciles by asking the card (FlowStore.isFresh says when it need not).
 * An outcome with `unrecorded` moves on in memory only: for a step whose repetition is harmless (e.g. an
 * idempotent request), whose result is recorded with the next step's.
 *
 * Ends. The loop stops when the flow is `done` (next step 'done'), `waiting` (`wait: true`: something outside
 * the flow moves it on, e.g. a provider fetching its keys) or `failed`.
 *
 * The one failure policy. A failed attempt counts (`attempts` + 1) and its message is kept as the flow's last
 * `error`; then the error is thrown on to the caller. Whether the flow may be tried again:
 *   final      `FlowError` — a decision of the step (NOT_FOUND, NOT_PERMITTED, CONFLICT, BAD_REQUEST, WRONG_STATE,
 *              KEYS_UNKNOWN) or a refusal by the card (CARD_REFUSED) — and `ApduError` STATUS, a status word the
 *              card answered: sending the same APDU again gets the same answer, so the flow is marked `failed`.
 *   retryable  everything else: transport and OTA errors, timeouts, a card that cannot be reached or is busy
 *              with another conversation, a broken secure channel (a cut handshake is opened afresh; keys the
 *              platform does not know end as KEYS_UNKNOWN, which is final), another platform that did not
 *              answer, a storage error. The flow stays `running` at its step; a later request, or the service's
 *              resume at start, runs it again from there.
 */
import { ApduError } from '../../apdu/errors.ts';
import type { Database } from '../storage/database.ts';
import { FlowError } from './errors.ts';
import type { FlowRecord, FlowStore } from './store.ts';

/** The step name that ends a flow. */
export const DONE = 'done';

export interface StepOutcome<D> {
  /** The step to run next; 'done' ends the flow. */
  readonly next: string;
  /** Facts to merge into the flow's data (non-secret: AIDs, key versions, KCVs). */
  readonly data?: Partial<D>;
  /** The flow waits at `next` for something outside it (status `waiting`); the loop stops. */
  readonly wait?: boolean;
  /** The step's own rows and audit records, written in the transaction that records `next`. */
  readonly commit?: (tx: Database) => Promise<void>;
  /** Move on to `next` without recording it (the step is harmless to repeat; `commit` must be absent). */
  readonly unrecorded?: boolean;
}

/** One step: do the work of `flow.step`, answer what comes next. */
export type FlowStep<D> = (flow: FlowRecord<D>) => Promise<StepOutcome<D>>;

/** The steps of a flow by name. */
export type FlowSteps<D> = Readonly<Record<string, FlowStep<D>>>;

export interface FlowRunContext {
  readonly db: Database;
  readonly flows: FlowStore;
}

export type FailureKind = 'final' | 'retryable';

/** The one failure policy (see the header). */
export function failureKind(e: unknown): FailureKind {
  if (e instanceof FlowError) return 'final';
  if (e instanceof ApduError && e.code === 'STATUS') return 'final';
  return 'retryable';
}

/** Record `outcome` of the step `flow` is at: its commit and the next step, in one transaction. */
async function record<D>(ctx: FlowRunContext, flow: FlowRecord<D>, outcome: StepOutcome<D>): Promise<FlowRecord<D>> {
  if (outcome.unrecorded) {
    if (outcome.commit !== undefined || outcome.wait) throw new TypeError('an unrecorded outcome neither commits nor waits');
    return { ...flow, step: outcome.next, data: { ...flow.data, ...outcome.data } as D };
  }
  return ctx.db.transaction(async (tx) => {
    await outcome.commit?.(tx);
    if (outcome.next === DONE) return ctx.flows.finish(flow, outcome.data ?? {}, tx);
    return ctx.flows.advance(flow, outcome.next, outcome.data ?? {}, tx, outcome.wait ? 'waiting' : 'running');
  });
}

/**
 * Run (or resume) `start` until it is done, waits, or fails. A failure is recorded on the flow (attempts,
 * last error, `failed` when final) and thrown.
 */
export async function runFlow<D>(ctx: FlowRunContext, start: FlowRecord<D>, steps: FlowSteps<D>): Promise<FlowRecord<D>> {
  let flow = start;
  try {
    while (flow.status === 'running' && flow.step !== DONE) {
      const step = Object.hasOwn(steps, flow.step) ? steps[flow.step] : undefined;
      if (step === undefined) throw new FlowError('WRONG_STATE', `unknown step ${flow.step}`, flow.step);
      flow = await record(ctx, flow, await step(flow));
    }
    return flow;
  } catch (e) {
    await ctx.flows.recordFailure(flow, e instanceof Error ? e.message : String(e), failureKind(e) === 'final');
    throw e;
  }
}
