/**
 * Expanded remote command format of ETSI TS 102 226 §5.2 as carried by RAM over HTTP
 * (GlobalPlatform Card Spec v2.2 Amendment B §3.5/§3.6), tags from ETSI TS 101 220 §7.2:
 *
 * - Command Scripting template: 'AA' (definite length) or 'AE' (indefinite length: 'AE 80' … '00 00'),
 *   holding C-APDU TLVs '22', Immediate Action '81', Error Action '82' and Script Chaining '83'.
 * - Response Scripting template: 'AB' (definite) or 'AF' (indefinite), holding the Number of executed
 *   commands '80' (first, one byte), R-APDU TLVs '23', Immediate Action Response '81', Script Chaining
 *   Response '83' and Bad Format '90' (last; '01' unknown tag, '02' wrong length, '03' length missing).
 *
 * Strict: inside the templates only definite, minimally encoded lengths (1–3 length bytes) and the tags
 * above are accepted; anything else throws `CodecError` with the offset where parsing stopped.
 */
import { CodecError } from '../../core/errors.ts';
import { concat } from '../../core/bytes.ts';
import { encodeLength } from '../../core/tlv.ts';

export const TAG = {
  COMMAND_SCRIPT_DEFINITE: 0xaa,
  RESPONSE_SCRIPT_DEFINITE: 0xab,
  COMMAND_SCRIPT_INDEFINITE: 0xae,
  RESPONSE_SCRIPT_INDEFINITE: 0xaf,
  C_APDU: 0x22,
  R_APDU: 0x23,
  EXECUTED: 0x80,
  IMMEDIATE_ACTION: 0x81,
  ERROR_ACTION: 0x82,
  SCRIPT_CHAINING: 0x83,
  BAD_FORMAT: 0x90,
} as const;

export type LengthForm = 'definite' | 'indefinite';

export type CommandScriptItem =
  | { readonly kind: 'c-apdu'; readonly apdu: Uint8Array }
  | { readonly kind: 'immediate-action'; readonly value: Uint8Array }
  | { readonly kind: 'error-action'; readonly value: Uint8Array }
  | { readonly kind: 'script-chaining'; readonly value: number };

export interface CommandScript {
  readonly form: LengthForm;
  readonly items: readonly CommandScriptItem[];
}

/** Bad Format TLV values (TS 102 226 §5.2.2). */
export const BAD_FORMAT = { 'unknown-tag': 0x01, 'wrong-length': 0x02, 'length-missing': 0x03 } as const;
export type BadFormat = keyof typeof BAD_FORMAT;

export interface ResponseScript {
  readonly form: LengthForm;
  /** Number of executed commands (C-APDUs and immediate actions), TLV '80'. */
  readonly executed: number;
  /** R-APDUs (data ‖ SW1 SW2) in execution order, TLVs '23'. */
  readonly responses: readonly Uint8Array[];
  readonly immediateActionResponse?: number;
  readonly scriptChainingResponse?: number;
  /** Present when the card found the command script malformed, TLV '90'. */
  readonly badFormat?: BadFormat;
}

/** Largest C-APDU/R-APDU carried (extended APDU: 4 + 3 + 65535 + 2 bytes; R-APDU 65536 + 2). */
const MAX_VALUE = 65_546;

// ---------------------------------------------------------------------------------------------- encode

function tlv(tag: number, value: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(tag), encodeLength(value.length), value);
}

function template(definiteTag: number, indefiniteTag: number, form: LengthForm, body: Uint8Array): Uint8Array {
  if (form === 'definite') return tlv(definiteTag, body);
  if (form === 'indefinite') return concat(Uint8Array.of(indefiniteTag, 0x80), body, Uint8Array.of(0x00, 0x00));
  throw new RangeError(`bad length form ${String(form)}`);
}

