/**
 * The wire contract of the provider's terminal relay (docs/architecture.md §4 flow 3): paths, JSON schemas and
 * body types, shared by the relay (server side) and its two kinds of client — the business terminal
 * (src/terminal) and the issuer (src/services/issuer/terminal-access.ts). Sans-IO.
 *
 * Terminal-facing (peer `terminal.<id>`):
 *   POST /v1/terminal/ram, /v1/terminal/ram/<session>/<seq>   RAM over HTTP (GP Amendment B) admin session:
 *        the terminal is the admin agent of the card in its reader; scripts are AA/AB templates
 *   POST /v1/terminal/requests          {cardId, aid, privileges}  → 202 ServiceRequestView
 *   GET  /v1/terminal/requests/<id>                                → 200 ServiceRequestView
 * Issuer-facing (peer: one of the issuer names, default `issuer`):
 *   POST /v1/relay/terminals/<terminalId>/scripts  {cardId, apdus}  → 200 {responses}
 */
import { PRIVILEGES, type PrivilegeName } from '../../gp/privileges.ts';

/** A terminal's id: letters and digits (it also appears in `X-Admin-From: //se-id/terminal/<id>`). */
export const TERMINAL_ID = /^[A-Za-z0-9]{1,32}$/;
/**
 * Certificate CN of a terminal: `terminal.<id>`. (':' is not allowed in platform CNs — see
 * `issueCertificate` — so the separator is '.'.)
 */
export const TERMINAL_CN_PREFIX = 'terminal.';

export function terminalCommonName(terminalId: string): string {
  if (typeof terminalId !== 'string' || !TERMINAL_ID.test(terminalId)) throw new TypeError(`terminal id must match ${TERMINAL_ID}`);
  return TERMINAL_CN_PREFIX + terminalId;
}

/** The terminal id of a certificate CN, or undefined when the CN is not a terminal's. */
export function terminalIdOf(commonName: string): string | undefined {
  if (!commonName.startsWith(TERMINAL_CN_PREFIX)) return undefined;
  const id = commonName.slice(TERMINAL_CN_PREFIX.length);
  return TERMINAL_ID.test(id) ? id : undefined;
}

/** `X-Admin-From` of a terminal's admin agent. */
export function terminalAgentId(terminalId: string): string {
  terminalCommonName(terminalId); // validates
  return `//se-id/terminal/${terminalId}`;
}

export const RELAY_PATHS = Object.freeze({
  ram: '/v1/terminal/ram',
  requests: '/v1/terminal/requests',
  request: (id: string) => `/v1/terminal/requests/${encodeURIComponent(id)}`,
  scripts: (terminalId: string) => `/v1/relay/terminals/${encodeURIComponent(terminalId)}/scripts`,
  conversations: (terminalId: string) => `/v1/relay/terminals/${encodeURIComponent(terminalId)}/conversations`,
  conversation: (terminalId: string, id: string) => `/v1/relay/terminals/${encodeURIComponent(terminalId)}/conversations/${encodeURIComponent(id)}`,
});

/** Most C-APDUs in one relayed script (the RAM response counts them in one byte). */
export const MAX_RELAY_COMMANDS = 255;

const HEX_APDU = '^(?:[0-9A-Fa-f]{2}){4,65546}$';
const HEX_RAPDU = '^(?:[0-9A-Fa-f]{2}){2,65546}$';
/** ICCID as read from the card (GET DATA '5A'): 1 to 10 bytes, BCD-like hex digits. */
export const CARD_ID = '^[0-9A-Fa-f]{2,20}$';
const AID = '^(?:[0-9A-F]{2}){5,16}$';
const PRIVILEGE_NAMES: readonly PrivilegeName[] = PRIVILEGES.map((p) => p.name);

export interface RelayScriptBody {
  /** The card the caller believes is in the terminal (its ICCID, hex). */
  readonly cardId: string;
  /** C-APDUs, hex. */
  readonly apdus: readonly string[];
}

export interface RelayScriptAnswer {
  /** R-APDUs, hex; fewer than the commands when the card stopped the script at an error status word. */
  readonly responses: readonly string[];
}

export const relayScriptBodySchema = {
  type: 'object',
  required: ['cardId', 'apdus'],
  additionalProperties: false,
  properties: {
    cardId: { type: 'string', pattern: CARD_ID },
    apdus: { type: 'array', minItems: 1, maxItems: MAX_RELAY_COMMANDS, items: { type: 'string', pattern: HEX_APDU } },
  },
} as const;

export const relayScriptAnswerSchema = {
  type: 'object',
  required: ['responses'],
  additionalProperties: false,
  properties: { responses: { type: 'array', maxItems: MAX_RELAY_COMMANDS, items: { type: 'string', pattern: HEX_RAPDU } } },
} as const;

/** `POST /v1/relay/terminals/{id}/conversations` and `DELETE …/{cid}` name the card they mean. */
export const relayConversationBodySchema = {
  type: 'object',
  required: ['cardId'],
  additionalProperties: false,
  properties: { cardId: { type: 'string', pattern: CARD_ID } },
} as const;

export const relayConversationAnswerSchema = {
  type: 'object',
  required: ['conversationId', 'idleTimeoutMs'],
  additionalProperties: false,
  properties: { conversationId: { type: 'string' }, idleTimeoutMs: { type: 'integer' } },
} as const;

export interface ServiceRequestBody {
  readonly cardId: string;
  /** AID of the security domain the user asks for. */
  readonly aid: string;
  readonly privileges: readonly PrivilegeName[];
}

export const serviceRequestBodySchema = {
  type: 'object',
  required: ['cardId', 'aid', 'privileges'],
  additionalProperties: false,
  properties: {
    cardId: { type: 'string', pattern: CARD_ID },
    aid: { type: 'string', pattern: AID },
    privileges: { type: 'array', maxItems: PRIVILEGE_NAMES.length, uniqueItems: true, items: { type: 'string', enum: PRIVILEGE_NAMES } },
  },
} as const;

export type ServiceRequestState = 'open' | 'done' | 'failed';

/** What the terminal sees of its request. */
export interface ServiceRequestView {
  readonly id: string;
  readonly terminalId: string;
  readonly cardId: string;
  readonly aid: string;
  readonly privileges: readonly PrivilegeName[];
  readonly state: ServiceRequestState;
  /** Last progress step the provider reported (`request`, `fetch-keys`, `replace`, …). */
  readonly step: string;
  /** When done: facts for the user (AIDs, key versions, KCVs — never keys). */
  readonly result?: Readonly<Record<string, unknown>>;
  /** When failed. */
  readonly error?: { readonly code: string; readonly detail: string };
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const serviceRequestViewSchema = {
  type: 'object',
  required: ['id', 'terminalId', 'cardId', 'aid', 'privileges', 'state', 'step', 'createdAt', 'updatedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    terminalId: { type: 'string' },
    cardId: { type: 'string' },
    aid: { type: 'string' },
    privileges: { type: 'array', items: { type: 'string' } },
    state: { type: 'string', enum: ['open', 'done', 'failed'] },
    step: { type: 'string' },
    result: { type: 'object', additionalProperties: true },
    error: { type: 'object', required: ['code', 'detail'], additionalProperties: false, properties: { code: { type: 'string' }, detail: { type: 'string' } } },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

export const REQUEST_ID = '^[0-9a-f]{32}$';
