/**
 * The push message that asks an admin agent to open a RAM over HTTP session. On real cards this is the
 * SMS "HTTP administration session triggering" message (Amendment B §3.7, ETSI TS 102 226 §8.2.2);
 * here it travels as a small JSON document over a push channel. Strict parsing: unknown members,
 * wrong types or an oversized message throw `CodecError`.
 */
import { CodecError } from '../../core/errors.ts';

export interface PushTrigger {
  readonly type: 'ram-http-trigger';
  /** Device the trigger is for. */
  readonly deviceId: string;
  /** Monotonic per device on the server side; lets the agent ignore duplicates. */
  readonly id: number;
}

const MAX = 512;

export function encodeTrigger(t: PushTrigger): string {
  return JSON.stringify({ type: t.type, deviceId: t.deviceId, id: t.id });
}

export function parseTrigger(text: string): PushTrigger {
  if (typeof text !== 'string') throw new TypeError('parseTrigger: expected a string');
  if (text.length > MAX) throw new CodecError('OVERLONG', `push message longer than ${MAX} characters`, MAX);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CodecError('BAD_VALUE', 'push message is not JSON', 0);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CodecError('BAD_VALUE', 'push message must be an object', 0);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['type', 'deviceId', 'id'].includes(k)) throw new CodecError('BAD_VALUE', `unknown member ${k.slice(0, 40)}`, 0);
  if (o.type !== 'ram-http-trigger') throw new CodecError('BAD_VALUE', 'type must be ram-http-trigger', 0);
  if (typeof o.deviceId !== 'string' || o.deviceId.length === 0 || o.deviceId.length > 128) throw new CodecError('BAD_VALUE', 'bad deviceId', 0);
  if (typeof o.id !== 'number' || !Number.isSafeInteger(o.id) || o.id < 0) throw new CodecError('BAD_VALUE', 'bad id', 0);
  return { type: 'ram-http-trigger', deviceId: o.deviceId, id: o.id };
}