function assertByte(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${name} must be a byte, got ${v}`);
  return v;
}

/** Encode a command script; a plain array of C-APDUs is shorthand for C-APDU items only. */
export function encodeCommandScript(
  items: readonly (Uint8Array | CommandScriptItem)[],
  form: LengthForm = 'definite',
): Uint8Array {
  if (items.length === 0) throw new RangeError('a command script needs at least one item');
  const parts = items.map((item) => {
    if (item instanceof Uint8Array) item = { kind: 'c-apdu', apdu: item };
    switch (item.kind) {
      case 'c-apdu':
        if (!(item.apdu instanceof Uint8Array) || item.apdu.length < 4 || item.apdu.length > MAX_VALUE) {
          throw new RangeError('a C-APDU has 4 to 65 546 bytes');
        }
        return tlv(TAG.C_APDU, item.apdu);
      case 'immediate-action':
        return tlv(TAG.IMMEDIATE_ACTION, item.value);
      case 'error-action':
        return tlv(TAG.ERROR_ACTION, item.value);
      case 'script-chaining':
        return tlv(TAG.SCRIPT_CHAINING, Uint8Array.of(assertByte(item.value, 'script chaining')));
      default:
        throw new RangeError('unknown command script item');
    }
  });
  return template(TAG.COMMAND_SCRIPT_DEFINITE, TAG.COMMAND_SCRIPT_INDEFINITE, form, concat(...parts));
}

export interface ResponseScriptInit {
  readonly executed: number;
  readonly responses: readonly Uint8Array[];
  readonly immediateActionResponse?: number;
  readonly scriptChainingResponse?: number;
  readonly badFormat?: BadFormat;
}

export function encodeResponseScript(r: ResponseScriptInit, form: LengthForm = 'definite'): Uint8Array {
  assertByte(r.executed, 'executed');
  if (r.responses.length > r.executed) throw new RangeError('more R-APDUs than executed commands');
  const parts: Uint8Array[] = [tlv(TAG.EXECUTED, Uint8Array.of(r.executed))];
  for (const rapdu of r.responses) {
    if (!(rapdu instanceof Uint8Array) || rapdu.length < 2 || rapdu.length > MAX_VALUE) throw new RangeError('an R-APDU has 2 to 65 546 bytes');
    parts.push(tlv(TAG.R_APDU, rapdu));
  }
  if (r.immediateActionResponse !== undefined) parts.push(tlv(TAG.IMMEDIATE_ACTION, Uint8Array.of(assertByte(r.immediateActionResponse, 'immediate action response'))));
  if (r.scriptChainingResponse !== undefined) parts.push(tlv(TAG.SCRIPT_CHAINING, Uint8Array.of(assertByte(r.scriptChainingResponse, 'script chaining response'))));
  if (r.badFormat !== undefined) {
    const v = BAD_FORMAT[r.badFormat];
    if (v === undefined) throw new RangeError(`unknown bad format ${String(r.badFormat)}`);
    parts.push(tlv(TAG.BAD_FORMAT, Uint8Array.of(v)));
  }
  return template(TAG.RESPONSE_SCRIPT_DEFINITE, TAG.RESPONSE_SCRIPT_INDEFINITE, form, concat(...parts));
}

// ---------------------------------------------------------------------------------------------- decode

interface Item {
  readonly tag: number;
  readonly tagOffset: number;
  readonly value: Uint8Array;
}

/** Read one definite-length TLV with a one-byte tag at `o` (end exclusive `end`). */
function readItem(b: Uint8Array, o: number, end: number): { item: Item; next: number } {
  const tagOffset = o;
  const tag = b[o++]!;
  if ((tag & 0x1f) === 0x1f) throw new CodecError('BAD_TAG', `multi-byte tag ${tag.toString(16)} is not allowed in a script`, tagOffset);
  if (o >= end) throw new CodecError('TRUNCATED', 'length expected', o);
  const l0 = b[o]!;
  let length: number;
  if (l0 < 0x80) {
    length = l0;
    o += 1;
  } else if (l0 === 0x80) {
    throw new CodecError('BAD_LENGTH', 'indefinite length inside a script', o);
  } else {
    const n = l0 & 0x7f;
    if (n > 3) throw new CodecError('BAD_LENGTH', `length of ${n} bytes`, o);
    if (o + 1 + n > end) throw new CodecError('TRUNCATED', 'length bytes cut short', o + 1);
    length = 0;
    for (let i = 1; i <= n; i++) length = length * 256 + b[o + i]!;
    const minimal = length < 0x80 ? 0 : length <= 0xff ? 1 : length <= 0xffff ? 2 : 3;
    if (n !== minimal) throw new CodecError('BAD_LENGTH', 'length not minimally encoded', o);
    o += 1 + n;
  }
  if (o + length > end) throw new CodecError('TRUNCATED', `value of ${length} bytes cut short`, o);
  return { item: { tag, tagOffset, value: b.slice(o, o + length) }, next: o + length };
}

/** Split a template (definite or indefinite) into its items. */
function readTemplate(b: Uint8Array, definiteTag: number, indefiniteTag: number, what: string): { form: LengthForm; items: Item[] } {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array`);
  if (b.length === 0) throw new CodecError('TRUNCATED', `${what} expected`, 0);
  const t = b[0]!;
  let form: LengthForm;
  let start: number;
  let end: number;
  if (t === definiteTag) {
    const { item, next } = readItem(b, 0, b.length);
    if (next !== b.length) throw new CodecError('TRAILING_DATA', `bytes after the ${what}`, next);
    form = 'definite';
    start = next - item.value.length;
    end = next;
  } else if (t === indefiniteTag) {
    if (b.length < 2) throw new CodecError('TRUNCATED', 'length expected', 1);
    if (b[1] !== 0x80) throw new CodecError('BAD_LENGTH', `the indefinite-length ${what} must have length byte 80`, 1);
    form = 'indefinite';
    start = 2;
    end = -1; // found while reading
  } else {
    throw new CodecError('BAD_TAG', `${what} tag ${definiteTag.toString(16).toUpperCase()} or ${indefiniteTag.toString(16).toUpperCase()} expected, got ${t.toString(16).toUpperCase()}`, 0);
  }
  const items: Item[] = [];
  let o = start;
  const limit = form === 'definite' ? end : b.length;
  for (;;) {
    if (form === 'definite' && o >= end) break;
    if (form === 'indefinite') {
      if (o >= b.length) throw new CodecError('TRUNCATED', 'end-of-contents 00 00 expected', o);
      if (b[o] === 0x00) {
        if (o + 1 >= b.length) throw new CodecError('TRUNCATED', 'end-of-contents cut short', o + 1);
        if (b[o + 1] !== 0x00) throw new CodecError('BAD_LENGTH', 'end-of-contents must be 00 00', o + 1);
        if (o + 2 !== b.length) throw new CodecError('TRAILING_DATA', `bytes after the ${what}`, o + 2);
        break;
      }
    }
    const { item, next } = readItem(b, o, limit);
    items.push(item);
    o = next;
  }
  return { form, items };
}

