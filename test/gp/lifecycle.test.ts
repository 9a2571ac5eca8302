import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AppLifeCycle,
  CardLifeCycle,
  SdLifeCycle,
  appLifeCycleName,
  canTransitionApp,
  canTransitionCard,
  canTransitionSd,
  cardLifeCycleName,
  lockState,
  sdLifeCycleName,
  elfLifeCycleName,
  isValidAppLifeCycle,
  isValidSdLifeCycle,
  unlockState,
} from '../../src/gp/index.ts';

const isd = { isIsd: true, privileges: new Set<never>() };
const locker = { isIsd: false, privileges: new Set(['CardLock'] as const) };
const terminator = { isIsd: false, privileges: new Set(['CardTerminate'] as const) };
const nobody = { isIsd: false, privileges: new Set<never>() };

test('§11.1.1 Table 11-6 codings and names', () => {
  assert.deepEqual(
    [CardLifeCycle.OP_READY, CardLifeCycle.INITIALIZED, CardLifeCycle.SECURED, CardLifeCycle.CARD_LOCKED, CardLifeCycle.TERMINATED],
    [0x01, 0x07, 0x0f, 0x7f, 0xff],
  );
  assert.equal(cardLifeCycleName(0x0f), 'SECURED');
  assert.equal(cardLifeCycleName(0x03), 'UNKNOWN(03)');
  assert.equal(elfLifeCycleName(0x01), 'LOADED');
});

test('§11.1.1 Tables 11-4, 11-5: application and SD states', () => {
  assert.equal(appLifeCycleName(0x03), 'INSTALLED');
  assert.equal(appLifeCycleName(0x07), 'SELECTABLE');
  assert.equal(appLifeCycleName(0x0f), 'APP_SPECIFIC(0F)');
  assert.equal(appLifeCycleName(0x87), 'LOCKED(SELECTABLE)');
  assert.equal(sdLifeCycleName(0x0f), 'PERSONALIZED');
  assert.equal(sdLifeCycleName(0x83), 'LOCKED');
  assert.equal(lockState(SdLifeCycle.PERSONALIZED), 0x8f);
  assert.equal(unlockState(0x8f), 0x0f);
  assert.equal(isValidAppLifeCycle(0x05), false);
  assert.equal(isValidSdLifeCycle(0x17), false);
  assert.equal(isValidSdLifeCycle(0x83), true);
});

test('§5.1 Figure 5-1: card transitions', () => {
  const { OP_READY, INITIALIZED, SECURED, CARD_LOCKED, TERMINATED } = CardLifeCycle;
  assert.ok(canTransitionCard(OP_READY, INITIALIZED, isd));
  assert.ok(canTransitionCard(OP_READY, SECURED, isd));
  assert.ok(canTransitionCard(INITIALIZED, SECURED, isd));
  assert.ok(!canTransitionCard(INITIALIZED, OP_READY, isd), 'irreversible');
  assert.ok(!canTransitionCard(SECURED, INITIALIZED, isd), 'irreversible');
  assert.ok(!canTransitionCard(INITIALIZED, SECURED, locker));
  assert.ok(canTransitionCard(SECURED, CARD_LOCKED, locker));
  assert.ok(canTransitionCard(CARD_LOCKED, SECURED, locker));
  assert.ok(!canTransitionCard(SECURED, CARD_LOCKED, nobody));
  assert.ok(!canTransitionCard(OP_READY, CARD_LOCKED, isd));
  for (const s of [OP_READY, INITIALIZED, SECURED, CARD_LOCKED]) {
    assert.ok(canTransitionCard(s, TERMINATED, terminator));
    assert.ok(!canTransitionCard(s, TERMINATED, locker));
  }
  assert.ok(!canTransitionCard(TERMINATED, SECURED, isd));
  assert.ok(!canTransitionCard(SECURED, SECURED, isd), 'same state rejected (§11.10.2.2)');
});

test('§5.3.1 Figure 5-2: application transitions', () => {
  const { INSTALLED, SELECTABLE } = AppLifeCycle;
  assert.ok(canTransitionApp(INSTALLED, SELECTABLE, 'am'));
  assert.ok(canTransitionApp(INSTALLED, SELECTABLE, 'dm'));
  assert.ok(!canTransitionApp(INSTALLED, SELECTABLE, 'self'));
  assert.ok(!canTransitionApp(SELECTABLE, INSTALLED, 'am'));
  assert.ok(canTransitionApp(SELECTABLE, 0x0f, 'self'));
  assert.ok(!canTransitionApp(SELECTABLE, 0x0f, 'associatedSd'));
  assert.ok(canTransitionApp(0x0f, 0x8f, 'self'), 'the application may lock itself');
  assert.ok(canTransitionApp(INSTALLED, 0x83, 'globalLock'));
  assert.ok(!canTransitionApp(0x87, 0x07, 'self'), 'only the associated SD or Global Lock unlocks');
  assert.ok(canTransitionApp(0x87, 0x07, ['associatedSd']));
  assert.ok(!canTransitionApp(0x87, 0x03, 'associatedSd'), 'unlock returns to the previous state');
});

test('§5.3.2 Figure 5-3: Security Domain transitions', () => {
  const { INSTALLED, SELECTABLE, PERSONALIZED } = SdLifeCycle;
  assert.ok(canTransitionSd(INSTALLED, SELECTABLE, 'am'));
  assert.ok(canTransitionSd(SELECTABLE, PERSONALIZED, 'self'));
  assert.ok(!canTransitionSd(SELECTABLE, PERSONALIZED, 'am'));
  assert.ok(!canTransitionSd(PERSONALIZED, SELECTABLE, 'self'));
  assert.ok(!canTransitionSd(INSTALLED, PERSONALIZED, 'self'));
  assert.ok(canTransitionSd(PERSONALIZED, 0x8f, 'associatedSd'));
  assert.ok(canTransitionSd(0x8f, PERSONALIZED, 'globalLock'));
  assert.ok(!canTransitionSd(0x8f, PERSONALIZED, 'self'));
});
