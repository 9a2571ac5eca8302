/**
 * `opentsm scenario run terminal-ssd|ota-ssd|rotate-keys|asymmetric-ssd [--platform DIR|URL [--data DIR]] [--devices N]
 * [--scp 11a|11c|10] [--rsa-bits 1024|2048]`:
 * run a flow end to end and print a JSON summary ending with `"ok": true` — in-process on a temporary
 * platform when no --platform is given, or against a running `opentsm up`. Exit status 0 only when ok.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatOptions, parseArgs, parseIntArg, type OptionSpec } from './args.ts';
import { UsageError } from './errors.ts';
import { startPlatform, type Platform, type PlatformDescriptor } from '../runtime/index.ts';
import { DEFAULT_DATA_DIR } from './up.ts';
import { Checks, ScenarioFailure } from './scenarios/checks.ts';
import { inProcessContext, readDescriptor, remoteContext, type ScenarioContext } from './scenarios/context.ts';
import { runOtaSsd } from './scenarios/ota-ssd.ts';
import { runRotateKeys } from './scenarios/rotate-keys.ts';
import { runTerminalSsd } from './scenarios/terminal-ssd.ts';
import { runAsymmetricSsd } from './scenarios/asymmetric-ssd.ts';
import type { AsymmetricVariant } from '../services/sd-keys/asymmetric.ts';

export const SCENARIOS = ['terminal-ssd', 'ota-ssd', 'rotate-keys', 'asymmetric-ssd'] as const;
const VARIANTS: readonly AsymmetricVariant[] = ['11a', '11c', '10'];
export type ScenarioName = (typeof SCENARIOS)[number];

const SPECS: readonly OptionSpec[] = [
  { name: 'platform', kind: 'value', valueName: 'DIR|URL', help: 'a running `opentsm up`: its data folder, or one of its URLs (then --data names the folder)' },
  { name: 'data', kind: 'value', valueName: 'DIR', help: `with --platform URL: the platform's data folder (default ./${DEFAULT_DATA_DIR})` },
  { name: 'devices', kind: 'value', valueName: 'N', help: 'phones to run the flow on (default 3; ota-ssd, rotate-keys)' },
  { name: 'scp', kind: 'value', valueName: '11a|11c|10', help: 'asymmetric-ssd: the protocol of the SSD (default 11a)' },
  { name: 'rsa-bits', kind: 'value', valueName: '1024|2048', help: 'asymmetric-ssd with --scp 10: the SSD key size (default 2048)' },
  { name: 'help', kind: 'flag', help: 'this text' },
];

export const SCENARIO_USAGE = `usage: opentsm scenario run <${SCENARIOS.join('|')}> [options]

Runs a flow end to end and prints a JSON summary of what it checked (card ids, SSD AIDs, key versions, KCVs,
and that the provider's keys open the SSD while the issuer's do not — asked of the card), ending with
"ok": true. Exit status 0 only when every check passed.

  ota-ssd       the provider asks for an SSD on N phones over OTA (issuer creates, delivers initial keys,
                hands over; the provider replaces the keys)
  rotate-keys   ota-ssd, then the four rotation cases: provider-/issuer-managed SSD x forced/expiry
  terminal-ssd  a card at the provider's counter: a business terminal asks for the service, the SSD is
                created and taken over through the terminal
  asymmetric-ssd  the provider asks for an SSD whose keys the card generates (--scp 11a|11c|10): the issuer
                creates it over OTA with the provider CA's trust point, the provider re-keys it in its own
                SCP11/SCP10 session, certifies the new key with its CA, installs the certificate and its
                applet; the issuer's keys open nothing on it

Without --platform a temporary platform runs in this process (and is deleted afterwards). With --platform the
scenario runs against a running \`opentsm up\`; it needs that platform's data folder, which holds the operator's
client certificate (tls/operator.*), the CA (to certify a terminal), the phones and the platforms' databases
and KEK (to check which keys the platforms hold — the services never answer keys):
  opentsm scenario run ota-ssd --platform ./opentsm-data
  opentsm scenario run ota-ssd --platform https://127.0.0.1:7101 --data ./opentsm-data

${formatOptions(SPECS)}
`;

export interface ScenarioSummary {
  readonly scenario: ScenarioName;
  readonly platform: string;
  readonly ok: boolean;
  readonly [k: string]: unknown;
}

export interface ScenarioOptions {
  readonly variant?: AsymmetricVariant;
  readonly modulusBits?: 1024 | 2048;
}

async function run(name: ScenarioName, ctx: ScenarioContext, checks: Checks, devices: number, options: ScenarioOptions): Promise<Record<string, unknown>> {
  switch (name) {
    case 'asymmetric-ssd': {
      const variant = options.variant ?? '11a';
      const r = await runAsymmetricSsd(ctx, checks, devices, variant, variant === '10' ? (options.modulusBits ?? 2048) : undefined);
      return { scp: variant, ...(variant === '10' ? { rsaBits: options.modulusBits ?? 2048 } : {}), aid: r.aid, cards: r.cards };
    }
    case 'ota-ssd': {
      const r = await runOtaSsd(ctx, checks, devices);
      return { aid: r.aid, cards: r.cards };
    }
    case 'rotate-keys': {
      const r = await runRotateKeys(ctx, checks, devices);
      return { ssds: r.ssds, issuerManagedAid: r.issuerManagedAid, rotations: r.rotations };
    }
    case 'terminal-ssd':
      return { terminal: await runTerminalSsd(ctx, checks) };
  }
}

/** Run a scenario on a context; never throws for a failed check or a refused request (ok: false). */
export async function runScenarioOn(name: ScenarioName, ctx: ScenarioContext, devices: number, options: ScenarioOptions = {}): Promise<ScenarioSummary> {
  const checks = new Checks();
  const t0 = performance.now();
  let result: Record<string, unknown> = {};
  let error: string | undefined;
  try {
    result = await run(name, ctx, checks, devices, options);
  } catch (e) {
    error = e instanceof ScenarioFailure ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
  }
  const ok = error === undefined && checks.list.every((c) => c.ok);
  return {
    scenario: name,
    platform: ctx.where,
    ...(name !== 'terminal-ssd' ? { devices } : {}),
    ...result,
    checks: checks.list,
    checksPassed: checks.list.filter((c) => c.ok).length,
    elapsedMs: Math.round(performance.now() - t0),
    ...(error !== undefined ? { error } : {}),
    ok,
  };
}

