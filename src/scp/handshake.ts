/**
 * Protocol-independent view of INITIALIZE UPDATE responses: the Secure Channel Protocol identifier is the
 * second byte of the key information, offset 11 (GPCS 2.2.1 Table E-8; Amendment D v1.2 Table 7-3).
 */
import type { ParsedInitializeUpdateResponse } from './channel.ts';
import { SecureChannelError } from './errors.ts';
import * as scp02 from './scp02/handshake.ts';
import * as scp03 from './scp03/handshake.ts';

/** Parse an INITIALIZE UPDATE response data field (no SW) of SCP02 or SCP03. */
export function parseInitializeUpdateResponse(data: Uint8Array): ParsedInitializeUpdateResponse {
  if (!(data instanceof Uint8Array)) throw new TypeError('data: expected a Uint8Array');
  if (data.length < 13) throw new SecureChannelError('BAD_RESPONSE', `INITIALIZE UPDATE response too short (${data.length} bytes)`);
  switch (data[11]) {
    case 0x02:
      return scp02.parseInitializeUpdateResponse(data);
    case 0x03:
      return scp03.parseInitializeUpdateResponse(data);
    default:
      throw new SecureChannelError('UNSUPPORTED', `secure channel protocol ${data[11]!.toString(16).padStart(2, '0')} is not supported`);
  }
}
