/**
 * HTTP headers and media types of RAM over HTTP (GlobalPlatform Card Spec v2.2 Amendment B §3):
 * `X-Admin-Protocol`, `X-Admin-From`, `X-Admin-Next-URI`, `X-Admin-Targeted-Application`,
 * `X-Admin-Script-Status`, `X-Admin-Resume` and the two `card-content-mgt` content types.
 * Parsers are strict and throw `CodecError` with the offset (in characters) where the value went wrong.
 */
import { CodecError } from '../../core/errors.ts';
import { fromHex, toHex } from '../../core/bytes.ts';

export const ADMIN_PROTOCOL = 'globalplatform-remote-admin/1.0';

/** Header names, lower case as node:http delivers them. */
export const ADMIN_HEADER = {
  protocol: 'x-admin-protocol',
  from: 'x-admin-from',
  nextUri: 'x-admin-next-uri',
  targetedApplication: 'x-admin-targeted-application',
  scriptStatus: 'x-admin-script-status',
  resume: 'x-admin-resume',
} as const;

export const MEDIA_TYPE_SCRIPT = 'application/vnd.globalplatform.card-content-mgt';
export const MEDIA_TYPE_RESPONSE = 'application/vnd.globalplatform.card-content-mgt-response';
export const CONTENT_TYPE_SCRIPT = `${MEDIA_TYPE_SCRIPT};version=1.0`;
export const CONTENT_TYPE_RESPONSE = `${MEDIA_TYPE_RESPONSE};version=1.0`;

/**
 * Largest RAM over HTTP request body (a card's response script) a server accepts, in bytes: the one limit the
 * OTA's RAM server and the relay's terminal route enforce and quote in their 413 problem.
 */
export const RAM_MAX_BODY_BYTES = 70_000;

export const SCRIPT_STATUSES = ['ok', 'unknown-application', 'not-a-security-domain', 'security-error'] as const;
export type ScriptStatus = (typeof SCRIPT_STATUSES)[number];

const MAX_HEADER = 1024;

function checkLength(value: string, what: string): void {
  if (typeof value !== 'string') throw new TypeError(`${what}: expected a string`);
  if (value.length === 0) throw new CodecError('TRUNCATED', `${what} is empty`, 0);
  if (value.length > MAX_HEADER) throw new CodecError('OVERLONG', `${what} longer than ${MAX_HEADER} characters`, MAX_HEADER);
}

/** `X-Admin-Protocol`: exactly `globalplatform-remote-admin/1.0` (case-insensitive). */
export function parseAdminProtocol(value: string): '1.0' {
  checkLength(value, 'X-Admin-Protocol');
  const v = value.trim().toLowerCase();
  if (v !== ADMIN_PROTOCOL) {
    const at = [...v].findIndex((c, i) => c !== ADMIN_PROTOCOL[i]);
    throw new CodecError('BAD_VALUE', `X-Admin-Protocol must be ${ADMIN_PROTOCOL}`, at < 0 ? v.length : at);
  }
  return '1.0';
}

/** Which of the two media types a `Content-Type` is; `version=1.0` is required. */
export function parseContentType(value: string): 'script' | 'response' {
  checkLength(value, 'Content-Type');
  const parts = value.split(';');
  const media = parts[0]!.trim().toLowerCase();
  const kind = media === MEDIA_TYPE_SCRIPT ? 'script' : media === MEDIA_TYPE_RESPONSE ? 'response' : undefined;
  if (kind === undefined) throw new CodecError('BAD_VALUE', `unexpected media type ${media.slice(0, 80)}`, 0);
  let version: string | undefined;
  let at = parts[0]!.length + 1;
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq < 0) throw new CodecError('BAD_VALUE', 'media type parameter without "="', at);
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    if (name === 'version') {
      if (version !== undefined) throw new CodecError('BAD_VALUE', 'version given twice', at);
      version = v;
    }
    at += p.length + 1;
  }
  if (version !== '1.0') throw new CodecError('BAD_VALUE', 'media type parameter version=1.0 expected', value.length);
  return kind;
}

/** `X-Admin-Script-Status`. */
export function parseScriptStatus(value: string): ScriptStatus {
  checkLength(value, 'X-Admin-Script-Status');
  const v = value.trim().toLowerCase();
  const s = SCRIPT_STATUSES.find((x) => x === v);
  if (s === undefined) throw new CodecError('BAD_VALUE', `unknown X-Admin-Script-Status ${v.slice(0, 40)}`, 0);
  return s;
}

/** `X-Admin-Resume`: `true` or `false` (case-insensitive). */
export function parseResume(value: string): boolean {
  checkLength(value, 'X-Admin-Resume');
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new CodecError('BAD_VALUE', 'X-Admin-Resume must be true or false', 0);
}

