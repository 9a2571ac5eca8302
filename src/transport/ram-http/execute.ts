/**
 * The admin agent's side of a command script (ETSI TS 102 226 §5.2.1/§5.2.2), sans-IO: parse the script,
 * run its C-APDUs one after the other through `process`, stop at the first error status word, and build
 * the Response Scripting template. A malformed script runs nothing and is answered with the Bad Format TLV.
 */
import { CodecError } from '../../core/errors.ts';
import { continuesScript } from '../../apdu/channel.ts';
import { decodeCommandScript, encodeResponseScript, type BadFormat, type LengthForm, type ResponseScriptInit } from './script.ts';

/** The stop rule of a script lives with the CardChannel contract (src/apdu/channel.ts). */
export { continuesScript };

function badFormatOf(e: CodecError): BadFormat {
  if (e.code === 'BAD_TAG') return 'unknown-tag';
  if (e.code === 'TRUNCATED' && e.message.startsWith('length expected')) return 'length-missing';
  return 'wrong-length';
}

export interface ExecutedScript {
  /** The Response Scripting template to POST back. */
  readonly body: Uint8Array;
  readonly response: ResponseScriptInit;
  /** C-APDUs handed to `process`. */
  readonly executed: number;
}

/**
 * Run `script` (bytes of an 'AA'/'AE' template) against `process`. The response uses the same length form
 * as the script (indefinite answers indefinite).
 */
export function executeScript(script: Uint8Array, process: (capdu: Uint8Array) => Uint8Array): ExecutedScript {
  let parsed;
  try {
    parsed = decodeCommandScript(script);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    const form: LengthForm = script[0] === 0xae ? 'indefinite' : 'definite';
    const response = { executed: 0, responses: [], badFormat: badFormatOf(e) };
    return { body: encodeResponseScript(response, form), response, executed: 0 };
  }
  const responses: Uint8Array[] = [];
  for (const item of parsed.items) {
    if (item.kind !== 'c-apdu') continue; // immediate/error actions and chaining are not supported by this agent
    const r = process(item.apdu);
    responses.push(r);
    const sw = r.length >= 2 ? (r[r.length - 2]! << 8) | r[r.length - 1]! : 0x6f00;
    if (!continuesScript(sw)) break;
  }
  const response = { executed: responses.length, responses };
  return { body: encodeResponseScript(response, parsed.form), response, executed: responses.length };
}
