/**
 * The card fuzzer inside the test suite (issue: "a 5 000-case version inside the tests"): the simulator never
 * crashes, never accepts a malformed command, never changes its persistent state when a command fails, and
 * only commits states it can load again. The full run is `npm run fuzz -- card` (100 000 cases).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzCard, type Finding } from '../../scripts/fuzz/card.ts';

const SEED = 0x0b5e55ed;

function describe(f: Finding): string {
  return `${f.kind} at case ${f.caseIndex} (${f.profile}${f.apps ? '+apps' : ''}, ${f.generator}): ${f.message}\n  command ${f.command}${f.plain ? `\n  plaintext ${f.plain}` : ''}\n  response ${f.response ?? '-'}`;
}

test('card fuzz: 5 000 random and mutated APDUs (fixed seed), no findings', () => {
  const result = fuzzCard({ cases: 5000, seed: SEED });
  assert.equal(result.cases, 5000);
  // The run reaches what it is meant to reach: every generator, secure channels on both protocols, the oracle.
  for (const g of ['random', 'mutated', 'secure-channel', 'churn']) assert.ok((result.stats.byGenerator[g] ?? 0) > 300, `generator ${g}`);
  assert.ok(result.stats.sessionsOpened > 300, 'secure channels opened');
  assert.ok(result.stats.malformed > 1000, 'malformed commands judged');
  assert.ok(result.stats.mustRefuse > 500, 'must-refuse commands judged');
  assert.ok(result.stats.stateChanges > 300, 'state changes checked');
  assert.ok((result.stats.sw['9000'] ?? 0) > 1000, 'commands that succeed');
  assert.equal(result.stats.findings, 0, `${result.stats.findings} findings:\n${result.failures.map(describe).join('\n')}`);
});

test('card fuzz: deterministic — same seed, same statistics; --case re-runs one epoch up to that case', () => {
  const a = fuzzCard({ cases: 600, seed: 42 });
  const b = fuzzCard({ cases: 600, seed: 42 });
  assert.deepEqual({ ...a.stats, elapsedMs: 0 }, { ...b.stats, elapsedMs: 0 });
  const c = fuzzCard({ cases: 600, seed: 43 });
  assert.notDeepEqual(c.stats.sw, a.stats.sw);
  const only = fuzzCard({ cases: 0, seed: 42, onlyCase: 520 });
  assert.equal(only.cases, 21); // cases 500..520 of epoch 1
});