const HEX = /^[0-9A-Fa-f]*$/;

/** `//aid/<RID>/<PIX>` → AID bytes (RID 5 bytes, PIX 0–11 bytes; `//aid/<RID>` when there is no PIX). */
export function parseAidUri(value: string, what = 'X-Admin-Targeted-Application'): Uint8Array {
  checkLength(value, what);
  const v = value.trim();
  const prefix = '//aid/';
  if (v.slice(0, prefix.length).toLowerCase() !== prefix) throw new CodecError('BAD_VALUE', `${what} must start with ${prefix}`, 0);
  const rest = v.slice(prefix.length);
  const slash = rest.indexOf('/');
  const rid = slash < 0 ? rest : rest.slice(0, slash);
  const pix = slash < 0 ? '' : rest.slice(slash + 1);
  if (rid.length !== 10 || !HEX.test(rid)) throw new CodecError('BAD_VALUE', 'RID must be 5 bytes in hex', prefix.length);
  const pixAt = prefix.length + rid.length + 1;
  if (pix.length % 2 !== 0 || pix.length > 22 || !HEX.test(pix)) throw new CodecError('BAD_VALUE', 'PIX must be 0 to 11 bytes in hex', pixAt);
  return fromHex(rid + pix);
}

/** AID → `//aid/<RID>/<PIX>` (upper-case hex; `//aid/<RID>` when the AID is just a RID). */
export function formatAidUri(aid: Uint8Array): string {
  if (!(aid instanceof Uint8Array) || aid.length < 5 || aid.length > 16) throw new RangeError('an AID has 5 to 16 bytes');
  const hex = toHex(aid).toUpperCase();
  return aid.length === 5 ? `//aid/${hex}` : `//aid/${hex.slice(0, 10)}/${hex.slice(10)}`;
}

export const parseTargetedApplication = (value: string): Uint8Array => parseAidUri(value);
export const formatTargetedApplication = formatAidUri;

/** `X-Admin-From`: the agent's identity, `//se-id/<type>/<value>` optionally followed by `;//aa-id/aid/<RID>/<PIX>`. */
export interface AgentId {
  readonly seIdType: string;
  readonly seId: string;
  /** AID of the application (SD) the agent acts for, when given. */
  readonly aaId?: Uint8Array;
}

const SE_ID = /^\/\/se-id\/([A-Za-z][A-Za-z0-9-]{0,15})\/([0-9A-Za-z]{1,64})$/;

export function parseAgentId(value: string): AgentId {
  checkLength(value, 'X-Admin-From');
  const v = value.trim();
  const semi = v.indexOf(';');
  const se = semi < 0 ? v : v.slice(0, semi);
  const m = SE_ID.exec(se);
  if (!m) throw new CodecError('BAD_VALUE', 'X-Admin-From must start with //se-id/<type>/<value>', 0);
  if (semi < 0) return { seIdType: m[1]!.toLowerCase(), seId: m[2]!.toUpperCase() };
  const aa = v.slice(semi + 1);
  const aaPrefix = '//aa-id';
  if (aa.slice(0, aaPrefix.length).toLowerCase() !== aaPrefix) throw new CodecError('BAD_VALUE', 'second part must be //aa-id/aid/<RID>/<PIX>', semi + 1);
  let aaId: Uint8Array;
  try {
    // '//aa-id/aid/…' is '//aa-id' followed by '/aid/…'; parse the latter as '//aid/…'.
    aaId = parseAidUri('/' + aa.slice(aaPrefix.length), 'X-Admin-From aa-id');
  } catch (e) {
    if (e instanceof CodecError) throw new CodecError(e.code, 'bad //aa-id/aid/<RID>/<PIX>', semi + aaPrefix.length + e.offset);
    throw e;
  }
  return { seIdType: m[1]!.toLowerCase(), seId: m[2]!.toUpperCase(), aaId };
}

export function formatAgentId(id: AgentId): string {
  const base = `//se-id/${id.seIdType}/${id.seId}`;
  if (!SE_ID.test(base)) throw new RangeError('bad se-id type or value');
  return id.aaId === undefined ? base : `${base};//aa-id${formatAidUri(id.aaId).slice(1)}`;
}

/** `X-Admin-Next-URI`: an absolute path (what this server sends) of visible ASCII, at most 1024 characters. */
export function parseNextUri(value: string): string {
  checkLength(value, 'X-Admin-Next-URI');
  const v = value.trim();
  if (!v.startsWith('/') || v.startsWith('//')) throw new CodecError('BAD_VALUE', 'X-Admin-Next-URI must be an absolute path', 0);
  const bad = [...v].findIndex((c) => c < '!' || c > '~');
  if (bad >= 0) throw new CodecError('BAD_VALUE', 'X-Admin-Next-URI holds a character outside visible ASCII', bad);
  return v;
}
