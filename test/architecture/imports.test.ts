/**
 * The layering of docs/architecture.md §3, held by a test: every import of every .ts file under src/ (static,
 * `export … from`, side-effect and dynamic `import()`), resolved, checked against the allowed directions
 * (test/architecture/import-graph.ts states them). Every violation is printed with file:line. The second half
 * proves the checker can fail: synthetic forbidden edges, one per rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectImports, formatViolation, importsOf, violations, SRC_DIR, type ImportEdge } from './import-graph.ts';

test('src/ has no import in a forbidden direction (docs/architecture.md §3)', () => {
  const edges = collectImports(SRC_DIR);
  assert.ok(edges.length > 1000, `only ${edges.length} imports found: is SRC_DIR right (${SRC_DIR})?`);
  const found = violations(edges).map(formatViolation);
  assert.deepEqual(found, [], `forbidden imports:\n${found.join('\n')}`);
});

test('the reader sees static, type-only, re-export, side-effect and dynamic imports, and not those in comments or strings', () => {
  const text = [
    "import { a } from './a.ts';",
    "import type { B } from '../x/b.ts';",
    "export { c } from './c.ts';",
    "export * from './d.ts';",
    "import './e.ts';",
    'const m = await import("../y/f.ts");',
    "import {",
    "  g,",
    "  h,",
    "} from 'node:fs';",
    "// import { no } from './comment.ts';",
    "/* import { no } from './block.ts'; */",
    "const s = `import { no } from './template.ts'`;",
  ].join('\n');
  const edges = importsOf('gp/file.ts', text);
  assert.deepEqual(
    edges.map((e) => [e.line, e.specifier, e.to]),
    [
      [1, './a.ts', 'gp/a.ts'],
      [2, '../x/b.ts', 'x/b.ts'],
      [3, './c.ts', 'gp/c.ts'],
      [4, './d.ts', 'gp/d.ts'],
      [5, './e.ts', 'gp/e.ts'],
      [6, '../y/f.ts', 'y/f.ts'],
      [10, 'node:fs', undefined],
    ],
  );
});

function edge(from: string, specifier: string): ImportEdge {
  return importsOf(from, `import { x } from '${specifier}';`)[0]!;
}

test('the checker fails on each forbidden direction and names file:line and the rule', () => {
  const forbidden: [string, string, RegExp][] = [
    ['core/bytes.ts', '../crypto/aes.ts', /core may not import crypto/],
    ['crypto/aes.ts', '../apdu/command.ts', /crypto may not import apdu/],
    ['apdu/command.ts', '../gp/aid.ts', /apdu may not import gp/],
    ['gp/aid.ts', '../scp/channel.ts', /gp may not import scp/],
    ['scp/channel.ts', '../card/card.ts', /scp may not import card/],
    ['scp/channel.ts', 'node:fs', /pure library .* no node:fs/],
    ['core/bytes.ts', 'node:net', /no node:net/],
    ['gp/aid.ts', 'node:path', /no node:path/],
    ['apdu/command.ts', 'node:child_process', /no node:child_process/],
    ['card/card.ts', '../transport/errors.ts', /card may not import transport/],
    ['card/card.ts', '../services/ota/client.ts', /card may not import services/],
    ['transport/in-process.ts', '../card/card.ts', /transport may not import card/],
    ['transport/in-process.ts', '../scp/channel.ts', /transport may not import scp/],
    ['services/issuer/app.ts', '../../card/card.ts', /services may not import card/],
    ['services/issuer/app.ts', '../../device/device.ts', /services may not import device/],
    ['services/issuer/app.ts', '../../runtime/index.ts', /services may not import runtime/],
    ['services/issuer/client.ts', '../provider/flows/take-over.ts', /only through its client \(services\/provider\/client.ts\)/],
    ['services/provider/relay/relay.ts', '../../ota/ram-endpoint.ts', /only through its client/],
    ['services/provider/asymmetric/ca-port.ts', '../../ca/authority.ts', /only through its client/],
    ['services/common/card-access.ts', '../ota/client.ts', /shared code: it imports no actor/],
    ['device/device.ts', '../services/ota/client.ts', /device may not import services/],
    ['device/device.ts', '../card/card.ts', /device may not import card/],
    ['terminal/terminal.ts', '../services/provider/relay/api.ts', /terminal may use a service only through its client/],
    ['cli/up.ts', '../services/issuer/key-slot.ts', /cli may use a service through its client or entry point/],
    ['platform/http/client.ts', '../../services/common/deps.ts', /platform may not import services/],
    ['platform/flows/runner.ts', '../../card/card.ts', /platform may not import card/],
    ['web/app.ts', '../core/bytes.ts', /web\/ is not a known folder/],
    ['core/bytes.ts', '../../test/x.ts', /outside src/],
  ];
  for (const [from, specifier, rule] of forbidden) {
    const found = violations([edge(from, specifier)]);
    assert.equal(found.length, 1, `${from} → ${specifier} was not caught`);
    assert.match(found[0]!.rule, rule, `${from} → ${specifier}`);
    assert.equal(formatViolation(found[0]!).startsWith(`src/${from}:1: import '${specifier}'`), true);
  }
});

test('the checker admits the allowed directions', () => {
  const allowed: [string, string][] = [
    ['scp/channel.ts', '../gp/aid.ts'],
    ['crypto/ecc.ts', 'node:crypto'],
    ['card/card.ts', '../scp/channel.ts'],
    ['transport/in-process.ts', '../apdu/channel.ts'],
    ['services/issuer/client.ts', '../sd-keys/key-set.ts'],
    ['services/issuer/terminal-access.ts', '../provider/client.ts'],
    ['services/provider/service.ts', '../ca/client.ts'],
    ['services/provider/relay/relay.ts', '../../../transport/ram-http/server-session.ts'],
    ['services/ota/client.ts', '../common/deps.ts'],
    ['device/device.ts', '../transport/ram-http/client-session.ts'],
    ['terminal/terminal.ts', '../services/provider/client.ts'],
    ['runtime/platform.ts', '../services/provider/relay/index.ts'],
    ['runtime/phones.ts', '../card/index.ts'],
    ['cli/scenario.ts', '../runtime/index.ts'],
    ['cli/scenarios/context.ts', '../../services/ota/client.ts'],
    ['cli/x.ts', '../services/issuer/service.ts'],
  ];
  for (const [from, specifier] of allowed) assert.deepEqual(violations([edge(from, specifier)]), [], `${from} → ${specifier}`);
});
