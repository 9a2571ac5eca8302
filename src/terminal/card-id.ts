/**
 * The card id the platforms use for a card at the counter: its ICCID, read from the ISD
 * (SELECT with no AID selects the ISD, GPCS 2.3.1 §11.9.2.3; GET DATA '5A', ETSI/GP UICC configuration).
 */
import type { CardChannel } from '../apdu/channel.ts';
import { toHex } from '../core/bytes.ts';
import { buildSelect } from '../gp/select.ts';
import { getData, send } from '../gp/client.ts';
import { parseSimpleDataObject } from '../gp/get-data.ts';
import { TerminalError } from './errors.ts';

export async function readCardId(reader: CardChannel): Promise<string> {
  let data: Uint8Array | undefined;
  try {
    await send(reader, buildSelect(new Uint8Array(0)));
    data = await getData(reader, 0x5a);
  } catch (e) {
    throw new TerminalError('NO_CARD', `cannot read the ICCID of the card in the reader: ${(e as Error).message}`, { cause: e });
  }
  if (data === undefined) throw new TerminalError('NO_CARD', 'the card in the reader has no ICCID (GET DATA 5A)');
  let iccid: Uint8Array;
  try {
    iccid = parseSimpleDataObject(data, 0x5a);
  } catch (e) {
    throw new TerminalError('NO_CARD', 'the card answered GET DATA 5A with something else than an ICCID', { cause: e });
  }
  if (iccid.length < 1 || iccid.length > 10) throw new TerminalError('NO_CARD', `ICCID of ${iccid.length} bytes`);
  return toHex(iccid).toUpperCase();
}
