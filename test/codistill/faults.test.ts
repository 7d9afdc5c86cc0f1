/**
 * Codistillation against a real redis-server on 127.0.0.1: a run with a worker SIGKILLed
 * and Redis restarted mid-run completes, and ends where an unfaulted run with the same
 * seeds ends (within 1 point); workers on "other machines" (own working directories, own
 * copies of the data, nothing shared but the Redis URL) give the same kind of result.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { runCli, runCliHere } from '../helpers/cli.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import type { CodistillResult } from '../../src/codistill/results.js';

const entry = fileURLToPath(new URL('../helpers/cliEntry.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'distillery-codistill-redis-'));
let redis: RedisServer;
before(async () => {
  redis = await startRedis({ appendOnly: true });
});
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// --lockstep: each reload takes the peers' checkpoints of the same round, so the faulted and the
// unfaulted run take the same steps (asynchronous runs differ by ±1 point from timing alone).
const flags = ['--lockstep', '--hidden', '32', '--steps', '300', '--sync-every', '30', '--lr', '0.01', '--validation', '1000', '--seed', '5'];
const meanAccuracy = (r: CodistillResult) => r.workers.reduce((a, w) => a + w.valAccuracy, 0) / r.workers.length;
const readResult = (out: string) => JSON.parse(readFileSync(join(out, 'codistill.json'), 'utf8')) as CodistillResult;

/** Runs the CLI in a child process, handing each stderr line to `onLine` as it arrives; bounded in time. */
function runStreaming(args: string[], onLine: (line: string) => void, cwd = root, timeoutMs = 240_000): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let partial = '';
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`timed out: ${args.join(' ')}\n${stderr}`))), timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine(l);
    });
    child.on('exit', (code) => (clearTimeout(timer), resolve({ code, stderr, stdout })));
  });
}

let unfaulted: CodistillResult;

test('codistillation through Redis (user:password URL): the password appears in no output or file', () => {
  const out = join(dir, 'clean');
  const r = runCli(['codistill', '--data', 'letter', '--workers', '2', ...flags, '--store', redis.url, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  unfaulted = readResult(out);
  assert.equal(unfaulted.workers.length, 2);
  assert.equal(unfaulted.store, redis.url.replace(redis.password, '***'));
  for (const text of [r.stdout, r.stderr, readFileSync(join(out, 'codistill.json'), 'utf8'), readFileSync(join(out, 'worker-0', 'distillery.json'), 'utf8')]) {
    assert.ok(!text.includes(redis.password), 'password leaked');
  }
  for (const w of unfaulted.workers) assert.ok(w.valAccuracy > 0.5, `worker ${w.worker}: ${w.valAccuracy}`);
});

test('a worker SIGKILLed mid-run resumes from its checkpoint, Redis restarted mid-run: the run completes as the unfaulted one', async () => {
  assert.ok(unfaulted, 'needs the unfaulted run');
  const out = join(dir, 'faulted');
  let pid1 = 0;
  let killedAt = 0;
  let resumedAt = -1;
  let redisRestart: Promise<void> | undefined;
  const r = await runStreaming(['codistill', '--data', 'letter', '--workers', '2', ...flags, '--store', redis.url, '--out', out], (line) => {
    process.env.DEBUG_FAULTS && process.stderr.write(line + '\n');
    const started = /^worker 1 started \(pid (\d+), attempt 1\)/.exec(line);
    if (started) pid1 = Number(started[1]);
    const step = /^worker 1: step (\d+)\/300/.exec(line);
    if (step && !killedAt && Number(step[1]) >= 120) {
      killedAt = Number(step[1]);
      process.kill(pid1, 'SIGKILL');
    }
    const resumed = /worker 1: resuming from its checkpoint at step (\d+)/.exec(line);
    if (resumed) resumedAt = Number(resumed[1]);
    // Once the restarted worker trains again, take Redis away for a second under the workers still training.
    if (step && resumedAt >= 0 && Number(step[1]) > resumedAt && !redisRestart) redisRestart = redis.restart(1000);
  });
  await redisRestart;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(killedAt > 0 && redisRestart, 'both faults happened');
  assert.match(r.stderr, /worker 1 exited \(SIGKILL\); restarting it from its last checkpoint/);
  // At most R steps are redone.
  assert.ok(resumedAt >= killedAt - 30 && resumedAt <= killedAt, `killed at step ${killedAt}, resumed at ${resumedAt}`);
  assert.match(r.stderr, /unreachable .*retrying with backoff/);
  assert.match(r.stderr, /reachable again after/);
  const faulted = readResult(out);
  assert.equal(faulted.workers[1].restarts, 1);
  for (const w of faulted.workers) {
    assert.equal(w.steps, 300);
    assert.deepEqual(w.refusedCheckpoints, []);
    assert.deepEqual(w.curve.map((p) => p.step), [30, 60, 90, 120, 150, 180, 210, 240, 270, 300]);
  }
  for (const w of faulted.workers) {
    const clean = unfaulted.workers[w.worker].valAccuracy;
    assert.ok(Math.abs(w.valAccuracy - clean) <= 0.01, `worker ${w.worker}: accuracy ${w.valAccuracy} (faulted) vs ${clean}`);
  }
  assert.ok(Math.abs(meanAccuracy(faulted) - meanAccuracy(unfaulted)) <= 0.01);
});

test('workers on separate "machines" share nothing but the Redis URL', async () => {
  const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n').slice(0, 6001);
  const hosts = ['launcher', 'host-a', 'host-b'].map((h) => {
    const d = join(dir, h);
    mkdirSync(d);
    writeFileSync(join(d, 'letters.csv'), lines.join('\n') + '\n');
    return d;
  });
  const runId = 'multi-host-1';
  const workerFlags = (i: number) => ['codistill-worker', '--store', redis.url, '--run', runId, '--worker', String(i), '--of', '2', '--data', 'letters.csv'];
  let workers: Promise<{ code: number | null; stderr: string }>[] = [];
  const launcher = runStreaming(['codistill', '--external-workers', '200', '--run', runId, '--data', 'letters.csv', ...flags, '--steps', '90', '--validation', '500', '--store', redis.url, '--out', 'run'], (line) => {
    if (line.startsWith('start worker 1:')) workers = [0, 1].map((i) => runStreaming(workerFlags(i), () => {}, hosts[i + 1]));
  }, hosts[0]);
  const r = await launcher;
  const done = await Promise.all(workers);
  assert.equal(r.code, 0, r.stderr);
  for (const w of done) assert.equal(w.code, 0, w.stderr);
  const result = readResult(join(hosts[0], 'run'));
  assert.equal(result.runId, runId);
  assert.deepEqual(result.workers.map((w) => w.steps), [90, 90]);
  assert.deepEqual(result.workers.map((w) => w.shardRows), [2750, 2750]);
  for (const w of result.workers) assert.ok(w.valAccuracy > 0.2);
  // A worker given other data than the run's is refused.
  writeFileSync(join(hosts[1], 'other.csv'), [lines[0], ...lines.slice(2)].join('\n') + '\n');
  const wrong = await runCliHere([...workerFlags(0).slice(0, -1), join(hosts[1], 'other.csv')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /other\.csv: is not the data of run "multi-host-1"/);
});