function oneByte(item: Item, what: string): number {
  if (item.value.length !== 1) throw new CodecError('BAD_LENGTH', `${what} must be one byte`, item.tagOffset + 1);
  return item.value[0]!;
}

/** Parse a Command Scripting template ('AA' or 'AE'). */
export function decodeCommandScript(bytes: Uint8Array): CommandScript {
  const { form, items } = readTemplate(bytes, TAG.COMMAND_SCRIPT_DEFINITE, TAG.COMMAND_SCRIPT_INDEFINITE, 'Command Scripting template');
  const out: CommandScriptItem[] = items.map((it) => {
    switch (it.tag) {
      case TAG.C_APDU:
        if (it.value.length < 4) throw new CodecError('BAD_VALUE', 'C-APDU shorter than its 4-byte header', it.tagOffset);
        return { kind: 'c-apdu', apdu: it.value };
      case TAG.IMMEDIATE_ACTION:
        return { kind: 'immediate-action', value: it.value };
      case TAG.ERROR_ACTION:
        return { kind: 'error-action', value: it.value };
      case TAG.SCRIPT_CHAINING:
        return { kind: 'script-chaining', value: oneByte(it, 'Script Chaining TLV') };
      default:
        throw new CodecError('BAD_TAG', `unknown tag ${it.tag.toString(16).toUpperCase()} in a Command Scripting template`, it.tagOffset);
    }
  });
  return { form, items: out };
}

