import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliHere, startCli } from '../helpers/cli.js';
import { loadModel } from '../../src/models/io.js';
import { predictLogits, argmaxRows } from '../../src/models/predict.js';
import { loadLetter } from '../../src/data/builtin.js';
import { prepareRunData } from '../../src/codistill/data.js';
import { initEngine } from '../../src/engine/index.js';
import type { CodistillResult } from '../../src/codistill/results.js';
import type { CliResult } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-codistill-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const tiny = ['--hidden', '32', '--steps', '160', '--sync-every', '40', '--lr', '0.01', '--validation', '1000'];

const store = join(dir, 'store'); // kept after the run (the default store goes with the temporary output)

test('distillery codistill: two worker processes codistil through a directory store; models, deliverable, ensemble and curves', async () => {
  const out = join(dir, 'run');
  // --lockstep: each reload waits for the peer's checkpoint of the same round, so the exchange
  // below happens however the two processes are scheduled (asynchronously, on a busy machine one
  // worker can finish before its peer publishes anything)
  const r = runCli(['codistill', '--data', 'letter', '--workers', '2', ...tiny, '--lockstep', '--out', out, '--seed', '3', '--store', store]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['run', 'store'], 'no temporary output left');
  assert.deepEqual(readdirSync(out).sort(), ['codistill.json', 'deliverable', 'report.html', 'report.md', 'worker-0', 'worker-1']);
  assert.match(r.stdout, /deliverable: worker \d/);
  const result = JSON.parse(readFileSync(join(out, 'codistill.json'), 'utf8')) as CodistillResult;
  assert.equal(result.workers.length, 2);
  assert.equal(result.burnInSteps, 64);
  assert.deepEqual(result.config.syncEvery, 40);
  // Disjoint halves of the 19 000 training rows.
  assert.deepEqual(result.workers.map((w) => w.shardRows), [9500, 9500]);
  for (const w of result.workers) {
    assert.equal(w.steps, 160);
    assert.deepEqual(w.curve.map((p) => p.step), [40, 80, 120, 160]);
    assert.ok(w.curve.every((p, i) => i === 0 || p.seconds >= w.curve[i - 1].seconds));
    assert.ok(w.valAccuracy > 0.4, `worker ${w.worker}: ${w.valAccuracy}`);
    // After burn-in each worker distilled from its peer's published checkpoints: every step after
    // step 64, from the peer's checkpoints of rounds 40 (reloaded at 64), 80 and 120.
    assert.match(r.stderr, new RegExp(`worker ${w.worker}: step 160/160 .*peers=${1 - w.worker}\\b`));
    assert.equal(w.distilledSteps, 96);
    assert.deepEqual(w.peerVersions, { [1 - w.worker]: [40, 80, 120] });
    assert.deepEqual(w.silentPeers, []);
  }
  assert.deepEqual(result.warnings, []);
  assert.doesNotMatch(r.stderr, /warning:/);
  assert.match(r.stdout, /worker 0: .*distilled 96 of 96 steps after burn-in/);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /## Time to accuracy/);
  assert.match(report, /^\| 160 \| [\d.]+, \d+\.\d+% \| [\d.]+, \d+\.\d+% \|$/m);
  // the HTML report: both time-to-accuracy plots with a line per worker, and the workers' table
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /Validation accuracy against training time/);
  assert.match(html, /Validation accuracy against steps/);
  assert.equal((html.match(/<svg/g) ?? []).length >= 2, true);
  for (const w of result.workers) assert.match(html, new RegExp(`worker ${w.worker}`));
  assert.doesNotMatch(html, /<script[^>]+src=|https?:\/\/(?!www\.w3\.org)/);
  const best = Math.max(...result.workers.map((w) => w.valAccuracy));
  assert.equal(result.deliverable.valAccuracy, best);
  assert.ok(result.ensemble.valAccuracy > 0.3);
  assert.ok(result.meanPairwiseDisagreement > 0 && result.meanPairwiseDisagreement < 0.7);
  // The saved models are ordinary model directories that reproduce the recorded accuracy.
  await initEngine();
  const data = prepareRunData(await loadLetter(), result.config);
  for (const name of ['worker-0', 'worker-1', 'deliverable']) {
    const m = await loadModel(join(out, name));
    assert.equal(m.meta.recipe.method, 'codistill-workers');
    const pred = argmaxRows(predictLogits(m.model, data.validation.features, data.validation.featureShape), 26);
    const acc = pred.reduce((a, p, i) => a + (p === data.validation.labels[i] ? 1 : 0), 0) / pred.length;
    const expected = name === 'deliverable' ? result.deliverable.valAccuracy : result.workers[Number(name.at(-1))].valAccuracy;
    assert.ok(Math.abs(acc - expected) < 1e-9, `${name}: ${acc} vs ${expected}`);
  }
});

