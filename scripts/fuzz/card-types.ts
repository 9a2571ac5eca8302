/**
 * Types of the card fuzzer: what it drives (`FuzzTarget`), what it reports (`Finding`, `FuzzStats`), and its
 * options and result.
 */
import type { ProfileName } from '../../src/card/index.ts';
import type { CardPort } from '../../src/transport/card-port.ts';

export interface FuzzTarget extends CardPort {
  serialize(): string;
}

export interface CardSetup {
  readonly profile: ProfileName;
  /** SSD and echo applets installed at the start of the epoch. */
  readonly apps: boolean;
  /** The card's randomness (deterministic per epoch). */
  readonly random: (n: number) => Uint8Array;
}

/** Builds the card for an epoch, or rebuilds it from saved state (`stateJson`). */
export type TargetFactory = (setup: CardSetup, stateJson?: string) => FuzzTarget;

export type FindingKind =
  | 'crash'
  | 'internal-error'
  | 'short-response'
  | 'invalid-sw'
  | 'malformed-accepted'
  | 'refusal-expected'
  | 'state-changed-on-failure'
  | 'invalid-state'
  | 'setup-failed';

export interface Finding {
  readonly kind: FindingKind;
  readonly message: string;
  readonly seed: number;
  /** Index of the case during which it happened (set-up APDUs count for the first case of their epoch). */
  readonly caseIndex: number;
  readonly epoch: number;
  readonly profile: ProfileName;
  readonly apps: boolean;
  /** Seed of the card's randomness, for `reproduceFinding`. */
  readonly cardSeed: number;
  readonly generator: string;
  readonly mutations: readonly string[];
  /** The command as sent (hex). */
  readonly command: string;
  /** Plaintext of a command sent through the secure channel (hex). */
  readonly plain?: string;
  readonly response?: string;
  /** Everything the card saw since it was made: APDUs (hex) and 'powerOn' / 'reset' / 'powerOff' / 'reload'. */
  readonly history: readonly string[];
}

export interface FuzzStats {
  /** Fuzzed APDUs (cases). */
  cases: number;
  /** Every APDU sent, including set-up and handshakes. */
  apdus: number;
  epochs: number;
  /** Cards made (each epoch's, and replacements for cards the fuzz locked, terminated or re-keyed). */
  cards: number;
  sessionsOpened: number;
  sessionsFailed: number;
  /** Why sessions could not be opened (the card refused, keys changed by PUT KEY, card locked, …). */
  sessionFailures: Record<string, number>;
  /** Commands the oracle classified as malformed (each had to be refused). */
  malformed: number;
  /** Other commands that had to be refused (closed channel, no secure channel, corrupted C-MAC). */
  mustRefuse: number;
  stateChanges: number;
  /** Responses the host side could not unwrap (session then abandoned). */
  unwrapFailures: number;
  findings: number;
  byGenerator: Record<string, number>;
  byInstruction: Record<string, number>;
  sw: Record<string, number>;
  elapsedMs: number;
}

export interface FuzzProgress {
  readonly done: number;
  readonly total: number;
  readonly findings: number;
  readonly elapsedMs: number;
}

export interface FuzzCardOptions {
  readonly cases: number;
  readonly seed: number;
  readonly onProgress?: (p: FuzzProgress) => void;
  /** Cases between progress reports (default 5000). */
  readonly progressEvery?: number;
  /** Cases per fresh card (default 500). */
  readonly epochSize?: number;
  /** Run only the epoch holding this case index, up to it (reproduces a finding from seed and case). */
  readonly onlyCase?: number;
  readonly target?: TargetFactory;
  /** Findings kept in full (default 30; at most 5 per kind). All are counted in `stats.findings`. */
  readonly maxFindings?: number;
}

export interface FuzzCardResult {
  readonly cases: number;
  readonly failures: Finding[];
  readonly stats: FuzzStats;
}

/** Empty statistics. */
export function newStats(): FuzzStats {
  return {
    cases: 0,
    apdus: 0,
    epochs: 0,
    cards: 0,
    sessionsOpened: 0,
    sessionsFailed: 0,
    sessionFailures: {},
    malformed: 0,
    mustRefuse: 0,
    stateChanges: 0,
    unwrapFailures: 0,
    findings: 0,
    byGenerator: {},
    byInstruction: {},
    sw: {},
    elapsedMs: 0,
  };
}

/** Run the card fuzzer. Deterministic for a given seed (and epoch size). */
