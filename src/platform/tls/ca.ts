/**
 * The platform's internal certificate authority (the seeds' "dedicated line" between platforms): an ECDSA P-256
 * CA made at first start with @peculiar/x509 on node's WebCrypto, kept as `ca.key` (PKCS#8 PEM, mode 0600) and
 * `ca.crt` (PEM) in the TLS material folder. Services get certificates from it and authorise each other by the
 * certificate's common name.
 */
import './reflect-metadata.ts'; // before @peculiar/x509
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { PlatformError } from '../errors.ts';

export const CA_KEY_FILE = 'ca.key';
export const CA_CERT_FILE = 'ca.crt';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;
export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface CertificateAuthority {
  readonly commonName: string;
  readonly certPem: string;
  readonly certificate: x509.X509Certificate;
  /** Non-extractable after load; signs certificates only. */
  readonly privateKey: CryptoKey;
}

export interface CaOptions {
  /** Default 'opentsm internal CA'. */
  readonly commonName?: string;
  /** Default 3650. */
  readonly validDays?: number;
  /** Clock for tests. */
  readonly now?: () => Date;
}

const DAY = 86_400_000;

/** Make a new CA in memory (no files). */
export async function createCa(options: CaOptions = {}): Promise<{ ca: CertificateAuthority; keyPem: string }> {
  const commonName = options.commonName ?? 'opentsm internal CA';
  const now = (options.now ?? (() => new Date()))();
  const keys = (await crypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: new x509.Name([{ CN: [commonName] }]),
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(now.getTime() + (options.validDays ?? 3650) * DAY),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { ca: { commonName, certPem: certificate.toString('pem'), certificate, privateKey: keys.privateKey }, keyPem };
}

/**
 * Load the CA from `dir`, or create it there when neither file exists. Refuses half a CA (one file without
 * the other), a key readable by group/others, and a key that does not match the certificate.
 */
export async function ensureCa(dir: string, options: CaOptions = {}): Promise<CertificateAuthority> {
  const keyPath = join(dir, CA_KEY_FILE);
  const certPath = join(dir, CA_CERT_FILE);
  const [keyExists, certExists] = await Promise.all([exists(keyPath), exists(certPath)]);
  if (!keyExists && !certExists) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { ca, keyPem } = await createCa(options);
    try {
      await writeFile(keyPath, keyPem, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadCa(dir); // another process won the race
      throw err;
    }
    await writeFile(certPath, ca.certPem, { mode: 0o644, flag: 'wx' });
    return ca;
  }
  if (!keyExists || !certExists) {
    throw new PlatformError('TLS_MATERIAL', `incomplete CA in ${dir}: ${keyExists ? CA_CERT_FILE : CA_KEY_FILE} is missing`);
  }
  return loadCa(dir);
}

/** Load an existing CA from `dir` (see `ensureCa` for the checks). */
export async function loadCa(dir: string): Promise<CertificateAuthority> {
  const keyPath = join(dir, CA_KEY_FILE);
  const certPath = join(dir, CA_CERT_FILE);
  const mode = (await stat(keyPath)).mode;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new PlatformError('TLS_MATERIAL', `${keyPath} must be readable by its owner only (mode 0600), is ${(mode & 0o777).toString(8)}`);
  }
  const [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  let certificate: x509.X509Certificate;
  let privateKey: CryptoKey;
  let check: CryptoKey;
  try {
    certificate = new x509.X509Certificate(certPem);
    const der = x509.PemConverter.decodeFirst(keyPem);
    privateKey = await crypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
    check = await crypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, true, ['sign']);
  } catch (err) {
    throw new PlatformError('TLS_MATERIAL', `cannot read the CA in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const jwk = await crypto.subtle.exportKey('jwk', check);
  const pub = await crypto.subtle.exportKey('jwk', await certificate.publicKey.export(EC_ALGORITHM, ['verify'], crypto));
  if (jwk.x !== pub.x || jwk.y !== pub.y) throw new PlatformError('TLS_MATERIAL', `${keyPath} does not match ${certPath}`);
  const commonName = certificate.subjectName.getField('CN')[0] ?? '';
  return { commonName, certPem: certificate.toString('pem'), certificate, privateKey };
}

export function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f; // positive INTEGER
  b[0] = b[0]! | 0x01; // no leading zero byte to strip
  return Buffer.from(b).toString('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
