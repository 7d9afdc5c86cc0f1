/** `distillery run` reads every experiment kind of the registry (EXPERIMENT_KINDS), and names the kinds when given another. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliHere } from '../helpers/cli.js';
import { EXPERIMENT_KINDS } from '../../src/experiments/config.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-run-kinds-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('an unknown kind: one line naming the config file, its kind key and every kind run reads', async () => {
  const config = join(dir, 'nonsense.yaml');
  writeFileSync(config, 'kind: nonsense\ndata: letter\n');
  const r = await runCliHere(['run', '--config', config, '--out', join(dir, 'out-nonsense'), '-q']);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0].includes(`${config}: kind`), lines[0]);
  for (const kind of EXPERIMENT_KINDS) assert.ok(lines[0].includes(kind), `${kind} listed: ${lines[0]}`);
  assert.deepEqual([...EXPERIMENT_KINDS], ['update', 'transfer', 'reproducibility']);
});

test('kind: reproducibility runs the study through run, as the reproducibility command does', async () => {
  const config = join(dir, 'repro.yaml');
  writeFileSync(config, 'kind: reproducibility\nname: tiny\ndata: letter\ntestSize: 300\ntrainSize: 600\nmodel: { kind: mlp, hidden: [8] }\ntraining: { steps: 20 }\nrecipes: [plain]\nruns: 2\n');
  const out = join(dir, 'out-repro');
  const r = await runCliHere(['run', '--config', config, '--out', out, '--jobs', '1', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'reproducibility.json'), 'utf8'));
  assert.equal(result.format, 'distillery-reproducibility');
  assert.equal(result.config.kind, 'reproducibility');
  assert.equal(result.recipes.length, 1);
  assert.equal(result.recipes[0].pairs.length, 1);
  assert.match(r.stdout, /tiny: 2 retrains per recipe/);
});

test('a config value the data cannot meet: one line naming the config file and the key as written, for every kind (#27 item 11)', async () => {
  const cases: [string, string, RegExp][] = [
    ['test-size.yaml', 'data: letter\ntestSize: 50000\nseeds: [1]\n', /: testSize: 50000 exceeds the 20000 examples of the data$/],
    ['split.yaml', 'data: letter\nsplit: { initial: 15000 }\nseeds: [1, 2]\n', /: letter: the split needs 16100 examples \(split\.initial 15000 \+ split\.validation 100 \+ split\.newBatch 1000\) but the data has only 16000$/],
    ['train-size.yaml', 'kind: reproducibility\ndata: letter\ntestSize: 4000\ntrainSize: 17000\nruns: 2\n', /: letter: the split needs 21000 examples \(testSize 4000 \+ trainSize 17000\) but the data has only 20000$/],
    ['transfer-split.yaml', 'kind: transfer\ndata: letter\nteacher: { model: { kind: mlp, hidden: [8] } }\nstudent: logreg\nsplit: { train: 15000, validation: 2000 }\n', /: letter: the split needs 17000 examples \(split\.train 15000 \+ split\.validation 2000\) but the data has only 16000$/],
  ];
  for (const [name, text, message] of cases) {
    const config = join(dir, name);
    writeFileSync(config, text);
    for (const jobs of ['1', '2']) {
      const r = await runCliHere(['run', '--config', config, '--out', join(dir, `out-${name}`), '--jobs', jobs, '-q']);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].startsWith(`distillery: ${config}: `), lines[0]);
      assert.match(lines[0], message);
    }
  }
});
