/** Response schemas of the issuer's SSD routes. */
import { kcvsSchema } from '../../common/schemas.ts';

export const ssdViewSchema = {
  type: 'object',
  required: ['aid', 'providerId', 'managedBy', 'state', 'scp', 'kvn', 'kcvs', 'keysHeld', 'keysExpireAt', 'createdAt', 'updatedAt'],
  properties: {
    aid: { type: 'string' },
    providerId: { type: 'string' },
    managedBy: { type: 'string', enum: ['provider', 'issuer'] },
    state: { type: 'string' },
    scp: { type: 'integer' },
    kvn: { type: 'integer' },
    kcvs: kcvsSchema,
    keysHeld: { type: 'boolean' },
    keysExpireAt: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
  additionalProperties: false,
} as const;
