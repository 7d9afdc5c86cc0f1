import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCli } from '../helpers/cli.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';

// ELODI end to end on real data through the CLI: a base model, a saved reference ensemble,
// updates that read it, the paragon, the flip analysis of compare, and bad input.
const dir = mkdtempSync(join(tmpdir(), 'distillery-elodi-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
const write = (name: string, rows: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, [lines[0], ...rows].join('\n') + '\n');
  return p;
};
const oldCsv = write('old.csv', lines.slice(1, 801));
const newCsv = write('new.csv', lines.slice(1, 1601));
const testCsv = write('test.csv', lines.slice(5001, 6001));
const quick = ['--epochs', '6', '--batch-size', '64', '--lr', '0.01'];
const base = join(dir, 'base');
const refs = join(dir, 'refs');

function expectBadInput(args: string[], name: RegExp, out: string): void {
  const r = runCli(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('distillery:'));
  assert.equal(errLines.length, 1, r.stderr);
  assert.match(errLines[0], name);
  assert.equal(existsSync(out), false, `${out} must not exist after a failure`);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary leftovers');
}

test('ensemble → update --method elodi --reference → compare with the flip analysis', () => {
  assert.equal(runCli(['train', '--data', oldCsv, '--label', 'lettr', '--out', base, '--seed', '2', ...quick]).code, 0);
  const e = runCli(['ensemble', '--base', base, '--data', newCsv, '--members', '3', '--jobs', '2', '--out', refs, ...quick]);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(readdirSync(refs).sort(), ['ensemble.json', 'member-1', 'member-2', 'member-3']);
  const manifest = JSON.parse(readFileSync(join(refs, 'ensemble.json'), 'utf8'));
  assert.equal(manifest.members.length, 3);
  assert.equal(new Set(manifest.seeds).size, 3, 'members have distinct seeds');
  assert.equal(manifest.classNames.length, 26);
  assert.equal(manifest.data.rows, 1440); // 1600 rows less the 10 % validation hold-out

  const v2 = join(dir, 'v2');
  const u = runCli(['update', '--base', base, '--data', newCsv, '--method', 'elodi', '--reference', refs, '--top-k', '5', '--out', v2, ...quick]);
  assert.equal(u.code, 0, u.stderr);
  const meta = JSON.parse(readFileSync(join(v2, 'distillery.json'), 'utf8'));
  assert.equal(meta.recipe.method, 'elodi');
  assert.equal(meta.recipe.params.topK, 5);
  assert.equal(meta.recipe.reference.kind, 'ensemble');
  assert.equal(meta.recipe.reference.modelIds.length, 3);

  // the paragon: the ensemble itself, written as an ensemble directory, usable as a model
  const paragon = join(dir, 'paragon');
  const p = runCli(['update', '--base', base, '--data', newCsv, '--method', 'ensemble', '--reference', refs, '--out', paragon, ...quick]);
  assert.equal(p.code, 0, p.stderr);
  assert.ok(existsSync(join(paragon, 'ensemble.json')));

  // the retrain-old variant: the old model retrained toward its own ensemble, written beside the new one
  const old2 = join(dir, 'old-retrained');
  const v3 = join(dir, 'v3');
  const ro = runCli(['update', '--base', base, '--data', newCsv, '--method', 'elodi', '--members', '2', '--retrain-old', old2, '--old-data', oldCsv, '--out', v3, ...quick]);
  assert.equal(ro.code, 0, ro.stderr);
  const oldMeta = JSON.parse(readFileSync(join(old2, 'distillery.json'), 'utf8'));
  assert.equal(oldMeta.recipe.retrainedOld, true);
  assert.equal(oldMeta.recipe.reference.kind, 'ensemble');
  assert.equal(oldMeta.recipe.trainExamples, 720); // 800 old rows less the 10 % hold-out
  assert.ok(existsSync(join(v3, 'distillery.json')));

  const json = join(dir, 'cmp.json');
  const md = join(dir, 'cmp.md');
  const c = runCli(['compare', '--old', base, '--new', v2, '--data', testCsv, '--json', json, '--markdown', md]);
  assert.equal(c.code, 0, c.stderr);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  const fa = report.flipAnalysis;
  assert.equal(fa.oldMargin.negativeFlips.n, report.counts.negativeFlips);
  assert.equal(fa.logitL2.all.n, 1000);
  assert.match(readFileSync(md, 'utf8'), /Where negative flips happen/);
  assert.match(c.stdout, /Logit distance L2/);
  const cp = runCli(['compare', '--old', base, '--new', refs, '--data', testCsv]);
  assert.equal(cp.code, 0, cp.stderr);
  const pr = runCli(['predict', '--model', paragon, '--data', testCsv, '--out', join(dir, 'paragon.csv')]);
  assert.equal(pr.code, 0, pr.stderr);
});

test('ELODI bad input: one line naming the flag or file, exit 2, nothing written', () => {
  const out = join(dir, 'never');
  const common = ['update', '--base', base, '--data', newCsv, '--out', out, ...quick];
  expectBadInput(['ensemble', '--base', base, '--data', newCsv, '--members', '1', '--out', out], /--members: 1 is outside \[2, 64\]/, out);
  // (parameter ranges of the methods: test/cli/methodOptions.test.ts, without a process per case)
  expectBadInput([...common, '--method', 'ldi', '--top-k', '26'], /top-k: must be below the number of classes \(26\)/, out);
  // an ensemble trained on other rows (another validation seed) is refused
  expectBadInput([...common, '--seed', '9', '--method', 'elodi', '--reference', refs], /refs: was trained on other data/, out);
  // a member with a missing weights file
  const broken = join(dir, 'broken');
  cpSync(refs, broken, { recursive: true });
  unlinkSync(join(broken, 'member-2', 'weights.bin'));
  expectBadInput([...common, '--method', 'elodi', '--reference', broken], /member-2.*weights\.bin: not found/, out);
  // members that disagree with the manifest on classes
  const mixed = join(dir, 'mixed');
  cpSync(refs, mixed, { recursive: true });
  const m = JSON.parse(readFileSync(join(mixed, 'ensemble.json'), 'utf8'));
  m.classNames = m.classNames.map((c: string, k: number) => (k === 0 ? 'Ω' : c));
  writeFileSync(join(mixed, 'ensemble.json'), JSON.stringify(m));
  expectBadInput([...common, '--method', 'elodi', '--reference', mixed], /member-1: its classes differ from ensemble\.json's/, out);
  expectBadInput([...common, '--method', 'elodi', '--reference', join(dir, 'base')], /base: is not an ensemble directory/, out);
});
