/**
 * Asymmetric SSD hand-overs (docs/architecture.md §4 flow 4) per second, SCP11a (P-256) against SCP10 (RSA-2048 and
 * RSA-1024), and where the time goes.
 *
 *   npm run bench -- asymmetric [--handovers N] [--concurrency C] [--serial N]
 *
 * 1. Through OTA: the whole platform in this process (`startPlatform`: provider, issuer, CA and OTA services on
 *    mutual TLS, phones on RAM over HTTP / PSK-TLS): N `POST /v1/cards/{id}/asymmetric-ssds`, C at once, each on
 *    its own phone → hand-overs/s and latency.
 * 2. The split, from serial runs (one at a time) of the same hand-over in three set-ups:
 *      keygen    the two on-card key pair generations (the card's own key generation, timed alone)
 *      protocol  the same flow functions with in-memory databases and the card in-process, minus keygen:
 *                SCP11/SCP10 handshakes, secure messaging, certificates, CA signatures, sealing, audit
 *      I/O       the OTA hand-over minus the in-process one: HTTP between services, TLS, OTA scripts, phones
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform } from '../src/runtime/index.ts';
import { fromHex } from '../src/core/bytes.ts';
import { createCard } from '../src/card/index.ts';
import { generateRsaKeyPair } from '../src/card/sd/rsa-keys.ts';
import { generateKeyPair } from '../src/crypto/index.ts';
import { InProcessChannel } from '../src/transport/in-process.ts';
import { openDatabase, migrate, type Database } from '../src/platform/storage/index.ts';
import { FileKeyStore } from '../src/platform/keystore/index.ts';
import { AuditLog, AUDIT_MIGRATIONS, type AuditDetails } from '../src/platform/audit/index.ts';
import { FlowStore } from '../src/platform/flows/store.ts';
import type { Auditor, FlowDeps } from '../src/services/common/deps.ts';
import { ISSUER_MIGRATIONS } from '../src/services/issuer/schema.ts';
import { PROVIDER_MIGRATIONS } from '../src/services/provider/schema.ts';
import { CA_MIGRATIONS } from '../src/services/ca/schema.ts';
import { createCa, type CaDeps } from '../src/services/ca/authority.ts';
import { registerCard, registerProvider } from '../src/services/issuer/inventory.ts';
import { requestAsymmetricSsd } from '../src/services/issuer/flows/asymmetric-ssd.ts';
import { localCaPort } from '../src/services/provider/asymmetric/ca-port.ts';
import { runAsymmetricSsd, startAsymmetricSsd, type AsymmetricPorts } from '../src/services/provider/asymmetric/flow.ts';
import { keySetFromHex } from '../src/services/sd-keys/key-set.ts';
import type { AsymmetricVariant } from '../src/services/sd-keys/asymmetric.ts';

interface Case {
  readonly name: string;
  readonly variant: AsymmetricVariant;
  readonly bits?: 1024 | 2048;
}

const CASES: readonly Case[] = [
  { name: 'SCP11a P-256', variant: '11a' },
  { name: 'SCP10 RSA-2048', variant: '10', bits: 2048 },
  { name: 'SCP10 RSA-1024', variant: '10', bits: 1024 },
];

function parse(args: string[]) {
  const o = { handovers: 48, concurrency: 8, serial: 8 };
  for (let i = 0; i < args.length; i += 2) {
    const k = args[i];
    const n = Number(args[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${k} needs a positive integer`);
    if (k === '--handovers') o.handovers = n;
    else if (k === '--concurrency') o.concurrency = n;
    else if (k === '--serial') o.serial = n;
    else throw new Error(`unknown option ${k} (--handovers N, --concurrency C, --serial N)`);
  }
  return o;
}

const ms = (t: number) => Math.round(t * 10) / 10;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

let aidCounter = 0;
function freshAid(): string {
  return `A000000151535041${(0x4000 + aidCounter++).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** 1. Through OTA: N hand-overs, C at once, each on its own phone. */
