/**
 * Persistence of the card state: JSON round trip with identical behaviour, onChange after every commit,
 * transactions (refused commands change nothing), strict validation of hostile files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CardStateError, SimulatedCard, serializeCard } from '../../src/card/index.ts';
import { SSD1, counterRandom, installSsd, newCard, open, raw, sc } from './helpers.ts';

test('save → reload: same GET STATUS, same keys, same sequence counter', async () => {
  const card = newCard();
  const saves: string[] = [];
  card.onChange((json) => saves.push(json));
  const isd = await open(card, 0x03);
  assert.equal(saves.length, 1); // INITIALIZE UPDATE incremented the counter
  assert.equal(sc(card, isd, installSsd(SSD1, ['AuthorizedManagement'])).sw, 0x9000);
  assert.equal(saves.length, 2);
  assert.equal(sc(card, isd, '80F28002024F0000').sw, 0x9000);
  assert.equal(saves.length, 2); // reads commit nothing
  const json = serializeCard(card);
  assert.equal(saves.at(-1), json);

  const copy = SimulatedCard.fromState(json, card.catalogue, { random: counterRandom() });
  copy.powerOn();
  card.reset();
  for (const c of [card, copy]) {
    const ch = await open(c, 0x03);
    assert.equal(sc(c, ch, '80F24002024F0000').data, 'E3294F0BA0000001515353445344019F700107C503804000C407A0000001515350CC08A000000151000000');
    assert.equal(sc(c, ch, '80CA00E000').data, 'E012C00401308810C00402308810C00403308810');
    assert.equal(sc(c, ch, '80CA00C100').data, 'C103000002');
  }
  assert.equal(serializeCard(copy), serializeCard(card));
});

test('a refused command leaves the state (and its JSON) unchanged and fires no onChange', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  const before = card.serialize();
  let fired = 0;
  card.onChange(() => fired++);
  assert.equal(sc(card, isd, installSsd(SSD1, ['DelegatedManagement', 'AuthorizedManagement'])).sw, 0x6a80);
  assert.equal(sc(card, isd, installSsd('A0000001515350', [])).sw, 0x6a80); // AID of a load file
  assert.equal(sc(card, isd, { ...installSsd(SSD1, []), p1: 0x8c }).sw, 0x6a86); // chaining not supported
  assert.equal(card.serialize(), before);
  assert.equal(fired, 0);
});

const hostile: Array<[string, (s: any) => unknown, string]> = [
  ['not JSON', () => '{', 'BAD_JSON'],
  ['wrong format tag', (s) => ({ ...s, format: 'x' }), 'INVALID_STATE'],
  ['future version', (s) => ({ ...s, version: 2 }), 'UNSUPPORTED_VERSION'],
  ['extra field', (s) => ({ ...s, evil: 1 }), 'INVALID_STATE'],
  ['bad hex', (s) => ({ ...s, kdd: 'zz' }), 'INVALID_STATE'],
  ['short KDD', (s) => ({ ...s, kdd: '00' }), 'INVALID_STATE'],
  ['ISD missing', (s) => ({ ...s, apps: [] }), 'INVALID_STATE'],
  ['bad key length', (s) => { s.apps[0].securityDomain.keys[0].value = '00'; return s; }, 'INVALID_STATE'],
  ['duplicate key', (s) => { s.apps[0].securityDomain.keys.push(s.apps[0].securityDomain.keys[0]); return s; }, 'INVALID_STATE'],
  ['counter out of range', (s) => { s.apps[0].securityDomain.sequenceCounters['48'] = 2 ** 40; return s; }, 'INVALID_STATE'],
  ['prototype key', (s) => JSON.stringify(s).replace('"data":{', '"data":{"__proto__":"00",'), 'INVALID_STATE'],
  ['dangling association', (s) => { s.elfs[0].sd = 'A0000000000000'; return s; }, 'INVALID_STATE'],
  ['array instead of object', () => '[]', 'INVALID_STATE'],
  ['CA identifier on an AES key', (s) => { s.apps[0].securityDomain.keys[0].caId = 'C0'; return s; }, 'INVALID_STATE'],
  ['allowlist on an AES key', (s) => { s.apps[0].securityDomain.keys[0].allowlist = ['01']; return s; }, 'INVALID_STATE'],
];

for (const [name, mutate, code] of hostile) {
  test(`hostile state file: ${name} → CardStateError ${code}`, () => {
    const base = JSON.parse(newCard().serialize());
    const out = mutate(base);
    const json = typeof out === 'string' ? out : JSON.stringify(out);
    assert.throws(() => SimulatedCard.fromState(json), (e: unknown) => e instanceof CardStateError && e.code === code);
  });
}

test('reset keeps the persistent state, drops sessions and channels', async () => {
  const card = newCard();
  await open(card, 0x01);
  assert.equal(raw(card, '0070000001').sw, 0x9000);
  const json = card.serialize();
  card.reset();
  assert.equal(card.serialize(), json);
  assert.equal(raw(card, '01CA004200').sw, 0x6881);
  assert.equal(raw(card, '80CA0042' + '00').sw, 0x9000);
});
