/**
 * Certificate authorities (sans HTTP): `createCa(deps, owner, kind)` makes a CA for the issuer or a provider —
 * its id is the hex of its 8-byte identifier, which is the CA-KLOC identifier ('42') of the SCP11 certificates
 * it signs and the issuer id of its SCP10 certificates — and `getCa` reads its public part.
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import { systemRandom, type RandomSource } from '../../crypto/random.ts';
import type { Database, Row } from '../../platform/storage/database.ts';
import { StorageError } from '../../platform/storage/errors.ts';
import type { Auditor, Sealer } from '../common/deps.ts';
import { CaError } from './errors.ts';
import { ALGORITHMS, DEFAULT_ALGORITHM, generateCa, rsaNumbersOf, sealPrivateKey, sha256Hex, type CaAlgorithm, type CaKind } from './keys.ts';
import type { CaView } from './view.ts';

export interface CaDeps {
  readonly db: Database;
  /** Seals CA private keys (the keystore, prefix `ca`). */
  readonly sealer: Sealer;
  readonly audit: Auditor;
  /** Who the service is, for audit records (`ca`). */
  readonly actor: string;
  readonly random?: RandomSource;
  readonly now?: () => Date;
}

/** `issuer`, or a provider id (the CN of the provider platform's certificate). */
export const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const CA_ID_PATTERN = /^[0-9A-F]{16}$/;

/** A CA's public information (the one definition is view.ts). */
export type CaInfo = CaView;

export interface CaRecord extends CaInfo {
  readonly privateKeySealed: Uint8Array;
}

interface CaRow extends Row {
  ca_id: string;
  owner: string;
  kind: string;
  algorithm: string;
  public_key: Uint8Array;
  certificate: Uint8Array;
  private_key_sealed: Uint8Array;
  created_at: string;
}

export const nowOf = (deps: Pick<CaDeps, 'now'>): Date => (deps.now ?? (() => new Date()))();

export async function createCa(deps: CaDeps, owner: string, kind: CaKind, algorithm: CaAlgorithm = DEFAULT_ALGORITHM[kind]): Promise<CaInfo> {
  if (typeof owner !== 'string' || !OWNER_PATTERN.test(owner)) throw new CaError('BAD_REQUEST', `owner must match ${OWNER_PATTERN}`);
  if (kind !== 'scp11' && kind !== 'scp10') throw new CaError('BAD_REQUEST', `kind must be scp11 or scp10`);
  if (!ALGORITHMS[kind].includes(algorithm)) throw new CaError('BAD_REQUEST', `algorithm of a ${kind} CA must be one of ${ALGORITHMS[kind].join(', ')}`);
  const existing = await caOf(deps.db, owner, kind);
  if (existing !== undefined) throw new CaError('ALREADY_EXISTS', `${owner} already has a ${kind} CA (${existing}); there is one CA per owner and kind`);
  const random = deps.random ?? systemRandom;
  const idBytes = random(8);
  const caId = toHex(idBytes);
  const now = nowOf(deps);
  const generated = generateCa(kind, algorithm, idBytes, now, deps.random);
  try {
    const sealed = await sealPrivateKey(deps.sealer, caId, generated.privateKey);
    const createdAt = now.toISOString();
    await deps.db.transaction(async (tx) => {
      const raced = await tx.query<{ ca_id: string }>('SELECT ca_id FROM cas WHERE owner = $1 AND kind = $2', [owner, kind]);
      if (raced[0] !== undefined) throw new CaError('ALREADY_EXISTS', `${owner} already has a ${kind} CA (${raced[0].ca_id}); there is one CA per owner and kind`);
      await tx.execute(
        'INSERT INTO cas (ca_id, owner, kind, algorithm, public_key, certificate, private_key_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [caId, owner, kind, algorithm, generated.publicKey, generated.certificate, sealed, createdAt],
      );
      await deps.audit(tx, {
        actor: deps.actor,
        action: 'ca.create',
        subject: `ca:${caId}`,
        details: { caId, owner, kind, algorithm, publicKeyFingerprint: sha256Hex(generated.publicKey), certificateFingerprint: sha256Hex(generated.certificate) },
      });
    });
  } catch (e) {
    // Two creations racing past the SELECT above (PostgreSQL, read committed): the unique index (owner, kind)
    // refuses the second INSERT — the same answer as when the first one was already there.
    if (e instanceof StorageError && e.code === 'UNIQUE_VIOLATION') {
      throw new CaError('ALREADY_EXISTS', `${owner} already has a ${kind} CA (${(await caOf(deps.db, owner, kind)) ?? 'created concurrently'}); there is one CA per owner and kind`);
    }
    throw e;
  } finally {
    generated.privateKey.fill(0);
  }
  const ca = await getCa(deps.db, caId);
  if (ca === undefined) throw new Error(`CA ${caId} vanished after creation`);
  return ca;
}

/** The id of `owner`'s CA of `kind`, or undefined. */
export async function caOf(db: Database, owner: string, kind: CaKind): Promise<string | undefined> {
  const rows = await db.query<{ ca_id: string }>('SELECT ca_id FROM cas WHERE owner = $1 AND kind = $2', [owner, kind]);
  return rows[0]?.ca_id;
}

/** The CA's public information, or undefined. */
export async function getCa(db: Database, caId: string): Promise<CaInfo | undefined> {
  const r = await getCaRecord(db, caId);
  if (r === undefined) return undefined;
  const { privateKeySealed: _sealed, ...info } = r;
  return info;
}

/** With the sealed private key (for signing). */
export async function getCaRecord(db: Database, caId: string): Promise<CaRecord | undefined> {
  if (typeof caId !== 'string' || !CA_ID_PATTERN.test(caId)) return undefined;
  const [r] = await db.query<CaRow>('SELECT * FROM cas WHERE ca_id = $1', [caId]);
  if (r === undefined) return undefined;
  const kind = r.kind as CaKind;
  return {
    caId: r.ca_id,
    owner: r.owner,
    kind,
    algorithm: r.algorithm as CaAlgorithm,
    publicKey: r.public_key,
    ...(kind === 'scp10' ? { rsa: rsaNumbersOf(r.public_key) } : {}),
    certificate: r.certificate,
    createdAt: r.created_at,
    privateKeySealed: r.private_key_sealed,
  };
}

export async function listCas(db: Database, owner?: string): Promise<CaInfo[]> {
  const rows = await db.query<{ ca_id: string }>(
    owner === undefined ? 'SELECT ca_id FROM cas ORDER BY created_at, ca_id' : 'SELECT ca_id FROM cas WHERE owner = $1 ORDER BY created_at, ca_id',
    owner === undefined ? [] : [owner],
  );
  const out: CaInfo[] = [];
  for (const r of rows) {
    const ca = await getCa(db, r.ca_id);
    if (ca !== undefined) out.push(ca);
  }
  return out;
}

/** The CA id as its 8 identifier bytes. */
export function caIdBytes(caId: string): Uint8Array {
  return fromHex(caId);
}
