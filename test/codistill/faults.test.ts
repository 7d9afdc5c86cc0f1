/**
 * Codistillation against a real redis-server on 127.0.0.1 (one server for the file), with the
 * workers on separate "machines": each in its own working directory with its own copy of the
 * data, sharing nothing with the launcher but the Redis URL. Worker 1 is SIGKILLed mid-run and
 * restarted by hand; Redis is restarted under the running workers. The run completes where an
 * unfaulted run with the same seeds ends (within 1 point), no corrupt checkpoint is loaded, at
 * most R steps are redone, and the password appears in no output or file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { runCliHere, startCli, type RunningCli } from '../helpers/cli.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { LETTER_CSV_PATH, loadData } from '../../src/data/builtin.js';
import { initEngine } from '../../src/engine/index.js';
import { resolveCodistillConfig } from '../../src/codistill/config.js';
import { DirectoryStore } from '../../src/codistill/directoryStore.js';
import { runCodistillation } from '../../src/codistill/run.js';
import { runCodistillWorker } from '../../src/codistill/worker.js';
import type { CodistillResult } from '../../src/codistill/results.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-codistill-redis-'));
let redis: RedisServer;
before(async () => {
  redis = await startRedis({ appendOnly: true });
});
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// 6 000 rows of letter, a copy per "machine".
const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n').slice(0, 6001);
const hosts = ['launcher', 'host-a', 'host-b', 'reference'].map((h) => {
  const d = join(dir, h);
  mkdirSync(d);
  writeFileSync(join(d, 'letters.csv'), lines.join('\n') + '\n');
  return d;
});
// --lockstep: each reload takes the peers' checkpoints of the same round, so the faulted and the
// unfaulted run take the same steps (asynchronous runs differ by ±1 point from timing alone).
const R = 30;
const params = { hidden: '32', steps: 300, syncEvery: R, lr: 0.01, validation: 500, seed: 5 };
const flags = ['--lockstep', '--hidden', params.hidden, '--steps', String(params.steps), '--sync-every', String(R), '--lr', String(params.lr), '--validation', String(params.validation), '--seed', String(params.seed)];
const readResult = (out: string) => JSON.parse(readFileSync(join(out, 'codistill.json'), 'utf8')) as CodistillResult;


/** The same run without faults, in this process: launcher and both workers through a directory store (the CLI's MLP for letter: dropout 0.2). */
async function unfaultedRun(): Promise<CodistillResult> {
  await initEngine({ threads: 1 }); // as the worker processes (--threads 1)
  const raw = await loadData(join(hosts[3], 'letters.csv'));
  const config = await resolveCodistillConfig(undefined, { steps: params.steps, syncEvery: R, learningRate: params.lr, validation: params.validation, seed: params.seed }, true);
  const store = new DirectoryStore(join(hosts[3], 'store'));
  let workers: Promise<unknown>[] = [];
  const result = await runCodistillation({
    config, architecture: { kind: 'mlp', hidden: [32], dropout: 0.2 }, raw, dataName: 'letters.csv', store, storeUrl: join(hosts[3], 'store'), out: join(hosts[3], 'run'), runId: 'reference',
    cliCommand: [], workerGlobals: [], onEvent: () => {}, externalWorkersTimeout: 100,
    log: (line) => {
      if (line.startsWith('start worker 1:')) workers = [0, 1].map((i) => runCodistillWorker({ store, runId: 'reference', worker: i, of: 2, data: raw, dataName: 'letters.csv', log: () => {} }));
    },
  });
  await Promise.all(workers);
  return result;
}

