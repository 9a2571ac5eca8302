/**
 * SCP10 open-channel objects: the shared host/card channel wrappers (src/scp/session.ts) around SCP10's
 * secure messaging, with protocol identifier 10. Protocol rules (F.1.6): a security error aborts the card's
 * session; a bad response closes the host's channel. SCP10 has no key version in its handshake (KVN 0).
 */
import type { CardSecureChannel, HostSecureChannel } from '../channel.ts';
import { CardChannel, HostChannel } from '../session.ts';
import type { Scp10SecureMessaging } from './wrap.ts';

export type Scp10HostChannel = HostSecureChannel & { readonly scp: 10 };
export type Scp10CardChannel = CardSecureChannel & { readonly scp: 10 };

export function scp10HostChannel(i: number, level: number, m: Scp10SecureMessaging): Scp10HostChannel {
  return new HostChannel(10, 0, i, level, m) as Scp10HostChannel;
}

export function scp10CardChannel(level: number, m: Scp10SecureMessaging): Scp10CardChannel {
  return new CardChannel(10, 0, level, m) as Scp10CardChannel;
}
