/**
 * A small built-in test applet: echo and a persistent counter, personalisable with STORE DATA (BER-TLV),
 * data readable with GET DATA. It exists so that INSTALL, SELECT, SET STATUS and DELETE of applications can
 * be exercised end to end without loading code.
 *
 * Commands (CLA 80):
 *   INS 10 ECHO           → the command data
 *   INS 20 INCREMENT      → the counter after incrementing, 4 bytes (persistent)
 *   INS 22 READ COUNTER   → the counter, 4 bytes
 *   INS CA GET DATA P1P2  → the TLV stored for that tag by personalisation (6A88 when absent)
 * Install parameters (C9): empty, or 4 bytes = the initial counter.
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import { encodeTlv, parseTlvs } from '../../core/tlv.ts';
import type { CommandApdu } from '../../apdu/command.ts';
import type { ResponseApdu } from '../../apdu/response.ts';
import { SW, SwError } from '../errors.ts';
import { Applet, type AppletContext, type InstallArguments } from './applet.ts';

/** Load file, module and suggested instance AIDs of the echo applet (proprietary RID range 'F0'). */
export const ECHO_ELF_AID = 'F04F50454E54534D';
export const ECHO_MODULE_AID = 'F04F50454E54534D01';
export const ECHO_INSTANCE_AID = 'F04F50454E54534D0101';

function u32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function tagKey(tag: number): string {
  const h = tag.toString(16).toUpperCase();
  return h.length % 2 === 1 ? `0${h}` : h;
}

function ok(data: Uint8Array = new Uint8Array(0)): ResponseApdu {
  return { data, sw: SW.OK };
}

export class EchoApplet extends Applet {
  override install(ctx: AppletContext, args: InstallArguments): void {
    if (args.parameters.length !== 0 && args.parameters.length !== 4) {
      throw new SwError(SW.INCORRECT_DATA, 'echo applet: install parameters are empty or a 4-byte counter');
    }
    const p = args.parameters;
    ctx.data['counter'] = p.length === 4 ? ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]! : 0;
    ctx.data['perso'] = {};
  }

  override select(ctx: AppletContext): ResponseApdu {
    return ok(encodeTlv(0x6f, encodeTlv(0x84, ctx.aid)));
  }

  override process(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if ((c.cla & 0x80) === 0 && c.ins !== 0xca) throw new SwError(SW.CLA_NOT_SUPPORTED);
    const counter = typeof ctx.data['counter'] === 'number' ? ctx.data['counter'] : 0;
    switch (c.ins) {
      case 0x10:
        return ok(c.data.slice());
      case 0x20: {
        const next = (counter + 1) >>> 0;
        ctx.data['counter'] = next;
        return ok(u32(next));
      }
      case 0x22:
        return ok(u32(counter));
      case 0xca: {
        const perso = (ctx.data['perso'] ?? {}) as Record<string, string>;
        const tagNumber = c.p1 === 0 ? c.p2 : (c.p1 << 8) | c.p2;
        const value = perso[tagKey(tagNumber)];
        if (value === undefined) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND);
        return ok(encodeTlv(tagNumber, fromHex(value)));
      }
      default:
        throw new SwError(SW.INS_NOT_SUPPORTED);
    }
  }

  override storeData(ctx: AppletContext, data: Uint8Array, p1: number): Uint8Array | undefined {
    if ((p1 & 0x18) !== 0x10) throw new SwError(SW.INCORRECT_P1P2, 'echo applet takes BER-TLV personalisation data');
    let tlvs;
    try {
      tlvs = parseTlvs(data);
    } catch {
      throw new SwError(SW.INCORRECT_DATA);
    }
    const perso = { ...((ctx.data['perso'] ?? {}) as Record<string, string>) };
    for (const t of tlvs) perso[tagKey(t.tag)] = toHex(t.value);
    ctx.data['perso'] = perso;
    return undefined;
  }
}
