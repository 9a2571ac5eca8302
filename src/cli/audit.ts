/**
 * `opentsm audit verify --db sqlite:PATH|postgres://…`: recompute the audit log's hash chain and say
 * whether it is intact (exit 0) or where it breaks (exit 1). Read-only: a SQLite file is opened
 * read-only and never created; nothing is migrated.
 */
import { existsSync } from 'node:fs';
import { fromHex } from '../core/bytes.ts';
import { basename } from 'node:path';
import { verifyCheckpoints } from '../platform/audit/checkpoint.ts';
import { verifyAuditLog, type AuditVerification } from '../platform/audit/log.ts';
import { FileKeyStore } from '../platform/keystore/file-kek.ts';
import type { Database } from '../platform/storage/database.ts';
import { openDatabase, parseDatabaseUrl } from '../platform/storage/open.ts';
import { formatOptions, parseArgs, type OptionSpec } from './args.ts';
import { UsageError } from './errors.ts';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'db', kind: 'value', valueName: 'DB', help: 'sqlite:PATH | postgres://USER@HOST:PORT/NAME[?schema=S]' },
  { name: 'anchor', kind: 'value', valueName: 'SEQ:HASH', help: 'a head printed earlier; the chain must still hold it' },
  { name: 'checkpoints', kind: 'value', valueName: 'FILE', help: "the service's signed checkpoints (<dataDir>/audit/<service>.checkpoints)" },
  { name: 'kek', kind: 'value', valueName: 'FILE', help: 'the keystore KEK file, to check the checkpoint signatures' },
  { name: 'json', kind: 'flag', help: 'print the result as JSON' },
  { name: 'help', kind: 'flag', help: 'this text' },
];

const HELP = `usage: opentsm audit verify --db DB [--anchor SEQ:HASH] [--checkpoints FILE [--kek FILE]] [--json]

Verifies the append-only, hash-chained audit log: every record's SHA-256 chain, no record edited,
deleted, reordered or inserted, and the head row. With --checkpoints, also every signed checkpoint the
service wrote of its head: records cut off the end (even with the head row rewritten) are reported with
the checkpoint that still names them. Exit status 0 when intact, 1 when not.

options:
${formatOptions(OPTIONS)}
`;

function parseAnchor(text: string): { seq: number; hash: Uint8Array } {
  const m = /^(\d{1,15}):([0-9a-fA-F]{64})$/.exec(text);
  if (!m) throw new UsageError('BAD_VALUE', '--anchor: expected SEQ:HASH (a decimal seq and 64 hex digits)');
  return { seq: Number(m[1]), hash: fromHex(m[2]!) };
}

function describe(v: AuditVerification & { checkpoints?: number; signed?: boolean }): string {
  const cps = v.checkpoints === undefined ? '' : `, ${v.checkpoints} checkpoint(s) held${v.signed ? ' (signatures checked)' : ' (signatures not checked: no --kek)'}`;
  if (v.ok) return `audit log intact: ${v.count} record(s), head ${v.head.seq}:${v.head.hash}${cps}\n`;
  return `audit log BROKEN at record ${v.firstBadSeq}: ${v.reason}\n${v.count} record(s) intact before it, last good head ${v.head.seq}:${v.head.hash}\n`;
}

export async function runAudit(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'verify') throw new UsageError('UNKNOWN_COMMAND', `unknown audit command: ${sub} (try: opentsm audit --help)`);
  const p = parseArgs(rest, OPTIONS);
  if (p.flags.has('help')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (p.positional.length > 0) throw new UsageError('BAD_VALUE', `unexpected argument: ${p.positional[0]}`);
  const dbText = p.values.get('db');
  if (dbText === undefined) throw new UsageError('MISSING_ARGUMENT', '--db is required (sqlite:PATH or postgres://…)');
  let config;
  try {
    config = parseDatabaseUrl(dbText);
  } catch (e) {
    throw new UsageError('BAD_VALUE', `--db: ${(e as Error).message}`);
  }
  const anchorText = p.values.get('anchor');
  const anchor = anchorText === undefined ? undefined : parseAnchor(anchorText);
  if (config.driver === 'sqlite') {
    if (!existsSync(config.path)) throw new UsageError('BAD_VALUE', `--db: no such file: ${config.path}`);
    config = { ...config, readOnly: true };
  }
  let db: Database | undefined;
  try {
    db = await openDatabase(config);
    const checkpoints = p.values.get('checkpoints');
    const kek = p.values.get('kek');
    if (kek !== undefined && checkpoints === undefined) throw new UsageError('BAD_VALUE', '--kek checks checkpoint signatures: give --checkpoints too');
    let v: AuditVerification & { checkpoints?: number; signed?: boolean } = await verifyAuditLog(db, anchor === undefined ? {} : { anchor });
    if (v.ok && checkpoints !== undefined) {
      if (!existsSync(checkpoints)) throw new UsageError('BAD_VALUE', `--checkpoints: no such file: ${checkpoints}`);
      const keystore = kek === undefined ? undefined : await FileKeyStore.open(kek);
      try {
        v = await verifyCheckpoints(db, checkpoints, basename(checkpoints).replace(/\.checkpoints$/, ''), keystore);
      } finally {
        keystore?.close();
      }
    }
    process.stdout.write(p.flags.has('json') ? `${JSON.stringify(v)}\n` : describe(v));
    return v.ok ? 0 : 1;
  } finally {
    await db?.close();
  }
}