test('codistill bad input: one line naming the flag, exit 2', async () => {
  const out = join(dir, 'bad');
  const codistillYaml = join(dir, 'batch.yaml');
  writeFileSync(codistillYaml, 'batchSize: 512\n');
  const cases: [string[], RegExp][] = [
    [['--workers', '1'], /--workers: .*(>=|at least|too small).*2/i],
    [['--sync-every', '0'], /--sync-every: /],
    [['--weight', '-1'], /--weight: /],
    [['--workers', '40', '--batch-size', '512'], /--batch-size: 40 workers get shards of \d+ training rows, fewer than a batch of 512/],
    [['--store', 'redis://user:hunter2@127.0.0.1:1/0'], /--store: cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1\/0/],
    [['--resume'], /--resume: there is no interrupted run to resume for /],
    // a value the data cannot meet names the flag, or the --config file's key that set it (#27 item 11)
    [['--validation', '30000'], /^distillery: --validation: 30000 exceeds the 20000 examples of the data\n$/],
    [['--config', codistillYaml, '--workers', '40'], new RegExp(`^distillery: ${codistillYaml}: batchSize: 40 workers get shards of \\d+ training rows, fewer than a batch of 512`)],
    [['--config', codistillYaml, '--workers', '40', '--batch-size', '600'], /^distillery: --batch-size: 40 workers get shards of \d+ training rows, fewer than a batch of 600/],
  ];
  for (const [args, message] of cases) {
    const r = await runCliHere(['codistill', '--data', 'letter', ...tiny, '--out', out, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /hunter2/);
    assert.equal(existsSync(out), false);
  }
  // A user's non-empty directory is never written into.
  const mine = join(dir, 'mine');
  mkdirSync(mine);
  writeFileSync(join(mine, 'notes.txt'), 'keep');
  const r = await runCliHere(['codistill', '--data', 'letter', ...tiny, '--out', mine]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^distillery: --out .*mine: is a directory that Distillery did not write \(not a codistillation run directory; .*--force/);
  assert.equal(readFileSync(join(mine, 'notes.txt'), 'utf8'), 'keep');
  assert.deepEqual(readdirSync(mine), ['notes.txt']);
});

test('codistill-worker refuses a run its store does not hold, or a wrong worker count', async () => {
  const runId = (JSON.parse(readFileSync(join(dir, 'run', 'codistill.json'), 'utf8')) as CodistillResult).runId; // the run of the first test
  const wrong = await runCliHere(['codistill-worker', '--store', store, '--run', 'no-such-run', '--worker', '0', '--of', '2', '--data', 'letter']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /^distillery: --run: run "no-such-run" not found in .*\n$/);
  const of = await runCliHere(['codistill-worker', '--store', store, '--run', runId, '--worker', '0', '--of', '3', '--data', 'letter']);
  assert.equal(of.code, 2);
  assert.match(of.stderr, /--of: run ".*" has 2 workers, not 3/);
  // A finished worker started again reports its result and exits cleanly.
  const again = await runCliHere(['codistill-worker', '--store', store, '--run', runId, '--worker', '1', '--of', '2', '--data', 'letter']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /finished already \(step 160\)/);
});


test('codistill --external-workers: a worker that finished before its peer published distilled for no step, and the run says so', async () => {
  // Two "machines", each its own working directory, sharing the store; worker 1 runs to the end
  // before worker 0 starts (asynchronous: it never waits for a peer), so it never loads a peer's
  // checkpoint, while worker 0 distils from worker 1's final one.
  const [launcherDir, hostA, hostB] = ['launcher', 'host-a', 'host-b'].map((h) => {
    const d = join(dir, `external-${h}`);
    mkdirSync(d);
    return d;
  });
  const shared = join(dir, 'external-store');
  const runId = 'external-1';
  const worker = (i: number, cwd: string) => startCli(['--threads', '1', 'codistill-worker', '--store', shared, '--run', runId, '--worker', String(i), '--of', '2', '--data', 'letter'], cwd).done;
  let workers: Promise<CliResult[]> | undefined;
  const launcher = startCli(['codistill', '--external-workers', '200', '--run', runId, '--data', 'letter', ...tiny, '--seed', '3', '--store', shared, '--out', 'run'], launcherDir, (line) => {
    if (line.startsWith('start worker 1:')) workers = (async () => [await worker(1, hostB), await worker(0, hostA)])();
  }).done;
  const l = await launcher;
  const [w1, w0] = (await workers) ?? [];
  assert.equal(l.code, 0, l.stderr);
  assert.equal(w1?.code, 0, w1?.stderr);
  assert.equal(w0?.code, 0, w0?.stderr);
  assert.match(w1.stderr, /worker 1: step 160\/160 .*peers=-/);
  assert.match(w1.stderr, /worker 1: peer 0 published no checkpoint before this worker finished\n/);
  assert.match(w1.stderr, /worker 1: warning: distilled from no peer: none of its 96 steps after burn-in/);
  assert.match(w1.stdout, /160 steps \(0 distilling from peers\)/);
  assert.match(w0.stdout, /160 steps \(96 distilling from peers\)/);
  const result = JSON.parse(readFileSync(join(launcherDir, 'run', 'codistill.json'), 'utf8')) as CodistillResult;
  const [r0, r1] = result.workers;
  assert.equal(r1.distilledSteps, 0);
  assert.deepEqual(r1.peerVersions, {});
  assert.deepEqual(r1.silentPeers, [0]);
  assert.equal(r0.distilledSteps, 96);
  assert.deepEqual(r0.peerVersions, { 1: [160] });
  assert.deepEqual(r0.silentPeers, []);
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0], /^worker 1 distilled from no peer: none of its 96 steps after burn-in .*\(silent peers: 0\)$/);
  // the summary (stderr, as a warning), report.md and report.html say it too
  assert.match(l.stdout, /worker 1: .*distilled 0 of 96 steps after burn-in, silent peers 0\)/);
  assert.match(l.stderr, /^warning: worker 1 distilled from no peer/m);
  assert.match(readFileSync(join(launcherDir, 'run', 'report.md'), 'utf8'), /^\*\*Warning:\*\* worker 1 distilled from no peer.*\n[^]*^\| 1 \| 9500 \| [\d.]+% \| [\d.]+ \| 0 \| 0 of 96 \| 0 \| 0 \|$/m);
  assert.match(readFileSync(join(launcherDir, 'run', 'report.html'), 'utf8'), /class="banner bad"[^>]*>Warning: worker 1 distilled from no peer/);
});
