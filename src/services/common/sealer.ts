/**
 * The flows' `Sealer` on the platform keystore (envelope encryption under the KEK). Each service seals under
 * its own context prefix, so that a blob of one service never opens as another's (the context is
 * authenticated data of the keystore's AES-GCM).
 */
import type { KeyStore } from '../../platform/keystore/keystore.ts';
import type { Sealer } from './deps.ts';

const PREFIX = /^[a-z][a-z0-9-]{0,31}$/;

export function keyStoreSealer(store: Pick<KeyStore, 'wrap' | 'unwrap'>, prefix: string): Sealer {
  if (!PREFIX.test(prefix)) throw new TypeError(`sealer prefix must match ${PREFIX}, got '${prefix}'`);
  const ctx = (context: string) => `${prefix}:${context}`;
  return {
    wrap: (plaintext, context) => store.wrap(plaintext, ctx(context)),
    unwrap: (blob, context) => store.unwrap(blob, ctx(context)),
  };
}
