/**
 * The record of what a scenario checked: each check names what it looked at, what was expected and what
 * was found. A failed check ends the scenario (ScenarioFailure); the summary lists every check made.
 */
import { isDeepStrictEqual } from 'node:util';
import { randomBytes } from 'node:crypto';
import { toHex } from '../../core/bytes.ts';
import { PROVIDER_AID_PREFIX } from '../../runtime/index.ts';

export interface Check {
  readonly check: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly ok: boolean;
}

export class ScenarioFailure extends Error {
  readonly check: Check;
  constructor(check: Check) {
    super(`check failed: ${check.check}: expected ${JSON.stringify(check.expected)}, got ${JSON.stringify(check.actual)}`);
    this.check = check;
  }
}

export class Checks {
  readonly list: Check[] = [];

  /** Record `actual` against `expected` (deep equality); throws ScenarioFailure when they differ. */
  equal(check: string, actual: unknown, expected: unknown): void {
    const c = { check, expected, actual, ok: isDeepStrictEqual(actual, expected) };
    this.list.push(c);
    if (!c.ok) throw new ScenarioFailure(c);
  }

  /** Record a condition described by `expected` (text). */
  that(check: string, ok: boolean, expected: string, actual: unknown): void {
    const c = { check, expected, actual, ok };
    this.list.push(c);
    if (!ok) throw new ScenarioFailure(c);
  }
}

/** A fresh SSD AID under the provider's permitted prefix (so that scenarios can run again on the same platform). */
export function freshSsdAid(): string {
  return PROVIDER_AID_PREFIX + toHex(new Uint8Array(randomBytes(2))).toUpperCase();
}
