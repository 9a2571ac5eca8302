/**
 * The provider's applet on the card, through its own SSD's secure channel: the built-in echo applet of the
 * card platform (its load file is on every card; the AIDs below are the catalogue entry the provider knows,
 * as it would know a load file it had loaded). Each operation asks the card first (GET STATUS) so that a
 * repeat after a cut connection does not fail on work already done.
 *
 *   install      INSTALL [for install and make selectable] from the echo load file, as the SSD's application
 *   personalise  INSTALL [for personalization] + STORE DATA (BER-TLV records)
 *   lock/unlock  SET STATUS of the application (suspend / resume)
 *   remove       DELETE of the application
 */
import { concat, equalBytes, fromHex } from '../../core/bytes.ts';
import { encodeTlv } from '../../core/tlv.ts';
import type { CardChannel } from '../../apdu/channel.ts';
import { beginPersonalization, deleteObject, getStatus, installApplication, setApplicationLock, storeData } from '../../gp/client.ts';
import { GetStatusScope, type RegistryEntry } from '../../gp/registry.ts';

/** The echo applet's load file, module and default instance AIDs (card platform catalogue). */
export const ECHO_APPLET = Object.freeze({
  loadFileAid: 'F04F50454E54534D',
  moduleAid: 'F04F50454E54534D01',
  instanceAid: 'F04F50454E54534D0101',
});

/** Application life cycle bit LOCKED (GPCS 2.3.1 Table 11-4). */
const LOCKED = 0x80;

export interface PersoRecord {
  /** BER-TLV tag, 1 or 2 bytes in hex (e.g. `DF01`). */
  readonly tag: string;
  /** Value in hex. */
  readonly value: string;
}

export async function instanceEntry(session: CardChannel, aid: Uint8Array): Promise<RegistryEntry | undefined> {
  return (await getStatus(session, GetStatusScope.APPLICATIONS, aid)).find((e) => equalBytes(e.aid, aid));
}

/** INSTALL the echo applet as `aid` unless the card already has it; true when it was there already. */
export async function installEcho(session: CardChannel, aid: Uint8Array, counter?: number): Promise<boolean> {
  if (await instanceEntry(session, aid)) return true;
  const parameters =
    counter === undefined ? new Uint8Array(0) : Uint8Array.of((counter >>> 24) & 0xff, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff);
  await installApplication(session, {
    loadFileAid: fromHex(ECHO_APPLET.loadFileAid),
    moduleAid: fromHex(ECHO_APPLET.moduleAid),
    aid,
    parameters,
    makeSelectable: true,
  });
  return false;
}

/** The STORE DATA payload: the records as BER-TLV, in order. */
export function persoData(records: readonly PersoRecord[]): Uint8Array {
  return concat(...records.map((r) => encodeTlv(parseInt(r.tag, 16), fromHex(r.value))));
}

/** Personalise `aid` (repeatable: the applet stores each tag's latest value). */
export async function personaliseInstance(session: CardChannel, aid: Uint8Array, records: readonly PersoRecord[]): Promise<void> {
  await beginPersonalization(session, aid);
  await storeData(session, persoData(records), { format: 'ber' });
}

/** Lock or unlock `aid` unless the card shows that state already; true when it did. */
export async function setInstanceLock(session: CardChannel, aid: Uint8Array, locked: boolean): Promise<boolean> {
  const entry = await instanceEntry(session, aid);
  if (!entry) throw new RangeError('the application is not on the card');
  if (((entry.lifeCycle & LOCKED) !== 0) === locked) return true;
  await setApplicationLock(session, aid, locked);
  return false;
}

/** DELETE `aid` unless it is gone already; true when it was gone. */
export async function removeInstance(session: CardChannel, aid: Uint8Array): Promise<boolean> {
  if (!(await instanceEntry(session, aid))) return true;
  await deleteObject(session, aid);
  return false;
}
