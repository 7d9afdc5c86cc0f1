/**
 * An update experiment through a BullMQ queue on a real redis-server (127.0.0.1, free port):
 * `distillery run --queue` (in this process) served by two `distillery worker` processes, one
 * SIGKILLed mid-job; the stalled job is retried by the other, and results.json holds the
 * numbers of the local run with the same seeds. One Redis server for the file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCliHere, startCli, type RunningCli } from '../helpers/cli.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'distillery-queue-'));
let redis: RedisServer;
before(async () => {
  redis = await startRedis({ appendOnly: true });
});
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const config = join(dir, 'tiny.yaml');
writeFileSync(
  config,
  `name: queue-tiny
data: letter
testSize: 1000
split: { initial: 300, validation: 50, newBatch: 300 }
model: { kind: mlp, hidden: [16] }
training: { epochs: 4, batchSize: 32, learningRate: 0.01, patience: 0 }
seeds: [1, 2]
methods: [{ method: distill, lambda: 0.5 }]
bootstrap: { resamples: 100 }
`,
);

const numbers = (file: string) => {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return { base: r.base, trials: r.trials, methods: r.methods };
};

test("a queued experiment with a worker killed mid-job gives the local run's results", async () => {
  const local = await runCliHere(['run', '--config', config, '--out', join(dir, 'local'), '--jobs', '1']);
  assert.equal(local.code, 0, local.stderr);

  // The victim takes the first job and is SIGKILLed at once; the survivor, started then, gets the
  // other job and, once the victim's lock has expired, the stalled one.
  const workerArgs = ['worker', '--queue', redis.url, '--lock-seconds', '2'];
  let survivor: RunningCli | undefined;
  let killed = false;
  const victim = startCli(workerArgs, root, (line) => {
    if (!killed && /^job \S+: update-trial/.test(line)) {
      killed = true;
      victim.kill();
      survivor = startCli(workerArgs, root, undefined, 120_000);
    }
  }, 120_000);
  const r = await runCliHere(['run', '--config', config, '--queue', redis.url, '--out', join(dir, 'queued')]);
  survivor?.kill('SIGTERM');
  const s = await survivor?.done;
  await victim.done;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(killed, 'a worker was killed mid-job');
  assert.match(s!.stderr, /attempt 2/, 'the killed job was retried');
  assert.deepEqual(numbers(join(dir, 'queued', 'results.json')), numbers(join(dir, 'local', 'results.json')));
  assert.ok(!r.stderr.includes(redis.password));
});

test('the queue refuses a Redis without append-only persistence (one line, exit 2)', async () => {
  const admin = new Redis(redis.url);
  await admin.config('SET', 'appendonly', 'no');
  try {
    const r = await runCliHere(['run', '--config', config, '--queue', redis.url, '--out', join(dir, 'volatile')]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('distillery:')).length, 1, r.stderr);
    assert.match(r.stderr, /--queue: Redis at redis:\/\/distillery:\*\*\*@127\.0\.0\.1:\d+\/0 runs without append-only persistence/);
    assert.equal(existsSync(join(dir, 'volatile')), false);
  } finally {
    await admin.config('SET', 'appendonly', 'yes');
    admin.disconnect();
  }
});
