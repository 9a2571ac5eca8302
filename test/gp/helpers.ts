/** Test helpers for the gp layer. */
import assert from 'node:assert/strict';
import { encodeCommand, decodeCommand, type CommandApdu } from '../../src/apdu/command.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { statusWordFor } from '../../src/gp/index.ts';

export const h = fromHex;
export { toHex };

/** Assert the encoded command equals the hex. */
export function assertApdu(cmd: CommandApdu, hex: string): void {
  assert.equal(toHex(encodeCommand(cmd)), hex.replace(/\s/g, '').toUpperCase());
}

/** Decode hex into a command for card-side parsers. */
export function cmd(hex: string): CommandApdu {
  return decodeCommand(fromHex(hex));
}

/** Assert `fn` throws and the card would answer `sw`; optionally the error code. */
export function assertRejects(fn: () => unknown, sw: number, code?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, 'expected an error');
  assert.equal(statusWordFor(thrown).toString(16), sw.toString(16), String(thrown));
  if (code) assert.equal((thrown as { code?: string }).code, code, String(thrown));
}