async function throughOta(c: Case, phones: readonly string[], provider: { post: Function }, n: number, concurrency: number, latencies: number[]): Promise<number> {
  const aid = freshAid();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        const r = await (provider.post as (p: string, o: unknown) => Promise<{ status: number }>)(`/v1/cards/${phones[i % phones.length]}/asymmetric-ssds`, {
          body: { aid, variant: c.variant, instanceAid: `${aid}EC`, ...(c.bits !== undefined ? { modulusBits: c.bits } : {}) },
          idempotencyKey: `bench-${aid}-${i}`,
        });
        if (r.status !== 201) throw new Error(`hand-over ${i} answered ${r.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

/** The same flow functions in one process: in-memory databases, the card in-process, no HTTP, no OTA. */
async function inProcessHandover(c: Case, kekDir: string, k: number): Promise<number> {
  const iccid = `89882110000000${String(k).padStart(5, '0')}F`;
  const card = createCard({ profile: 'scp03', ssdInitialKeys: null, iccid: fromHex(iccid) });
  const channel = new InProcessChannel(card);
  const open = async (migrations: typeof ISSUER_MIGRATIONS) => {
    const db = await openDatabase({ driver: 'sqlite', path: ':memory:' });
    await migrate(db, migrations, { component: 'service' });
    await migrate(db, AUDIT_MIGRATIONS, { component: 'audit' });
    return db;
  };
  const auditor = (db: Database): Auditor => {
    const log = new AuditLog(db);
    return async (tx, r) => void (await log.append({ ...r, details: r.details as AuditDetails }, tx));
  };
  const dbs = [await open(ISSUER_MIGRATIONS), await open(PROVIDER_MIGRATIONS), await open(CA_MIGRATIONS)] as const;
  const deps = async (actor: string, db: Database, n: number): Promise<FlowDeps> => ({
    db,
    sealer: await FileKeyStore.open(join(kekDir, `kek-${k}-${n}.key`)),
    audit: auditor(db),
    flows: new FlowStore(db),
    cardAccess: async () => channel,
    actor,
  });
  const issuer = await deps('issuer', dbs[0], 0);
  const provider = await deps('provider:bank', dbs[1], 1);
  const ca: CaDeps = { db: dbs[2], sealer: await FileKeyStore.open(join(kekDir, `kek-${k}-2.key`)), audit: auditor(dbs[2]), actor: 'ca' };
  const key = '404142434445464748494A4B4C4D4E4F';
  await registerCard(issuer, { cardId: iccid, iin: '0001', cin: '000102030405060708090A0B0C0D0E0F', eid: null, profile: 'scp03', isdAid: 'A000000151000000', isdKeys: keySetFromHex(0x30, 3, key, key, key) });
  await registerProvider(issuer, { providerId: 'bank', name: 'Bank', aidPrefix: 'A000000151535041', privileges: ['AuthorizedManagement'], maxSsds: 4 });
  const scp11 = await createCa(ca, 'bank', 'scp11', 'P-256');
  const scp10 = await createCa(ca, 'bank', 'scp10', 'RSA-2048');
  const ports: AsymmetricPorts = {
    ca: localCaPort(ca, 'bank'),
    cas: { scp11: scp11.caId, scp10: scp10.caId },
    issuer: {
      async requestAsymmetricSsd(req) {
        const { variant, trustPoint, modulusBits, ...rest } = req;
        const { flowId: _f, ...info } = await requestAsymmetricSsd(issuer, { ...rest, providerId: 'bank', asymmetric: { variant, trustPoint, ...(modulusBits ? { modulusBits } : {}) } });
        return info;
      },
    },
  };
  // The provider's OCE identity is made once per provider, not per hand-over: made before the clock starts.
  const warm = await startAsymmetricSsd(provider, ports, { cardId: iccid, aid: 'A0000001515350410001', route: { kind: 'ota' }, privileges: ['AuthorizedManagement'], variant: c.variant, ...(c.bits ? { modulusBits: c.bits } : {}) });
  await runAsymmetricSsd(provider, ports, warm);
  const t = performance.now();
  const flow = await startAsymmetricSsd(provider, ports, { cardId: iccid, aid: 'A0000001515350410002', route: { kind: 'ota' }, privileges: ['AuthorizedManagement'], variant: c.variant, instanceAid: 'A0000001515350410002EC', ...(c.bits ? { modulusBits: c.bits } : {}) });
  await runAsymmetricSsd(provider, ports, flow);
  const elapsed = performance.now() - t;
  for (const db of dbs) await db.close();
  return elapsed;
}

/** Two on-card key generations, timed alone (what the card's GENERATE KEY PAIR does). */
function keygen(c: Case): number {
  const t = performance.now();
  for (let i = 0; i < 2; i++) {
    if (c.variant === '10') generateRsaKeyPair(c.bits ?? 2048);
    else generateKeyPair('P-256');
  }
  return performance.now() - t;
}

export default async function asymmetric(args: string[]): Promise<void> {
  const o = parse(args);
  const dataDir = await mkdtemp(join(tmpdir(), 'opentsm-bench-asym-'));
  const kekDir = await mkdtemp(join(tmpdir(), 'opentsm-bench-kek-'));
  const devices = Math.max(o.handovers, o.serial, o.concurrency);
  process.stdout.write(`asymmetric SSD hand-overs: platform in this process, ${devices} phones, ${o.handovers} hand-overs per case, ${o.concurrency} at once; split from ${o.serial} serial runs\n`);
  const platform = await startPlatform({ dataDir, devices, ports: 'any', logLevel: 'silent', persistPhones: false });
  const rows: Record<string, unknown>[] = [];
  try {
    const phones = platform.phones.map((p) => p.iccid);
    // The provider's OCE identities (one per protocol family, made at first use) before the clock starts.
    for (const c of [CASES[0]!, CASES[2]!]) await throughOta(c, phones.slice(0, 1), platform.operator.provider, 1, 1, []);
    for (const c of CASES) {
      const latencies: number[] = [];
      const rate = await throughOta(c, phones, platform.operator.provider, o.handovers, o.concurrency, latencies);
      const serialOta: number[] = [];
      for (let i = 0; i < o.serial; i++) {
        const one: number[] = [];
        await throughOta(c, phones.slice(i, i + 1), platform.operator.provider, 1, 1, one);
        serialOta.push(one[0]!);
      }
      const local: number[] = [];
      for (let i = 0; i < o.serial; i++) local.push(await inProcessHandover(c, kekDir, rows.length * 1000 + i));
      const gen: number[] = [];
      for (let i = 0; i < o.serial; i++) gen.push(keygen(c));
      const [tOta, tLocal, tGen] = [median(serialOta), median(local), median(gen)];
      const row = {
        case: c.name,
        handoversPerSecond: Math.round(rate * 10) / 10,
        p50ms: ms(median(latencies)),
        p99ms: ms(pct(latencies, 99)),
        serialMs: ms(tOta),
        keygenMs: ms(tGen),
        protocolMs: ms(Math.max(0, tLocal - tGen)),
        ioMs: ms(Math.max(0, tOta - tLocal)),
      };
      rows.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
  } finally {
    await platform.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(kekDir, { recursive: true, force: true });
  }
  const rate = (name: string) => rows.find((r) => r.case === name)!.handoversPerSecond as number;
  process.stdout.write(
    `ratio SCP11 / SCP10: ${(rate('SCP11a P-256') / rate('SCP10 RSA-2048')).toFixed(2)} (vs RSA-2048), ${(rate('SCP11a P-256') / rate('SCP10 RSA-1024')).toFixed(2)} (vs RSA-1024)\n`,
  );
}
