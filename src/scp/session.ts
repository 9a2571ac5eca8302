/**
 * The open-channel objects shared by SCP02 and SCP03: thin `HostSecureChannel` / `CardSecureChannel`
 * wrappers around a protocol's secure messaging state (scp02/wrap.ts, scp03/wrap.ts).
 * Protocol rules (GPCS 2.2.1 E.1.6; Amendment D v1.2 §5.6): a security error on a command aborts the card's
 * session and every later command is refused with 6982; a bad response closes the host's channel.
 */
import type { CardSecureChannel, HostSecureChannel, ScpId } from './channel.ts';
import { SecureChannelError, SW } from './errors.ts';

/** What a protocol's secure messaging state offers to the channel objects. */
export interface SecureMessaging {
  wrapCommand(plainApdu: Uint8Array): Uint8Array;
  unwrapResponse(rapdu: Uint8Array): Uint8Array;
  unwrapCommand(protectedApdu: Uint8Array): Uint8Array;
  wrapResponse(plainRapdu: Uint8Array): Uint8Array;
  encryptSensitive(data: Uint8Array): Uint8Array;
  decryptSensitive(encrypted: Uint8Array): Uint8Array;
  wipe(): void;
}

export class HostChannel implements HostSecureChannel {
  readonly scp: ScpId;
  readonly kvn: number;
  readonly i: number;
  readonly level: number;
  #messaging: SecureMessaging | undefined;

  constructor(scp: ScpId, kvn: number, i: number, level: number, messaging: SecureMessaging) {
    this.scp = scp;
    this.kvn = kvn;
    this.i = i;
    this.level = level;
    this.#messaging = messaging;
  }

  #open(): SecureMessaging {
    if (this.#messaging === undefined) throw new SecureChannelError('NOT_AUTHENTICATED', 'secure channel is closed');
    return this.#messaging;
  }

  wrapCommand(plainApdu: Uint8Array): Uint8Array {
    return this.#open().wrapCommand(plainApdu);
  }

  unwrapResponse(protectedRapdu: Uint8Array): Uint8Array {
    const m = this.#open();
    try {
      return m.unwrapResponse(protectedRapdu);
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
    this.#messaging?.wipe();
    this.#messaging = undefined;
  }
}

export class CardChannel implements CardSecureChannel {
  readonly scp: ScpId;
  readonly kvn: number;
  readonly level: number;
  #messaging: SecureMessaging | undefined;

  constructor(scp: ScpId, kvn: number, level: number, messaging: SecureMessaging) {
    this.scp = scp;
    this.kvn = kvn;
    this.level = level;
    this.#messaging = messaging;
  }

  get active(): boolean {
    return this.#messaging !== undefined;
  }

  #open(): SecureMessaging {
    if (this.#messaging === undefined) {
      throw new SecureChannelError('NOT_AUTHENTICATED', 'secure channel session aborted', SW.SECURITY_NOT_SATISFIED);
    }
    return this.#messaging;
  }

  unwrapCommand(protectedApdu: Uint8Array): Uint8Array {
    const m = this.#open();
    try {
      return m.unwrapCommand(protectedApdu);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  wrapResponse(plainRapdu: Uint8Array): Uint8Array {
    if (this.#messaging === undefined) return plainRapdu.slice();
    return this.#messaging.wrapResponse(plainRapdu);
  }

  decryptKeyData(encrypted: Uint8Array): Uint8Array {
    return this.#open().decryptSensitive(encrypted);
  }

  decryptSensitiveData(encrypted: Uint8Array): Uint8Array {
    return this.#open().decryptSensitive(encrypted);
  }

  abort(): void {
    this.#messaging?.wipe();
    this.#messaging = undefined;
  }
}
