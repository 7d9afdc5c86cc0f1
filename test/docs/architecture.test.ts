/**
 * docs/architecture.md's rules, read from the code's own imports (static `import`/`export … from`,
 * type-only imports included, dynamic `import('…')` too): no import cycles in src/, each
 * layer of the doc's diagram imports only from itself, the layers drawn below it, util/ and
 * engine/, and no command (src/cli/commands/) imports another. The layer order is read from the diagram, so the doc and this test cannot disagree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : name.endsWith('.ts') ? [p] : [];
  });
}

/** The src/ files that `file` imports (relative specifiers only; `.js` names the `.ts` source). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
  return specifiers.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts'))).filter((p) => p.startsWith(src));
}

const files = sourceFiles(src);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const name = (f: string) => relative(root, f);

test('every relative import in src/ names a file that exists', () => {
  for (const [file, targets] of graph) {
    for (const t of targets) assert.ok(graph.has(t), `${name(file)} imports ${name(t)}, which is not a source file`);
  }
});

test('src/ has no import cycles', () => {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === 'open') assert.fail(`import cycle: ${[...stack.slice(stack.indexOf(t)), t].map(name).join(' → ')}`);
      if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
});

test("each layer imports only downward (docs/architecture.md's diagram), util/ and engine/", () => {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const diagram = doc.slice(doc.indexOf('```'), doc.indexOf('```', doc.indexOf('```') + 3));
  const layers = [...diagram.matchAll(/^ ([a-z]+)\/ /gm)].map((m) => m[1]).reverse(); // bottom first
  assert.ok(layers.length >= 8 && layers[0] === 'data' && layers.at(-1) === 'cli', `layers read from the diagram: ${layers.join(', ')}`);
  const everyone = new Set(['util', 'engine']);
  const layerOf = (f: string) => relative(src, f).split('/')[0];
  const rank = (l: string) => layers.indexOf(l);
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    if (rank(from) < 0) continue; // index.ts, version.ts, util/, engine/
    for (const t of targets) {
      const to = layerOf(t);
      if (everyone.has(to) || to.endsWith('.ts')) continue;
      assert.ok(rank(to) >= 0 && rank(to) <= rank(from), `${name(file)} (${from}/) imports ${name(t)} (${to}/), a layer above it`);
    }
  }
  // util/ is the ground floor: it imports nothing of the layers
  for (const [file, targets] of graph) {
    if (layerOf(file) !== 'util') continue;
    for (const t of targets) assert.ok(['util', 'version.ts'].includes(layerOf(t)), `${name(file)} (util/) imports ${name(t)}`);
  }
});

test('a command imports shared CLI modules, never another command', () => {
  const commands = join(src, 'cli', 'commands');
  for (const [file, targets] of graph) {
    if (!file.startsWith(commands)) continue;
    for (const t of targets) assert.ok(!t.startsWith(commands), `${name(file)} imports the command ${name(t)}: move what they share to src/cli/`);
  }
});
