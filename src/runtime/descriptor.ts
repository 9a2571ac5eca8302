/**
 * `<dataDir>/platform.json`: what a running platform is (URLs, provider id, database, phones), for
 * `opentsm scenario run --platform DIR`. Written when the platform is up, removed when it stops.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseSettings } from '../platform/config/config.ts';
import type { PlatformUrls } from './peers.ts';

export const PLATFORM_FILE = 'platform.json';
export const PLATFORM_FORMAT = 'opentsm-platform';

export interface PlatformDescriptor {
  readonly format: typeof PLATFORM_FORMAT;
  readonly pid: number;
  readonly startedAt: string;
  readonly providerId: string;
  readonly urls: PlatformUrls;
  readonly database: DatabaseSettings;
  readonly devices: readonly string[];
}

/** Write the descriptor; the function returned removes it. */
export async function writeDescriptor(dataDir: string, descriptor: PlatformDescriptor): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, PLATFORM_FILE);
  await writeFile(file, JSON.stringify(descriptor, null, 2) + '\n', { mode: 0o600 });
  return () => rm(file, { force: true });
}

