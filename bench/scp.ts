/**
 * SCP03 secured round trips per second (Amendment D v1.2 §6.2.4–§6.2.7), level 33 (C-DECRYPTION,
 * R-ENCRYPTION, C-MAC, R-MAC), AES-128, 200 data bytes each way:
 * host wrapCommand → card unwrapCommand → card wrapResponse → host unwrapResponse;
 * compared with a bare loop doing the same AES work straight on node:crypto (2 ECB calls for the ICVs,
 * 2 CBC encryptions and 2 CBC decryptions of 208 bytes, 4 CMACs of 15 blocks with precomputed subkeys).
 * Usage: npx node bench/run.ts scp [seconds per loop, default 2]
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto';
import { encodeCommand } from '../src/apdu/command.ts';
import { aesCmacSubkeys } from '../src/crypto/aes.ts';
import * as scp03 from '../src/scp/scp03/index.ts';
import type { CardSecureChannel, HostSecureChannel } from '../src/scp/channel.ts';

const AID = Uint8Array.of(0xa0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00);

function openPair(): { host: HostSecureChannel; card: CardSecureChannel } {
  const k = (b: number) => Uint8Array.from({ length: 16 }, (_, i) => b + i);
  const keys = { enc: k(0x40), mac: k(0x50), dek: k(0x60) };
  const hostChallenge = new Uint8Array(8).fill(0x11);
  const iu = scp03.cardInitializeUpdate(scp03.buildInitializeUpdate(0, hostChallenge), {
    lookupKeys: () => ({ kvn: 0x30, keys }),
    sequenceCounter: 0,
    kdd: new Uint8Array(10),
    i: 0x70,
    aid: AID,
    random: (n) => new Uint8Array(n),
  });
  const session = scp03.beginHostSession(keys, hostChallenge, scp03.parseInitializeUpdateResponse(iu.response.subarray(0, iu.response.length - 2)));
  const ea = scp03.buildExternalAuthenticate(session, 0x33);
  const card = scp03.cardExternalAuthenticate(iu.pending!, ea.command).channel;
  if (!card) throw new Error('handshake failed');
  return { host: scp03.createHostChannel(session, ea), card };
}

function timeLoop(seconds: number, body: () => void): number {
  for (let i = 0; i < 200; i++) body(); // warm-up
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) body();
    n += 50;
  }
  return n / ((performance.now() - start) / 1000);
}

export default async function (args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 2);
  const data = Uint8Array.from({ length: 200 }, (_, i) => i);
  const command = encodeCommand({ cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0x00, data, le: 256 });
  const response = new Uint8Array(202);
  response.set(data);
  response.set([0x90, 0x00], 200);

  const { host, card } = openPair();
  let check = 0;
  const protocol = timeLoop(seconds, () => {
    const plain = card.unwrapCommand(host.wrapCommand(command));
    const back = host.unwrapResponse(card.wrapResponse(response));
    check += plain.length + back.length;
  });
  if (check === 0) throw new Error('unreachable');

  // Bare: the same AES calls and sizes, no protocol logic — with a prepared key object, as one would
  // write it directly with node:crypto (the protocol code prepares its session keys the same way).
  const keyBytes = Uint8Array.from({ length: 16 }, (_, i) => i);
  const key = createSecretKey(keyBytes);
  const { k1 } = aesCmacSubkeys(keyBytes);
  const iv = new Uint8Array(16);
  const ecb = (input: Uint8Array) => {
    const c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    return Buffer.concat([c.update(input), c.final()]);
  };
  const cbc = (input: Uint8Array, decrypt = false) => {
    const c = (decrypt ? createDecipheriv('aes-128-cbc', key, iv) : createCipheriv('aes-128-cbc', key, iv)).setAutoPadding(false);
    return Buffer.concat([c.update(input), c.final()]);
  };
  const cmac = (message: Uint8Array) => {
    // 15 complete blocks: XOR K1 into the last one, one CBC pass, last block.
    const buf = Uint8Array.from(message);
    for (let i = 0; i < 16; i++) buf[buf.length - 16 + i]! ^= k1[i]!;
    return cbc(buf).subarray(buf.length - 16);
  };
  const block208 = new Uint8Array(208);
  const block240 = new Uint8Array(240);
  const icvBlocks = new Uint8Array(32);
  const bare = timeLoop(seconds, () => {
    ecb(icvBlocks); // host: command + response ICVs
    const enc = cbc(block208); // host: C-DECRYPTION
    cmac(block240); // host: C-MAC
    cmac(block240); // card: C-MAC check
    ecb(icvBlocks); // card: ICVs
    cbc(enc, true); // card: decrypt
    const renc = cbc(block208); // card: R-ENCRYPTION
    cmac(block240); // card: R-MAC
    cmac(block240); // host: R-MAC check
    cbc(renc, true); // host: decrypt
  });

  const ratio = protocol / bare;
  process.stdout.write(
    `scp03 level 33 AES-128, 200 data bytes each way\n` +
      `  protocol round trips/s: ${protocol.toFixed(0)}\n` +
      `  bare node:crypto/s:     ${bare.toFixed(0)}\n` +
      `  ratio protocol/bare:    ${ratio.toFixed(2)} (goal >= 0.50)\n`,
  );
}
