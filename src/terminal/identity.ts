/** The terminal's client certificate from the internal CA: CN `terminal.<id>`, client usage only. */
import { issueCertificate, type TlsIdentity } from '../platform/tls/issue.ts';
import type { CertificateAuthority } from '../platform/tls/ca.ts';
import { terminalCommonName } from '../services/provider/client.ts';

export function issueTerminalIdentity(ca: CertificateAuthority, terminalId: string, options: { validDays?: number } = {}): Promise<TlsIdentity> {
  return issueCertificate(ca, { commonName: terminalCommonName(terminalId), usage: 'client', ...(options.validDays !== undefined ? { validDays: options.validDays } : {}) });
}
