/**
 * issue 8 §4: the OTA admin API is scoped. The issuer's scripts pass; a provider reaches only the AIDs the issuer
 * granted it on that card (plus the listed probes); everything else is 403 SCRIPT_NOT_PERMITTED, audited, and
 * nothing reaches the card. MANAGE CHANNEL, other logical channels, SELECT by other means, partial AIDs and a
 * targeted application do not bypass it; a command without a SELECT goes to the application the card has selected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../../src/core/bytes.ts';
import type { FastifyRequest } from 'fastify';
import { buildOtaAdminApi } from '../../../src/services/ota/admin-api.ts';
import { MemoryCardGrants } from '../../../src/services/ota/grants.ts';
import { UNKNOWN, checkProviderScript, logicalChannelOf, selectionAfter } from '../../../src/services/ota/script-scope.ts';
import { rig } from './helpers.ts';

const ISD = 'A000000151000000';
const SSD = 'A0000001515350415344';
const OTHER = 'A0000001515350415345';
const sel = (aid: string, p1 = 0x04, p2 = 0x00) => fromHex(`00A4${p1.toString(16).padStart(2, '0')}${p2.toString(16).padStart(2, '0')}${(aid.length / 2).toString(16).padStart(2, '0')}${aid}00`);
const apdu = (hex: string) => fromHex(hex);
const mine = new Set([SSD]);

test('checkProviderScript: what a provider may send, and the first command refused with its reason', () => {
  const allowed: [string, Uint8Array[], { kind: 'aid'; aid: string } | typeof UNKNOWN, number[]][] = [
    ['own SSD: SELECT + INITIALIZE UPDATE', [sel(SSD), apdu('8050300008' + '00'.repeat(8) + '00')], UNKNOWN, []],
    ['own SSD already selected (tracked)', [apdu('8050300008' + '00'.repeat(8) + '00')], { kind: 'aid', aid: SSD }, []],
    ['probe: SELECT ISD, GET DATA 5A, SELECT an unknown AID', [sel(ISD), apdu('80CA005A00'), sel(OTHER)], UNKNOWN, [0, 2]],
    ['GET DATA 5A with CLA 00', [sel(ISD), apdu('00CA005A00')], UNKNOWN, [0]],
  ];
  for (const [name, script, before, probes] of allowed) assert.deepEqual(checkProviderScript(script, mine, before), { probes }, name);

  const refused: [string, Uint8Array[], { kind: 'aid'; aid: string } | typeof UNKNOWN, number, string][] = [
    ['CPLC from the ISD', [sel(ISD), apdu('80CA9F7F00')], UNKNOWN, 1, `application ${ISD} is not this provider's on this card`],
    ['INITIALIZE UPDATE to the ISD', [sel(ISD), apdu('8050000008' + '11'.repeat(8) + '00')], UNKNOWN, 1, `application ${ISD} is not this provider's on this card`],
    ['ISD selected by the issuer before', [apdu('80CA9F7F00')], { kind: 'aid', aid: ISD }, 0, `application ${ISD} is not this provider's on this card`],
    ['nothing known selected', [apdu('80F21000024F0000')], UNKNOWN, 0, 'no application of this provider is selected: the script must SELECT one first'],
    ['another provider SSD', [sel(OTHER), apdu('80CA006600')], UNKNOWN, 1, `application ${OTHER} is not this provider's on this card`],
    ['MANAGE CHANNEL', [apdu('0070000001')], { kind: 'aid', aid: SSD }, 0, 'MANAGE CHANNEL is not allowed'],
    ['logical channel 1', [sel(SSD), apdu('81CA9F7F00')], UNKNOWN, 1, "CLA '81' addresses another logical channel than the basic one"],
    ['further interindustry channel 5', [apdu('41A4040008' + ISD + '00')], UNKNOWN, 0, "CLA '41' addresses another logical channel than the basic one"],
    ['SELECT by file id', [apdu('00A40000023F00'), apdu('80CA9F7F00')], UNKNOWN, 0, "SELECT with P1 '00': only SELECT by the full AID (P1 '04') is allowed"],
    ['SELECT next occurrence', [sel(SSD, 0x04, 0x02)], UNKNOWN, 0, "SELECT with P2 '02': only the first occurrence is allowed"],
    ['SELECT partial AID', [apdu('00A4040004A0000001'), apdu('80CA9F7F00')], UNKNOWN, 0, 'SELECT without a full AID (5 to 16 bytes)'],
    ['SELECT own, then ISD, then command', [sel(SSD), sel(ISD), apdu('80CA9F7F00')], UNKNOWN, 2, `application ${ISD} is not this provider's on this card`],
  ];
  for (const [name, script, before, index, reason] of refused) {
    assert.deepEqual(checkProviderScript(script, mine, before).refusal, { index, reason }, name);
  }
  assert.deepEqual(checkProviderScript([sel(SSD)], mine, UNKNOWN, fromHex(SSD)).refusal, { index: -1, reason: 'a provider may not target an application (X-Admin-Targeted-Application)' });
  assert.deepEqual([0x00, 0x80, 0x84, 0x01, 0x83, 0x40, 0x4f, 0xc0, 0xff].map(logicalChannelOf), [0, 0, 0, 1, 3, 4, 19, 4, -1]);
});

test('selectionAfter: what the card answered decides the tracked selection', () => {
  const ok = apdu('9000');
  assert.deepEqual(selectionAfter(UNKNOWN, [sel(SSD), apdu('80CA006600')], [ok, ok], false), { kind: 'aid', aid: SSD });
  assert.deepEqual(selectionAfter({ kind: 'aid', aid: SSD }, [sel(ISD)], [apdu('6A82')], false), UNKNOWN, 'a failed SELECT: unknown');
  assert.deepEqual(selectionAfter({ kind: 'aid', aid: SSD }, [sel(ISD), apdu('80CA006600')], [ok], false), UNKNOWN, 'broke off: unknown');
  assert.deepEqual(selectionAfter({ kind: 'aid', aid: SSD }, [apdu('80CA006600')], [ok], true), UNKNOWN, 'a targeted application: unknown');
  // an FCI naming another application than the AID asked for (partial selection): unknown
  assert.deepEqual(selectionAfter(UNKNOWN, [sel(SSD)], [apdu('6F0A8408' + ISD + '9000')], false), UNKNOWN);
  assert.deepEqual(selectionAfter(UNKNOWN, [sel(ISD)], [apdu('6F0A8408' + ISD + '9000')], false), { kind: 'aid', aid: ISD });
});

test('admin API: a provider without a grant gets 403 SCRIPT_NOT_PERMITTED (audited, nothing sent); the probe answers status words only; the issuer grants', async () => {
  const r = await rig({ logApdus: true });
  const refusals: unknown[] = [];
  const grants = new MemoryCardGrants();
  const identify = (req: FastifyRequest) => ({ commonName: String(req.headers['x-test-peer']), fingerprint256: '', serialNumber: '' });
  const app = await buildOtaAdminApi({ ota: r.ota, identify, scriptCallers: ['issuer', 'bank'], grants, auditRefusal: async (x) => void refusals.push(x) });
  const post = (peer: string, apdus: string[], extra: object = {}) =>
    app.inject({ method: 'POST', url: '/devices/dev0/scripts', headers: { 'x-test-peer': peer }, payload: { apdus, ...extra } });
  try {
    const log = () => r.devices[0]!.apduLog!.length;
    // CPLC, ICCID-then-CPLC and INITIALIZE UPDATE from the ISD: refused, nothing reaches the card
    const cases: [string[], object, number, string][] = [
      [['00A4040008' + ISD + '00', '80CA9F7F00'], {}, 1, `apdus[1]: application ${ISD} is not this provider's on this card`],
      [['00A4040008' + ISD + '00', '80CA005A00', '8050000008' + '11'.repeat(8) + '00'], {}, 2, `apdus[2]: application ${ISD} is not this provider's on this card`],
      [['0070000001'], {}, 0, 'apdus[0]: MANAGE CHANNEL is not allowed'],
      [['80CA9F7F00'], { targetAid: ISD }, -1, 'a provider may not target an application (X-Admin-Targeted-Application)'],
    ];
    for (const [apdus, extra, index, detail] of cases) {
      const res = await post('bank', apdus, extra);
      assert.equal(res.statusCode, 403, detail);
      assert.deepEqual([res.json().code, res.json().detail, res.json().index], ['SCRIPT_NOT_PERMITTED', detail, index]);
    }
    assert.equal(log(), 0, 'no refused command reached the card');
    assert.equal(refusals.length, 4);
    assert.deepEqual(refusals[0], { actor: 'bank', deviceId: 'dev0', index: 1, reason: `application ${ISD} is not this provider's on this card` });

    // the listed probe: SELECT ISD (status word only), GET DATA ICCID
    const probe = await post('bank', ['00A4040008' + ISD + '00', '80CA005A00']);
    assert.equal(probe.statusCode, 200);
    const [selectAnswer, iccid] = probe.json().responses as string[];
    assert.equal(selectAnswer, '9000', 'the FCI of an application that is not the caller\'s stays on the card');
    assert.match(iccid!, /^5A[0-9A-F]+9000$/);
    // the card now has the ISD selected: a command without SELECT is the ISD's, refused
    assert.equal((await post('bank', ['80CA9F7F00'])).statusCode, 403);
    // the issuer's scripts pass unchanged
    const issuer = await post('issuer', ['00A4040008' + ISD + '00', '80CA9F7F00']);
    assert.equal(issuer.statusCode, 200);
    assert.match((issuer.json().responses as string[])[0]!, /^6F.*9000$/);

    // grants: the issuer only; then the provider may SELECT its SSD and talk to it
    const put = (peer: string) => app.inject({ method: 'PUT', url: `/v1/devices/dev0/grants/${SSD}`, headers: { 'x-test-peer': peer }, payload: { providerId: 'bank' } });
    assert.equal((await put('bank')).statusCode, 403);
    assert.deepEqual([...(await grants.aidsOf('dev0', 'bank'))], []);
    const granted = await put('issuer');
    assert.equal(granted.statusCode, 200);
    assert.deepEqual(granted.json(), { deviceId: 'dev0', aid: SSD, providerId: 'bank' });
    const before = log();
    const own = await post('bank', ['00A404000A' + SSD + '00', '80CA006600']);
    assert.equal(own.statusCode, 200);
    assert.deepEqual(own.json().responses, ['6A82'], 'sent: the card has no such SSD and stops the script');
    assert.equal(log(), before + 1);
    const del = await app.inject({ method: 'DELETE', url: `/v1/devices/dev0/grants/${SSD}`, headers: { 'x-test-peer': 'issuer' } });
    assert.equal(del.statusCode, 204);
    assert.equal((await post('bank', ['00A404000A' + SSD + '00', '80CA006600'])).statusCode, 403);
  } finally {
    await app.close();
    await r.close();
  }
});