function sameOrigin(url: string, descriptor: PlatformDescriptor): boolean {
  const origin = new URL(url).origin;
  return Object.values(descriptor.urls).some((u) => typeof u === 'string' && new URL(u).origin === origin);
}

export async function runScenario(argv: string[]): Promise<number> {
  const args = parseArgs(argv, SPECS);
  if (args.flags.has('help') || argv.length === 0) {
    process.stdout.write(SCENARIO_USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const [verb, name, ...extra] = args.positional;
  if (verb !== 'run') throw new UsageError('MISSING_ARGUMENT', `expected: opentsm scenario run <${SCENARIOS.join('|')}> (see --help)`);
  if (name === undefined) throw new UsageError('MISSING_ARGUMENT', `which scenario? one of ${SCENARIOS.join(', ')}`);
  if (!(SCENARIOS as readonly string[]).includes(name)) throw new UsageError('BAD_VALUE', `unknown scenario: ${name} (one of ${SCENARIOS.join(', ')})`);
  if (extra.length > 0) throw new UsageError('BAD_VALUE', `unexpected argument: ${extra[0]}`);
  const devices = parseIntArg(args.values.get('devices') ?? '3', 'devices', 1, 1000);
  const scp = args.values.get('scp');
  const bits = args.values.get('rsa-bits');
  if (scp !== undefined && name !== 'asymmetric-ssd') throw new UsageError('CONFLICT', '--scp goes with the asymmetric-ssd scenario');
  if (scp !== undefined && !(VARIANTS as readonly string[]).includes(scp)) throw new UsageError('BAD_VALUE', `--scp: ${scp} is not one of ${VARIANTS.join(', ')}`);
  if (bits !== undefined && scp !== '10') throw new UsageError('CONFLICT', '--rsa-bits goes with --scp 10');
  if (bits !== undefined && bits !== '1024' && bits !== '2048') throw new UsageError('BAD_VALUE', `--rsa-bits: ${bits} is not 1024 or 2048`);
  const scenarioOptions: ScenarioOptions = {
    ...(scp !== undefined ? { variant: scp as AsymmetricVariant } : {}),
    ...(bits !== undefined ? { modulusBits: Number(bits) as 1024 | 2048 } : {}),
  };
  const target = args.values.get('platform');
  if (target === undefined && args.values.has('data')) throw new UsageError('CONFLICT', '--data goes with --platform URL');

  let ctx: ScenarioContext;
  let platform: Platform | undefined;
  let temp: string | undefined;
  if (target === undefined) {
    temp = await mkdtemp(join(tmpdir(), 'opentsm-scenario-'));
    platform = await startPlatform({ dataDir: temp, devices, ports: 'any', logLevel: 'silent', persistPhones: false });
    ctx = await inProcessContext(platform);
  } else {
    let dataDir: string;
    if (/^https?:\/\//i.test(target)) {
      let ok = true;
      try {
        new URL(target);
      } catch {
        ok = false;
      }
      if (!ok) throw new UsageError('BAD_VALUE', `--platform: not a URL: ${target}`);
      dataDir = resolve(args.values.get('data') ?? DEFAULT_DATA_DIR);
      const d = await readDescriptor(dataDir);
      if (!sameOrigin(target, d)) throw new UsageError('BAD_VALUE', `--platform: ${target} is not a URL of the platform whose data folder is ${dataDir}`);
      ctx = await remoteContext(dataDir, d);
    } else {
      if (args.values.has('data')) throw new UsageError('CONFLICT', '--data goes with --platform URL (with --platform DIR the folder is DIR)');
      dataDir = resolve(target);
      ctx = await remoteContext(dataDir, await readDescriptor(dataDir));
    }
  }
  let summary: ScenarioSummary;
  try {
    summary = await runScenarioOn(name as ScenarioName, ctx, devices, scenarioOptions);
  } finally {
    await ctx.close();
    await platform?.close();
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  return summary.ok ? 0 : 1;
}
