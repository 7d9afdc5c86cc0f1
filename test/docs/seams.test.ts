/**
 * docs/architecture.md's table of seams, held to its word for two rows: "a reference source"
 * and "a training parameter". The test copies src/ next to the real one, adds a toy of each by
 * editing only the files the row names (and no more of them than the row's count), type-checks
 * the copy with the project's strict settings, and runs it in a child process: a teacher that
 * needs no other file works from the library, a YAML config and `distillery update`; a
 * parameter that needs no other file has its default, flag, help, range check and config key.
 * When code moves and an edit no longer applies, the test says which; fix the doc and the edit
 * together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Edit {
  file: string;
  find: string;
  replace: string;
}

/** A teacher that knows nothing: equal logits for every class of every training row. */
const REFERENCE_EDITS: Edit[] = [
  {
    file: 'src/methods/referenceSpec.ts',
    find: "  | { kind: 'model'; model: TrainedModel };",
    replace: "  | { kind: 'model'; model: TrainedModel }\n  | { kind: 'uniform' };",
  },
  {
    file: 'src/methods/referenceSpec.ts',
    find: "    case 'base':\n    case 'logged':\n      return;",
    replace: "    case 'base':\n    case 'logged':\n    case 'uniform':\n      return;",
  },
  {
    file: 'src/methods/referenceSpec.ts',
    find: "    case 'peers':\n      return { source: { kind: 'peers'",
    replace:
      "    case 'uniform':\n      return { source: { kind: 'logged', logits: new Float32Array(ctx.train.labels.length * K), source: 'uniform' }, trained: false };\n" +
      "    case 'peers':\n      return { source: { kind: 'peers'",
  },
  {
    file: 'src/experiments/config.ts',
    find: "  z.object({ kind: z.literal('base') }).strict(),",
    replace: "  z.object({ kind: z.literal('base') }).strict(),\n  z.object({ kind: z.literal('uniform') }).strict(),",
  },
  {
    file: 'src/cli/commands/update.ts',
    find: '  referencePredictions?: string;\n',
    replace: '  referencePredictions?: string;\n  uniformReference?: boolean;\n',
  },
  {
    file: 'src/cli/commands/update.ts',
    find: '    .option(...membersOption)',
    replace: "    .option('--uniform-reference', 'teacher with equal logits for every class')\n    .option(...membersOption)",
  },
  {
    file: 'src/cli/commands/update.ts',
    find: "      flags.reference ? { kind: 'ensemble', dir: flags.reference }",
    replace: "      flags.uniformReference ? { kind: 'uniform' }\n      : flags.reference ? { kind: 'ensemble', dir: flags.reference }",
  },
];

const TRAINING_EDITS: Edit[] = [
  {
    file: 'src/train/trainingParams.ts',
    find: "  monitor: param({",
    replace: "  toyKnob: param({ flag: '--toy-knob <x>', help: 'a knob nothing reads', schema: z.number().min(0).max(1), default: 0.25 }),\n  monitor: param({",
  },
  {
    file: 'src/models/recipe.ts',
    find: "  monitor?: 'loss' | 'accuracy';\n}",
    replace: "  monitor?: 'loss' | 'accuracy';\n  toyKnob?: number;\n}",
  },
];

/** The doc's row for `what` (its first cell), and the src/ files it names. */
function docRow(what: string): { text: string; files: Set<string> } {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const text = doc.split('\n').find((l) => l.startsWith(`| ${what} `));
  assert.ok(text, `docs/architecture.md has no seam row "${what}"`);
  return { text, files: new Set([...text.matchAll(/`(src\/[\w/.-]+\.ts)`/g)].map((m) => m[1])) };
}

const COUNTS: Record<string, number> = { two: 2, three: 3, four: 4, five: 5 };

function checkAgainstDoc(what: string, edits: Edit[]): void {
  const row = docRow(what);
  const edited = new Set(edits.map((e) => e.file));
  for (const f of edited) assert.ok(row.files.has(f), `the "${what}" row does not name ${f}, which the toy had to edit`);
  const stated = /([A-Z][a-z]+) files in all/.exec(row.text);
  assert.ok(stated, `the "${what}" row states no "N files in all"`);
  assert.equal(edited.size, COUNTS[stated[1].toLowerCase()], `the "${what}" row says ${stated[1]} files; the toy edited ${[...edited].join(', ')}`);
}

function applyEdits(dir: string, edits: Edit[]): void {
  for (const e of edits) {
    const path = join(dir, e.file);
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf(e.find);
    assert.ok(at >= 0 && text.indexOf(e.find, at + 1) < 0, `${e.file}: the toy's edit no longer applies (expected once: ${JSON.stringify(e.find)})`);
    writeFileSync(path, text.slice(0, at) + e.replace + text.slice(at + e.find.length));
  }
}