/** The C-APDUs of a command script, in order. */
export function scriptApdus(script: CommandScript): Uint8Array[] {
  return script.items.flatMap((i) => (i.kind === 'c-apdu' ? [i.apdu] : []));
}

/** Parse a Response Scripting template ('AB' or 'AF'). */
export function decodeResponseScript(bytes: Uint8Array): ResponseScript {
  const { form, items } = readTemplate(bytes, TAG.RESPONSE_SCRIPT_DEFINITE, TAG.RESPONSE_SCRIPT_INDEFINITE, 'Response Scripting template');
  const first = items[0];
  if (first === undefined || first.tag !== TAG.EXECUTED) {
    throw new CodecError(first === undefined ? 'TRUNCATED' : 'BAD_TAG', 'the Number of executed commands TLV 80 must come first', first?.tagOffset ?? bytes.length);
  }
  const executed = oneByte(first, 'Number of executed commands');
  const responses: Uint8Array[] = [];
  let immediateActionResponse: number | undefined;
  let scriptChainingResponse: number | undefined;
  let badFormat: BadFormat | undefined;
  for (const it of items.slice(1)) {
    if (badFormat !== undefined) throw new CodecError('BAD_TAG', 'the Bad Format TLV 90 must come last', it.tagOffset);
    switch (it.tag) {
      case TAG.R_APDU:
        if (it.value.length < 2) throw new CodecError('BAD_VALUE', 'R-APDU without a status word', it.tagOffset);
        responses.push(it.value);
        break;
      case TAG.IMMEDIATE_ACTION:
        if (immediateActionResponse !== undefined) throw new CodecError('BAD_TAG', 'second Immediate Action Response TLV', it.tagOffset);
        immediateActionResponse = oneByte(it, 'Immediate Action Response');
        break;
      case TAG.SCRIPT_CHAINING:
        if (scriptChainingResponse !== undefined) throw new CodecError('BAD_TAG', 'second Script Chaining Response TLV', it.tagOffset);
        scriptChainingResponse = oneByte(it, 'Script Chaining Response');
        break;
      case TAG.BAD_FORMAT: {
        const v = oneByte(it, 'Bad Format TLV');
        const name = (Object.keys(BAD_FORMAT) as BadFormat[]).find((k) => BAD_FORMAT[k] === v);
        if (name === undefined) throw new CodecError('BAD_VALUE', `unknown Bad Format value ${v}`, it.tagOffset + 2);
        badFormat = name;
        break;
      }
      case TAG.EXECUTED:
        throw new CodecError('BAD_TAG', 'second Number of executed commands TLV', it.tagOffset);
      default:
        throw new CodecError('BAD_TAG', `unknown tag ${it.tag.toString(16).toUpperCase()} in a Response Scripting template`, it.tagOffset);
    }
  }
  if (responses.length > executed) throw new CodecError('BAD_VALUE', `${responses.length} R-APDUs for ${executed} executed commands`, first.tagOffset + 2);
  return {
    form,
    executed,
    responses,
    ...(immediateActionResponse !== undefined ? { immediateActionResponse } : {}),
    ...(scriptChainingResponse !== undefined ? { scriptChainingResponse } : {}),
    ...(badFormat !== undefined ? { badFormat } : {}),
  };
}
