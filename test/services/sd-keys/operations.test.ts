import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../../src/core/bytes.ts';
import { createCard } from '../../../src/card/index.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { createSecurityDomain, extradite, getStatus } from '../../../src/gp/client.ts';
import { GetStatusScope } from '../../../src/gp/registry.ts';
import { generateKeySet, keySetFromHex, decodeKeySet, encodeKeySet, nextKvn } from '../../../src/services/sd-keys/key-set.ts';
import { deliverInitialKeys, findKeySet, openSd, probeKeySet, replaceKeySet } from '../../../src/services/sd-keys/operations.ts';

const ISD = fromHex('A000000151000000');
const SSD = fromHex('A0000001515350415344');
const TEST = '404142434445464748494A4B4C4D4E4F';

for (const scp of [3, 2] as const) {
  test(`SCP0${scp}: deliver initial keys through the ISD (DGI 00B9/8113), extradite, replace, probe`, async () => {
    const card = createCard({ profile: scp === 3 ? 'scp03' : 'scp02', ssdInitialKeys: null });
    const ch = new InProcessChannel(card);
    const isdKeys = keySetFromHex(scp === 3 ? 0x30 : 0x20, scp, TEST, TEST, TEST);
    const isd = await openSd(ch, ISD, isdKeys);
    await createSecurityDomain(isd, { aid: SSD, privileges: ['SecurityDomain'], scp: { id: scp, i: scp === 3 ? 0x70 : 0x55 } });
    const initial = generateKeySet(1, scp);
    assert.equal(await probeKeySet(ch, SSD, initial), 'absent');
    const isd2 = await openSd(ch, ISD, isdKeys);
    await deliverInitialKeys(isd2, SSD, initial);
    await extradite(isd2, SSD, SSD);
    const apps = await getStatus(isd2, GetStatusScope.APPLICATIONS, SSD);
    assert.deepEqual(apps[0]!.associatedSd, SSD);
    assert.equal(await probeKeySet(ch, SSD, initial), 'match');
    assert.equal(await probeKeySet(ch, SSD, { ...generateKeySet(1, scp) }), 'mismatch');
    assert.equal(await probeKeySet(ch, fromHex('A0000001515350415399'), initial), 'no-sd');
    const next = generateKeySet(nextKvn(initial.kvn), scp);
    await replaceKeySet(ch, SSD, initial, next);
    assert.equal(await probeKeySet(ch, SSD, initial), 'absent');
    assert.equal(await probeKeySet(ch, SSD, next), 'match');
    assert.equal(await findKeySet(ch, SSD, [initial, next]), next);
    assert.deepEqual(decodeKeySet(encodeKeySet(next)), next);
  });
}
