/** Certificates for platform services and clients, signed by the internal CA (ECDSA P-256, SHA-256). */
import './reflect-metadata.ts'; // before @peculiar/x509
import { isIP } from 'node:net';
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { PlatformError } from '../errors.ts';
import { EC_ALGORITHM, SIGNING_ALGORITHM, randomSerial, type CertificateAuthority } from './ca.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;
const DAY = 86_400_000;

export type CertificateUsage = 'server' | 'client' | 'both';

export interface CertificateRequest {
  /** The peer identity other services authorise: 'issuer', 'provider', 'ota', … */
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: CertificateUsage;
  /** Default 397. */
  readonly validDays?: number;
  readonly now?: () => Date;
}

/** A key and its certificate, with the CA certificate to trust peers by. All PEM. */
export interface TlsIdentity {
  readonly commonName: string;
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
  readonly notAfter: Date;
}

const CN_FORMAT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DNS_FORMAT = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export async function issueCertificate(ca: CertificateAuthority, request: CertificateRequest): Promise<TlsIdentity> {
  if (!CN_FORMAT.test(request.commonName)) throw new TypeError(`commonName must match ${CN_FORMAT}, got '${request.commonName}'`);
  if (!['server', 'client', 'both'].includes(request.usage)) throw new TypeError(`usage must be server, client or both`);
  const names: x509.JsonGeneralName[] = [];
  for (const d of request.dnsNames ?? []) {
    if (!DNS_FORMAT.test(d)) throw new TypeError(`not a DNS name: '${d}'`);
    names.push({ type: 'dns', value: d });
  }
  for (const ip of request.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new TypeError(`not an IP address: '${ip}'`);
    names.push({ type: 'ip', value: ip });
  }
  const now = (request.now ?? (() => new Date()))();
  const notAfter = new Date(now.getTime() + (request.validDays ?? 397) * DAY);
  const keys = (await crypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const eku: string[] = [];
  if (request.usage !== 'client') eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (request.usage !== 'server') eku.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(eku, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey, false, crypto),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: new x509.Name([{ CN: [request.commonName] }]),
      issuer: ca.certificate.subjectName,
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: notAfter.getTime() > ca.certificate.notAfter.getTime() ? ca.certificate.notAfter : notAfter,
      publicKey: keys.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions,
    },
    crypto,
  );
  const keyPem = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { commonName: request.commonName, keyPem, certPem: certificate.toString('pem'), caPem: ca.certPem, notAfter: certificate.notAfter };
}

/**
 * A service's identity kept next to the CA: `<commonName>.key` (0600) and `<commonName>.crt` in `dir`,
 * issued on first use and re-issued when missing, not from this CA, or expiring within 30 days.
 */
export async function ensureIdentity(dir: string, ca: CertificateAuthority, request: CertificateRequest): Promise<TlsIdentity> {
  if (!CN_FORMAT.test(request.commonName)) throw new TypeError(`commonName must match ${CN_FORMAT}, got '${request.commonName}'`);
  // Identities live next to the internal CA's own ca.key/ca.crt: an identity named `ca` would be read as,
  // and once renewed overwrite, the CA itself. Keep such an identity in another folder.
  if (request.commonName === 'ca' && existsSync(join(dir, 'ca.crt')) && readFileSync(join(dir, 'ca.crt'), 'utf8').trim() === ca.certPem.trim()) {
    throw new TypeError(`an identity named 'ca' cannot be kept in the CA's folder ${dir}; use a subfolder`);
  }
  const keyPath = join(dir, `${request.commonName}.key`);
  const certPath = join(dir, `${request.commonName}.crt`);
  const now = (request.now ?? (() => new Date()))();
  let stored: [string, string] | undefined;
  try {
    stored = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PlatformError('TLS_MATERIAL', `cannot read ${keyPath}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (stored !== undefined) {
    const [keyPem, certPem] = stored;
    let cert: x509.X509Certificate | undefined;
    try {
      cert = new x509.X509Certificate(certPem);
    } catch {
      cert = undefined; // unreadable: issue a new one below
    }
    const fresh = cert !== undefined && cert.notAfter.getTime() - now.getTime() > 30 * DAY;
    if (cert !== undefined && fresh && (await cert.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true }, crypto))) {
      return { commonName: request.commonName, keyPem, certPem, caPem: ca.certPem, notAfter: cert.notAfter };
    }
  }
  const identity = await issueCertificate(ca, request);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, identity.keyPem, { mode: 0o600 });
  await writeFile(certPath, identity.certPem, { mode: 0o644 });
  return identity;
}