test('workers on separate machines through Redis: SIGKILLed worker restarted by hand, Redis restarted mid-run; the run ends as the unfaulted one', async () => {
  const runId = 'multi-host-1';
  const workerArgs = (i: number) => ['--threads', '1', 'codistill-worker', '--store', redis.url, '--run', runId, '--worker', String(i), '--of', '2', '--data', 'letters.csv'];
  const workers: RunningCli[] = [];
  let killedAt = 0;
  let resumedAt = -1;
  let redisRestart: Promise<void> | undefined;
  let workersStarted!: () => void;
  const started = new Promise<void>((resolve) => (workersStarted = resolve));
  const onWorker1 = (line: string) => {
    const step = /^worker 1: step (\d+)\/300/.exec(line);
    if (step && !killedAt && Number(step[1]) >= 120) {
      killedAt = Number(step[1]);
      workers[1].kill();
    }
    const resumed = /^worker 1: resuming from its checkpoint at step (\d+)/.exec(line);
    if (resumed) resumedAt = Number(resumed[1]);
    // Once the restarted worker trains again, take Redis away for a second under both workers.
    if (step && resumedAt >= 0 && Number(step[1]) > resumedAt && !redisRestart) redisRestart = redis.restart(1000);
  };
  const launcher = startCli(['codistill', '--external-workers', '100', '--run', runId, '--data', 'letters.csv', ...flags, '--store', redis.url, '--out', 'run'], hosts[0], (line) => {
    if (line.startsWith('start worker 1:')) {
      workers.push(startCli(workerArgs(0), hosts[1]), startCli(workerArgs(1), hosts[2], onWorker1));
      workersStarted();
    }
  });
  const unfaulted = await unfaultedRun(); // meanwhile, in this process
  await Promise.race([started, launcher.done]);
  const killed = await workers[1]?.done;
  assert.ok(killedAt > 0, `worker 1 was killed (${killed?.stderr})`);
  const restarted = startCli(workerArgs(1), hosts[2], onWorker1); // by hand, on its machine
  const done = await Promise.all([launcher.done, workers[0].done, restarted.done]);
  if (process.env.DEBUG_FAULTS) writeFileSync(process.env.DEBUG_FAULTS, [...done.map((d) => d.stderr), killed?.stderr].join('\n----\n'));
  await redisRestart;
  for (const r of done) assert.equal(r.code, 0, r.stderr);
  assert.ok(redisRestart, 'Redis was restarted mid-run');
  // At most R steps are redone.
  assert.ok(resumedAt >= killedAt - R && resumedAt <= killedAt, `killed at step ${killedAt}, resumed at ${resumedAt}`);
  assert.match(done[0].stderr + done[1].stderr + done[2].stderr, /unreachable .*retrying with backoff/);
  const faulted = readResult(join(hosts[0], 'run'));
  assert.equal(faulted.runId, runId);
  assert.equal(faulted.store, redis.url.replace(redis.password, '***'));
  assert.equal(faulted.workers[1].restarts, 1);
  assert.deepEqual(faulted.workers.map((w) => w.shardRows), [2750, 2750]);
  for (const w of faulted.workers) {
    assert.equal(w.steps, 300);
    assert.deepEqual(w.refusedCheckpoints, []);
    assert.deepEqual(w.curve.map((p) => p.step), [30, 60, 90, 120, 150, 180, 210, 240, 270, 300]);
    const clean = unfaulted.workers[w.worker].valAccuracy;
    assert.ok(w.valAccuracy > 0.35, `worker ${w.worker}: ${w.valAccuracy}`);
    assert.ok(Math.abs(w.valAccuracy - clean) <= 0.01, `worker ${w.worker}: accuracy ${w.valAccuracy} (faulted) vs ${clean}`);
  }
  for (const text of [...done.flatMap((r) => [r.stdout, r.stderr]), readFileSync(join(hosts[0], 'run', 'codistill.json'), 'utf8'), readFileSync(join(hosts[0], 'run', 'worker-0', 'distillery.json'), 'utf8')]) {
    assert.ok(!text.includes(redis.password), 'password leaked');
  }
  // A worker given other data than the run's is refused.
  writeFileSync(join(hosts[1], 'other.csv'), [lines[0], ...lines.slice(2)].join('\n') + '\n');
  const wrong = await runCliHere([...workerArgs(0).slice(2, -1), join(hosts[1], 'other.csv')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /other\.csv: is not the data of run "multi-host-1"/);
});
