/** Printing of registry listings and card information for `opentsm gp`. */
import { toHex } from '../core/bytes.ts';
import type { CardChannel } from '../apdu/channel.ts';
import * as gp from '../gp/index.ts';
import type { RegistryEntry } from '../gp/registry.ts';

type Out = (line: string) => void;

function entryLines(kind: string, e: RegistryEntry, state: string, out: Out): void {
  out(`${kind}: ${toHex(e.aid)} (${state})`);
  if (e.privileges && e.privileges.size > 0) out(`     Privs:   ${gp.formatPrivileges(e.privileges)}`);
  if (e.associatedSd) out(`     Parent:  ${toHex(e.associatedSd)}`);
  if (e.loadFileAid) out(`     From:    ${toHex(e.loadFileAid)}`);
  if (e.loadFileVersion) out(`     Version: ${[...e.loadFileVersion].join('.')}`);
  for (const m of e.moduleAids ?? []) out(`     Module:  ${toHex(m)}`);
}

export function printRegistry(r: { isd: RegistryEntry[]; applications: RegistryEntry[]; loadFiles: RegistryEntry[] }, out: Out): void {
  for (const e of r.isd) entryLines('ISD', e, gp.cardLifeCycleName(e.lifeCycle), out);
  for (const e of r.applications) {
    const isSd = e.privileges?.has('SecurityDomain') ?? false;
    entryLines(isSd ? 'SSD' : 'APP', e, isSd ? gp.sdLifeCycleName(e.lifeCycle) : gp.appLifeCycleName(e.lifeCycle), out);
  }
  for (const e of r.loadFiles) entryLines('PKG', e, gp.elfLifeCycleName(e.lifeCycle), out);
}

export async function printInfo(ch: CardChannel, atr: Uint8Array | undefined, out: Out): Promise<void> {
  if (atr) out(`ATR: ${toHex(atr)}`);
  const iin = await gp.getData(ch, 0x42);
  if (iin) out(`IIN: ${toHex(gp.parseSimpleDataObject(iin, 0x42))}`);
  const cin = await gp.getData(ch, 0x45);
  if (cin) out(`CIN: ${toHex(gp.parseSimpleDataObject(cin, 0x45))}`);
  const cplc = await gp.getData(ch, 0x9f7f);
  if (cplc) {
    out('CPLC:');
    const fields = gp.parseCplc(cplc);
    for (const [name] of gp.CPLC_FIELDS) out(`  ${name.padEnd(34)} ${toHex(fields[name])}`);
  }
  const cardData = await gp.getData(ch, 0x66);
  if (cardData) {
    const d = gp.parseCardRecognitionData(cardData);
    out('Card recognition data:');
    if (d.gpVersion) out(`  GlobalPlatform ${d.gpVersion.join('.')}`);
    for (const s of d.scp) out(`  SCP${s.id.toString(16).padStart(2, '0')} i=${s.i.toString(16).padStart(2, '0').toUpperCase()}`);
    if (d.cardIdentificationScheme) out('  card identified by IIN and CIN');
  }
  const keyInfo = await gp.getData(ch, 0xe0);
  if (keyInfo) {
    out('Key information:');
    for (const k of gp.parseKeyInformationTemplate(keyInfo)) {
      const comps = k.components.map((c) => `${gp.keyTypeName(c.type)}${c.length ? `-${c.length * 8}` : ''}`).join(', ');
      out(`  KVN ${k.kvn.toString(16).padStart(2, '0').toUpperCase()} key ${k.keyId}: ${comps}`);
    }
  }
}
