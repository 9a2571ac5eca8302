/**
 * Start the CA service (certificates of SD public keys for SCP10/SCP11) as one service of a platform
 * (docs/architecture.md §3 runtime/), and make the provider's CAs at first start: the operator creates them through
 * the CA's client and their ids are kept in `<dataDir>/cas.json`.
 */
import type { Agent } from 'node:https';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlatformConfig } from '../platform/config/config.ts';
import { PlatformClient } from '../platform/http/client.ts';
import { caClient } from '../services/ca/client.ts';
import { startCa, type CaService } from '../services/ca/service.ts';
import type { ProviderCas } from '../services/provider/service.ts';

/** The provider's certificate authorities (ids at the CA service), made at first start. */
export const CAS_FILE = 'cas.json';

export async function runCa(config: PlatformConfig): Promise<CaService> {
  return startCa(config);
}

/** Start the CA service and make sure the provider's CAs exist there (created as the operator at first start). */
export async function ensureCaService(config: PlatformConfig, dataDir: string, providerId: string, operatorAgent: Agent): Promise<{ service: CaService; cas: ProviderCas }> {
  const service = await runCa(config);
  try {
    const cas = await ensureProviderCas(dataDir, providerId, new PlatformClient({ baseUrl: service.url, agent: operatorAgent }));
    return { service, cas };
  } catch (e) {
    await service.close();
    throw e;
  }
}

/** The provider's CAs: read from `<dataDir>/cas.json`, or created (by the operator) and saved there. */
export async function ensureProviderCas(dataDir: string, providerId: string, operatorCa: PlatformClient): Promise<ProviderCas> {
  const file = join(dataDir, CAS_FILE);
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { providerId?: unknown; scp11?: unknown; scp10?: unknown };
    if (saved.providerId === providerId && typeof saved.scp11 === 'string' && typeof saved.scp10 === 'string') return { scp11: saved.scp11, scp10: saved.scp10 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
  }
  const client = caClient(operatorCa);
  const scp11 = await client.createCa(providerId, 'scp11', 'P-256');
  const scp10 = await client.createCa(providerId, 'scp10', 'RSA-2048');
  const cas = { scp11: scp11.caId, scp10: scp10.caId };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify({ providerId, ...cas }, null, 2) + '\n', { mode: 0o600 });
  return cas;
}
