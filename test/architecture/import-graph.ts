/**
 * The import graph of `src/` and the layering rules of docs/architecture.md §3, for test/architecture/imports.test.ts.
 * `collectImports` reads every static `import … from`, `export … from`, side-effect `import '…'` and dynamic
 * `import('…')` of every .ts file (comments and string contents aside), resolves relative specifiers to paths
 * under src/; `violations` checks each edge against the rules and names the file and line of each break.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';

export interface ImportEdge {
  /** Importing file, relative to src/ (posix separators). */
  readonly from: string;
  readonly line: number;
  /** The specifier as written. */
  readonly specifier: string;
  /** Relative imports: the resolved path relative to src/ (may start with '../' when outside src/); else undefined. */
  readonly to: string | undefined;
}

export interface Violation {
  readonly edge: ImportEdge;
  readonly rule: string;
}

/** Blank out comments and the contents of template literals so that only real import statements are seen. */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      while (i < n && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && d === '*') {
      while (i < n && !(text[i] === '*' && text[i + 1] === '/')) {
        out += text[i] === '\n' ? '\n' : ' ';
        i++;
      }
      out += '  ';
      i += 2;
    } else if (c === '`') {
      // A template literal: keep newlines, blank the rest (imports are never inside one).
      out += c;
      i++;
      while (i < n && text[i] !== '`') {
        if (text[i] === '\\') {
          out += '  ';
          i += 2;
          continue;
        }
        out += text[i] === '\n' ? '\n' : ' ';
        i++;
      }
      out += '`';
      i++;
    } else if (c === "'" || c === '"') {
      // Keep string literals (specifiers are strings), skipping escapes.
      out += c;
      i++;
      while (i < n && text[i] !== c && text[i] !== '\n') {
        if (text[i] === '\\') {
          out += text[i]! + (text[i + 1] ?? '');
          i += 2;
          continue;
        }
        out += text[i];
        i++;
      }
      if (i < n) {
        out += text[i];
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const PATTERNS = [
  // import x from '…'; import { a } from '…'; import type …; export { a } from '…'; export * from '…'
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*$\s{},]*?)\s*from\s*(['"])([^'"\n]+)\1/g,
  // import '…' (side effect)
  /\bimport\s*(['"])([^'"\n]+)\1/g,
  // import('…') (dynamic)
  /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
];

/** The import edges of one file's text; `file` is its path relative to src/. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const clean = stripComments(text);
  const seen = new Set<number>();
  const edges: ImportEdge[] = [];
  for (const re of PATTERNS) {
    for (const m of clean.matchAll(re)) {
      const at = m.index + m[0].lastIndexOf(m[2]!);
      if (seen.has(at)) continue;
      seen.add(at);
      const specifier = m[2]!;
      const line = clean.slice(0, at).split('\n').length;
      const to = specifier.startsWith('.') ? posix.normalize(posix.join(posix.dirname(file), specifier)) : undefined;
      edges.push({ from: file, line, specifier, to });
    }
  }
  return edges.sort((a, b) => a.line - b.line);
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(p);
  }
}

/** Every import edge of every .ts file under `srcDir`. */
export function collectImports(srcDir: string): ImportEdge[] {
  const files: string[] = [];
  walk(srcDir, files);
  files.sort();
  const edges: ImportEdge[] = [];
  for (const f of files) {
    const rel = relative(srcDir, f).split(sep).join('/');
    edges.push(...importsOf(rel, readFileSync(f, 'utf8')));
  }
  return edges;
}

/** The pure library layers, lowest first: a layer imports only those before it (and itself). */
export const LIBRARY_LAYERS = ['core', 'crypto', 'apdu', 'gp', 'scp'] as const;

/**
 * Node built-ins the pure library (core … scp) may use: they run in a browser too (docs/architecture.md §3), so no
 * file system, sockets, processes or paths. `node:crypto` is allowed explicitly: `src/crypto` is "every
 * primitive, on node:crypto" (§3), and a browser build maps it onto WebCrypto / a polyfill; `node:buffer`
 * likewise has a browser polyfill.
 */
export const LIBRARY_NODE_ALLOWED: ReadonlySet<string> = new Set(['node:crypto', 'node:buffer']);

/**
 * Which top-level folders each folder of src/ may import (besides itself). `services` is refined by the actor
 * rules below; `runtime` composes everything; `cli` sits on top (its rule on services is `cliMayImport`).
 */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  core: [],
  crypto: ['core'],
  apdu: ['core', 'crypto'],
  gp: ['core', 'crypto', 'apdu'],
  scp: ['core', 'crypto', 'apdu', 'gp'],
  card: ['core', 'crypto', 'apdu', 'gp', 'scp'],
  transport: ['core', 'crypto', 'apdu'],
  // What every service shares (HTTP, auth, storage, audit, the flow runner): it may use the library and the
  // transports the services use, never a service, the simulator, the phone or anything above.
  platform: ['core', 'crypto', 'apdu', 'gp', 'scp', 'transport'],
  services: ['core', 'crypto', 'apdu', 'gp', 'scp', 'transport', 'platform'],
  device: ['core', 'crypto', 'apdu', 'gp', 'scp', 'transport'],
  // The business terminal is a platform client of the provider (HTTPS, mutual TLS): platform's HTTP client and
  // TLS, and the provider's typed client (see `ruleBroken`).
  terminal: ['core', 'crypto', 'apdu', 'gp', 'scp', 'transport', 'platform', 'services'],
  runtime: ['core', 'crypto', 'apdu', 'gp', 'scp', 'card', 'transport', 'platform', 'services', 'device', 'terminal'],
  cli: ['core', 'crypto', 'apdu', 'gp', 'scp', 'card', 'transport', 'platform', 'services', 'device', 'terminal', 'runtime'],
};

/** Folders of services/ that are shared code, not actors: any actor may import them; they import no actor. */
export const SHARED_SERVICE_FOLDERS: ReadonlySet<string> = new Set(['common', 'sd-keys']);

/**
 * The files of an actor that others may import: its typed client (and what the client re-exports) — and, for
 * the composition root and the CLI only, its entry point `service.ts` (start function, options).
 */
export const ACTOR_PUBLIC = 'client.ts';
export const ACTOR_ENTRY_POINTS: ReadonlySet<string> = new Set(['client.ts', 'service.ts']);

function topOf(path: string): string {
  return path.split('/')[0]!;
}

/** `services/<name>/…` → name. */
function serviceFolderOf(path: string): string | undefined {
  const parts = path.split('/');
  return parts[0] === 'services' && parts.length > 2 ? parts[1] : undefined;
}

/** The path of a file inside its actor folder (`services/ca/client.ts` → `client.ts`). */
function insideActor(path: string): string {
  return path.split('/').slice(2).join('/');
}

/** The rule an edge breaks, or undefined. */
export function ruleBroken(edge: ImportEdge): string | undefined {
  const fromTop = topOf(edge.from);
  const allowed = ALLOWED[fromTop];
  if (edge.to === undefined) {
    if (edge.specifier.startsWith('node:') && (LIBRARY_LAYERS as readonly string[]).includes(fromTop) && !LIBRARY_NODE_ALLOWED.has(edge.specifier)) {
      return `${fromTop} is a pure library that runs in a browser: no ${edge.specifier}`;
    }
    if (!edge.specifier.startsWith('node:') && (LIBRARY_LAYERS as readonly string[]).includes(fromTop) && /^(fs|net|tls|http|https|child_process|path|os|dgram|worker_threads|cluster)(\/|$)/.test(edge.specifier)) {
      return `${fromTop} is a pure library that runs in a browser: no ${edge.specifier}`;
    }
    return undefined;
  }
  if (edge.to.startsWith('../')) return `imports ${edge.to}, outside src/`;
  const toTop = topOf(edge.to);
  if (allowed === undefined) return `${fromTop}/ is not a known folder of src/ (docs/architecture.md §3)`;
  if (toTop !== fromTop && !allowed.includes(toTop)) {
    return `${fromTop} may not import ${toTop} (allowed: ${allowed.length === 0 ? 'nothing below it' : allowed.join(', ')})`;
  }
  const toService = serviceFolderOf(edge.to);
  if (toService === undefined) return undefined;
  const toFile = insideActor(edge.to);
  if (fromTop === 'services') {
    const fromService = serviceFolderOf(edge.from);
    if (fromService === toService) return undefined;
    if (SHARED_SERVICE_FOLDERS.has(toService)) return undefined;
    if (fromService !== undefined && SHARED_SERVICE_FOLDERS.has(fromService)) return `services/${fromService} is shared code: it imports no actor (services/${toService})`;
    if (toFile !== ACTOR_PUBLIC) return `services/${fromService} may use services/${toService} only through its client (services/${toService}/${ACTOR_PUBLIC}), not ${toFile}`;
    return undefined;
  }
  if (fromTop === 'terminal') {
    if (toFile === ACTOR_PUBLIC && !SHARED_SERVICE_FOLDERS.has(toService)) return undefined;
    return `terminal may use a service only through its client (services/${toService}/${ACTOR_PUBLIC}), not ${toFile}`;
  }
  if (fromTop === 'cli') {
    if (SHARED_SERVICE_FOLDERS.has(toService) || ACTOR_ENTRY_POINTS.has(toFile)) return undefined;
    return `cli may use a service through its client or entry point (${[...ACTOR_ENTRY_POINTS].join(', ')}), not services/${toService}/${toFile}`;
  }
  return undefined;
}

export function violations(edges: readonly ImportEdge[]): Violation[] {
  const out: Violation[] = [];
  for (const edge of edges) {
    const rule = ruleBroken(edge);
    if (rule !== undefined) out.push({ edge, rule });
  }
  return out;
}

export function formatViolation(v: Violation): string {
  return `src/${v.edge.from}:${v.edge.line}: import '${v.edge.specifier}' — ${v.rule}`;
}

/** src/ of this repository. */
export const SRC_DIR = join(dirname(new URL(import.meta.url).pathname), '..', '..', 'src');
