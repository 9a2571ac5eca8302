/**
 * Child process of the SIGKILL fault test (test/card/persist-fault.test.ts): a host that rotates the ISD key set
 * of a simulated card kept in a card file (`openCardFile`, the path of `card serve` and `--reader sim:FILE`),
 * through an `InProcessChannel`, for ever — until the parent kills it. Like a platform, it records what it is
 * about to do before doing it (an fsynced journal: `intent N`, then `ack N` once the card answered 9000), and at
 * start it reconciles an open intent by asking the card which of the two key sets it holds.
 *
 * argv: CARD_FILE JOURNAL_FILE. Sends 'rotating' over IPC once the first rotation of this run starts.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { encodeCommand } from '../../../src/apdu/command.ts';
import { decodeResponse } from '../../../src/apdu/response.ts';
import { openCardFile } from '../../../src/cli/card-file.ts';
import { openSecureChannel } from '../../../src/scp/index.ts';
import { InProcessChannel } from '../../../src/transport/in-process.ts';
import { putKeySet } from '../helpers.ts';
import { journalState, keysOf, kvnOf } from './keys.ts';

const [cardFileArg, journalArg] = process.argv.slice(2) as [string | undefined, string | undefined];
if (cardFileArg === undefined || journalArg === undefined) {
  process.stderr.write('usage: rotate-child.ts CARD_FILE JOURNAL_FILE (a child of test/card/persist-fault.test.ts)\n');
  process.exit(2);
}
const cardFile: string = cardFileArg;
const journal: string = journalArg;

function record(line: string): void {
  appendFileSync(journal, `${line}\n`);
  const fd = openSync(journal, 'r+');
  fsyncSync(fd);
  closeSync(fd);
}

const { card } = openCardFile(cardFile, 'scp03');
const channel = new InProcessChannel(card);
channel.powerOn();
const transmit = (apdu: Uint8Array) => channel.transmit(apdu);

async function open(n: number) {
  const k = keysOf(n);
  return openSecureChannel(transmit, { keys: k, kvn: kvnOf(n), level: 0x33, scp: 3 });
}

let { acked, intent } = journalState(existsSync(journal) ? readFileSync(journal, 'utf8') : '');
if (intent > acked) {
  // Reconcile: the card holds intent's keys (its PUT KEY got through) or still acked's.
  try {
    await open(intent);
    record(`ack ${intent}`);
    acked = intent;
  } catch {
    await open(acked);
  }
  channel.reset();
}
let n = acked;
let told = false;
for (;;) {
  const ch = await open(n);
  const next = n + 1;
  record(`intent ${next}`);
  if (!told) {
    process.send?.('rotating');
    told = true;
  }
  const k = keysOf(next);
  const cmd = putKeySet(ch, kvnOf(n), kvnOf(next), [k.enc, k.mac, k.dek]);
  const r = decodeResponse(ch.unwrapResponse(await transmit(ch.wrapCommand(encodeCommand(cmd)))));
  if (r.sw !== 0x9000) throw new Error(`PUT KEY ${next} answered ${r.sw.toString(16)}`);
  record(`ack ${next}`);
  n = next;
  channel.reset();
}
