/**
 * The card fuzzer: random and mutated command APDUs against the secure-element simulator, judged by the oracle
 * in `oracle.ts` (the simulator never crashes, never accepts a malformed command, never changes its persistent
 * state when a command fails, and only ever commits states it can load again).
 *
 * A run is cut into epochs of `epochSize` cases; each epoch builds a fresh card from a seed derived from the
 * run's seed and the epoch number, cycling through four set-ups: SCP03 and SCP02 profiles, each bare and with
 * a Supplementary Security Domain and two echo applets installed through real APDUs. Every case sends one
 * fuzzed APDU, drawn from four generators: fully random bytes; well-formed commands for every instruction,
 * mutated; mutated plaintexts correctly wrapped in an authenticated SCP02/SCP03 session (and, sometimes,
 * corrupted after wrapping); and session churn (resets, power cycles, save/reload of the state, logical
 * channels, SELECT). A finding carries the seed, the case index and the whole APDU history of its card, which
 * `reproduceFinding` replays.
 */
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { SimulatedCard, createCard, defaultCatalogue } from '../../src/card/index.ts';
import { newStats, type CardSetup, type Finding, type FuzzCardOptions, type FuzzCardResult, type TargetFactory } from './card-types.ts';
import { Epoch, type Run } from './epoch.ts';
import { Prng } from './prng.ts';

export type {
  CardSetup,
  Finding,
  FindingKind,
  FuzzCardOptions,
  FuzzCardResult,
  FuzzProgress,
  FuzzStats,
  FuzzTarget,
  TargetFactory,
} from './card-types.ts';

export const simulatorTarget: TargetFactory = (setup, stateJson) =>
  stateJson === undefined
    ? createCard({ profile: setup.profile, random: setup.random })
    : SimulatedCard.fromState(stateJson, defaultCatalogue(), { random: setup.random });

export function fuzzCard(options: FuzzCardOptions): FuzzCardResult {
  const { cases, seed } = options;
  if (!Number.isInteger(cases) || cases < 0) throw new RangeError(`cases: ${cases} is not a non-negative integer`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed: ${seed} is not a 32-bit unsigned integer`);
  const epochSize = options.epochSize ?? 500;
  const every = options.progressEvery ?? 5000;
  const run: Run = {
    seed,
    factory: options.target ?? simulatorTarget,
    stats: newStats(),
    findings: [],
    maxFindings: options.maxFindings ?? 30,
    perKind: new Map(),
  };
  const started = performance.now();
  let first = 0;
  let end = cases;
  if (options.onlyCase !== undefined) {
    if (!Number.isInteger(options.onlyCase) || options.onlyCase < 0) throw new RangeError(`onlyCase: ${options.onlyCase} is not a case index`);
    first = options.onlyCase - (options.onlyCase % epochSize);
    end = options.onlyCase + 1;
  }
  let epoch: Epoch | undefined;
  for (let i = first; i < end; i++) {
    if (epoch === undefined || i % epochSize === 0) {
      epoch = new Epoch(run, Math.floor(i / epochSize), i);
      run.stats.epochs++;
    }
    epoch.caseIndex = i;
    epoch.runCase();
    run.stats.cases++;
    if (options.onProgress && (i + 1 - first) % every === 0) {
      options.onProgress({ done: i + 1 - first, total: end - first, findings: run.stats.findings, elapsedMs: performance.now() - started });
    }
  }
  run.stats.elapsedMs = performance.now() - started;
  return { cases: run.stats.cases, failures: run.findings, stats: run.stats };
}

/** Replay a finding's history on a new card; returns the last response (hex) or what went wrong. */
export function reproduceFinding(finding: Finding, factory: TargetFactory = simulatorTarget): { response?: string; error?: string } {
  const setup: CardSetup = { profile: finding.profile, apps: finding.apps, random: new Prng(finding.cardSeed).source() };
  let card = factory(setup);
  let last: { response?: string; error?: string } = {};
  for (const step of finding.history) {
    try {
      if (step === 'powerOn') card.powerOn();
      else if (step === 'reset') card.reset();
      else if (step === 'powerOff') card.powerOff();
      else if (step === 'reload') {
        card = factory(setup, card.serialize());
        card.powerOn();
      } else last = { response: toHex(card.process(fromHex(step))) };
    } catch (e) {
      last = { error: (e as Error)?.message ?? String(e) };
    }
  }
  return last;
}
