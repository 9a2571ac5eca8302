/**
 * SCP10 open-channel objects. They have the shape of `HostSecureChannel` / `CardSecureChannel`
 * (src/scp/channel.ts) except `scp`, which is 10 here; that interface's `scp: 2 | 3` would need widening
 * for SCP10 channels to be passed where those types are expected. Protocol rules: F.1.6.
 */
import type { CardSecureChannel, HostSecureChannel } from '../channel.ts';
import { SecureChannelError, SW } from '../errors.ts';
import type { Scp10SecureMessaging } from './wrap.ts';

export type Scp10HostChannel = Omit<HostSecureChannel, 'scp'> & { readonly scp: 10 };
export type Scp10CardChannel = Omit<CardSecureChannel, 'scp'> & { readonly scp: 10 };

export class Scp10Host implements Scp10HostChannel {
  readonly scp = 10 as const;
  readonly i: number;
  readonly kvn = 0;
  readonly level: number;
  #m: Scp10SecureMessaging | undefined;
  constructor(i: number, level: number, m: Scp10SecureMessaging) {
    this.i = i;
    this.level = level;
    this.#m = m;
  }
  #open(): Scp10SecureMessaging {
    if (this.#m === undefined) throw new SecureChannelError('NOT_AUTHENTICATED', 'secure channel is closed');
    return this.#m;
  }
  wrapCommand(plain: Uint8Array): Uint8Array {
    return this.#open().wrapCommand(plain);
  }
  unwrapResponse(rapdu: Uint8Array): Uint8Array {
    const m = this.#open();
    try {
      return m.unwrapResponse(rapdu);
    } catch (e) {
      if (e instanceof SecureChannelError) this.close();
      throw e;
    }
  }
  encryptKeyData(key: Uint8Array): Uint8Array {
    return this.#open().encryptSensitive(key);
  }
  encryptSensitiveData(data: Uint8Array): Uint8Array {
    return this.#open().encryptSensitive(data);
  }
  close(): void {
    this.#m?.wipe();
    this.#m = undefined;
  }
}

export class Scp10Card implements Scp10CardChannel {
  readonly scp = 10 as const;
  readonly kvn = 0;
  readonly level: number;
  #m: Scp10SecureMessaging | undefined;
  constructor(level: number, m: Scp10SecureMessaging) {
    this.level = level;
    this.#m = m;
  }
  get active(): boolean {
    return this.#m !== undefined;
  }
  #open(): Scp10SecureMessaging {
    if (this.#m === undefined) throw new SecureChannelError('NOT_AUTHENTICATED', 'secure channel session aborted', SW.SECURITY_NOT_SATISFIED);
    return this.#m;
  }
  unwrapCommand(bytes: Uint8Array): Uint8Array {
    const m = this.#open();
    try {
      return m.unwrapCommand(bytes);
    } catch (e) {
      this.abort();
      throw e;
    }
  }
  wrapResponse(plain: Uint8Array): Uint8Array {
    return this.#m === undefined ? plain.slice() : this.#m.wrapResponse(plain);
  }
  decryptKeyData(enc: Uint8Array): Uint8Array {
    return this.#open().decryptSensitive(enc);
  }
  decryptSensitiveData(enc: Uint8Array): Uint8Array {
    return this.#open().decryptSensitive(enc);
  }
  abort(): void {
    this.#m?.wipe();
    this.#m = undefined;
  }
}