/** What the copy must do, run in a child process (a fresh engine, the copy's modules only). */
const PROBE = `
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './src/cli/main.js';
import { terminal } from './src/cli/terminal.js';
import { parseExperimentConfig } from './src/experiments/config.js';
import { checkReferenceSpec, resolveReference } from './src/methods/referenceSpec.js';
import { ReferenceCache } from './src/methods/references.js';
import { DEFAULT_TRAINING } from './src/train/trainingParams.js';
import { trainingFromFlags } from './src/cli/options.js';
import { loadModel } from './src/models/io.js';

async function cli(args) {
  let out = '', err = '';
  terminal.out = (t) => void (out += t);
  terminal.err = (t) => void (err += t);
  const write = process.stdout.write;
  process.stdout.write = (t) => ((out += t), true); // commander writes --help itself
  try {
    return { code: await main(args), out, err };
  } finally {
    process.stdout.write = write;
  }
}
const work = mkdtempSync(join(tmpdir(), 'distillery-seams-'));
const lines = gunzipSync(readFileSync(process.env.LETTER)).toString().split('\\n');
const data = join(work, 'letter.csv');
writeFileSync(data, lines.slice(0, 801).join('\\n') + '\\n');

// the training parameter
assert.equal(DEFAULT_TRAINING.toyKnob, 0.25);
assert.equal(trainingFromFlags({}).toyKnob, 0.25);
assert.equal(parseExperimentConfig({ training: { toyKnob: 0.5 } }).training.toyKnob, 0.5);
assert.throws(() => parseExperimentConfig({ training: { toyKnob: 2 } }), /toyKnob/);
for (const command of ['train', 'update', 'ensemble', 'transfer']) {
  const help = await cli([command, '--help']);
  assert.match(help.out, /--toy-knob <x> +a knob nothing reads \\(default 0\\.25\\)/, command + ' --help');
}
const outOfRange = await cli(['train', '--data', data, '--out', join(work, 'bad'), '--toy-knob', '2']);
assert.equal(outOfRange.code, 2);
assert.match(outOfRange.err, /^distillery: --toy-knob: /, outOfRange.err);
const trained = await cli(['train', '--data', data, '--out', join(work, 'base'), '--epochs', '2', '--toy-knob', '0.5']);
assert.equal(trained.code, 0, trained.err);
const base = await loadModel(join(work, 'base'));
assert.equal(base.meta.recipe.training.toyKnob, 0.5);

// the reference source: YAML, library, CLI
assert.equal(parseExperimentConfig({ methods: [{ method: 'distill', reference: { kind: 'uniform' } }] }).methods[0].reference.kind, 'uniform');
assert.throws(() => checkReferenceSpec('plain', { kind: 'uniform' }), /no teacher/);
const K = base.meta.classNames.length;
const train = { features: new Float32Array(3 * 16), featureShape: [16], labels: new Int32Array(3), classNames: base.meta.classNames, source: 'rows' };
const resolved = await resolveReference('distill', { kind: 'uniform' }, { base, train, validation: train, preprocessing: base.meta.preprocessing, architecture: base.meta.architecture, training: DEFAULT_TRAINING, seed: 1 });
const logits = new ReferenceCache().get(resolved.source, base, train).all();
assert.equal(logits.length, 3 * K);
assert.ok(logits.every((z) => z === 0));
const updated = await cli(['update', '--base', join(work, 'base'), '--data', data, '--method', 'distill', '--uniform-reference', '--epochs', '2', '--out', join(work, 'v2')]);
assert.equal(updated.code, 0, updated.err);
const v2 = await loadModel(join(work, 'v2'));
assert.equal(v2.meta.recipe.method, 'distill');
assert.equal(v2.meta.recipe.reference.kind, 'logged');
assert.match((await cli(['update', '--help'])).out, /--uniform-reference +teacher with equal logits/);
console.log('probe: ok');
`;

test("a toy reference source and a toy training parameter need only the files docs/architecture.md's seams table names", { timeout: 300_000 }, () => {
  checkAgainstDoc('a reference source (a teacher)', REFERENCE_EDITS);
  checkAgainstDoc('a training parameter', TRAINING_EDITS);

  // the copy sits inside the project (node_modules, generated/, native/ and datasets/ resolve as for src/)
  const copy = join(root, '.tmp', `seams-${process.pid}`);
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  try {
    cpSync(join(root, 'src'), join(copy, 'src'), { recursive: true });
    for (const shared of ['generated', 'native', 'datasets', 'configs', 'package.json']) symlinkSync(join(root, shared), join(copy, shared));
    applyEdits(copy, [...REFERENCE_EDITS, ...TRAINING_EDITS]);
    writeFileSync(join(copy, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: 'src' }, include: ['src/**/*.ts'] }));

    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(copy, 'tsconfig.json')], { cwd: copy, encoding: 'utf8', timeout: 180_000 });
    assert.equal(tsc.status, 0, `the copy with the toys does not type-check:\n${tsc.stdout}${tsc.stderr}`);

    writeFileSync(join(copy, 'probe.ts'), PROBE);
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(copy, 'probe.ts')], {
      cwd: copy,
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, LETTER: join(root, 'datasets/letter-recognition.csv.gz') },
    });
    assert.equal(run.status, 0, `the copy with the toys does not work:\n${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /probe: ok/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
