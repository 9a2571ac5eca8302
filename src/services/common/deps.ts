/**
 * What a platform flow needs from its service, passed in explicitly (no globals): the database, the
 * keystore that envelope-encrypts keys at rest, the audit log, the flow store, and card access.
 */
import type { CardChannel } from '../../apdu/channel.ts';
import type { Database } from '../../platform/storage/database.ts';
import type { FlowStore } from '../../platform/flows/store.ts';
import type { RandomSource } from '../../crypto/random.ts';

/** Envelope encryption of secrets at rest (implemented by the platform keystore). */
export interface Sealer {
  wrap(plaintext: Uint8Array, context: string): Promise<Uint8Array>;
  unwrap(blob: Uint8Array, context: string): Promise<Uint8Array>;
}

export interface AuditRecord {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  /** Facts only: AIDs, key versions, KCVs — never key material. */
  readonly details: Record<string, unknown>;
}

/** Append an audit record inside the caller's transaction. */
export type Auditor = (tx: Database, record: AuditRecord) => Promise<void>;

/** How a card is reached: over the air, or through a provider's business terminal. */
export type CardRoute = { readonly kind: 'ota' } | { readonly kind: 'terminal'; readonly terminalId: string };

/** Open an APDU channel to a card over its route. */
export type CardAccess = (cardId: string, route: CardRoute) => Promise<CardChannel>;

export interface FlowDeps {
  readonly db: Database;
  readonly sealer: Sealer;
  readonly audit: Auditor;
  readonly flows: FlowStore;
  readonly cardAccess: CardAccess;
  /**
   * The issuer's grants at the OTA (issue 8 §4): which provider may address which AID on which card over the air.
   * Absent: nothing is granted (a provider reaches only the listed probes).
   */
  readonly cardGrants?: {
    grant(cardId: string, aid: string, providerId: string): Promise<void>;
    revoke(cardId: string, aid: string): Promise<void>;
  };
  readonly random?: RandomSource;
  /** Who the service is, for audit records. */
  readonly actor: string;
}
