/** JSON Schemas shared by the issuer's and the provider's routes (bodies are closed: no extra members). */
import type { PrivilegeName } from '../../gp/privileges.ts';

/** ICCID as stored on the card: 18–20 BCD digits, a trailing F pads an odd count. */
export const cardIdSchema = { type: 'string', pattern: '^[0-9]{17,19}[0-9Ff]$', description: 'ICCID (hex digits, F padded)' } as const;
export const aidSchema = { type: 'string', pattern: '^([0-9A-Fa-f]{2}){5,16}$', description: 'AID, 5 to 16 bytes in hex' } as const;
export const key16Schema = { type: 'string', pattern: '^[0-9A-Fa-f]{32}$', description: '16-byte key in hex' } as const;
export const kvnSchema = { type: 'integer', minimum: 1, maximum: 127 } as const;
export const kcvsSchema = {
  type: 'object',
  required: ['kvn', 'enc', 'mac', 'dek'],
  properties: { kvn: { type: 'integer' }, enc: { type: 'string' }, mac: { type: 'string' }, dek: { type: 'string' } },
  additionalProperties: false,
} as const;

export const PRIVILEGE_NAMES: readonly PrivilegeName[] = [
  'SecurityDomain',
  'DAPVerification',
  'DelegatedManagement',
  'CardLock',
  'CardTerminate',
  'CardReset',
  'CVMManagement',
  'MandatedDAPVerification',
  'TrustedPath',
  'AuthorizedManagement',
  'TokenVerification',
  'GlobalDelete',
  'GlobalLock',
  'GlobalRegistry',
  'FinalApplication',
  'GlobalService',
  'ReceiptGeneration',
  'CipheredLoadFileDataBlock',
  'ContactlessActivation',
  'ContactlessSelfActivation',
];
export const privilegesSchema = { type: 'array', items: { type: 'string', enum: PRIVILEGE_NAMES }, uniqueItems: true, maxItems: 20 } as const;

export const routeSchema = {
  oneOf: [
    { type: 'object', required: ['kind'], properties: { kind: { const: 'ota' } }, additionalProperties: false },
    {
      type: 'object',
      required: ['kind', 'terminalId'],
      properties: { kind: { const: 'terminal' }, terminalId: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' } },
      additionalProperties: false,
    },
  ],
} as const;

export const cardParams = {
  type: 'object',
  required: ['cardId'],
  properties: { cardId: cardIdSchema },
  additionalProperties: false,
} as const;
export const ssdParams = {
  type: 'object',
  required: ['cardId', 'aid'],
  properties: { cardId: cardIdSchema, aid: aidSchema },
  additionalProperties: false,
} as const;

export const emptyBody = { type: 'object', additionalProperties: false } as const;
export const noContent = { type: 'null', description: 'No content' } as const;
