/**
 * A queue's Redis that goes away mid-run (real redis-server on 127.0.0.1, real CLI processes):
 * `distillery run --queue` and `distillery worker` wait for it `--queue-outage` seconds, then
 * end with one line naming --queue and exit 2; a restart shorter than that is ridden out.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCli } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'distillery-queue-outage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = join(dir, 'tiny.yaml');
writeFileSync(
  config,
  `name: outage
data: letter
testSize: 500
split: { initial: 200, validation: 50, newBatch: 200 }
model: { kind: mlp, hidden: [8] }
training: { epochs: 2, batchSize: 32, learningRate: 0.01, patience: 0 }
seeds: [1]
methods: [plain]
bootstrap: { resamples: 50 }
`,
);

const oneErrorLine = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('distillery:'));

test('run --queue gives up on a Redis that is gone: one line naming --queue, exit 2, within the limit', { timeout: 120_000 }, async () => {
  const redis = await startRedis({ appendOnly: true });
  let stopped: Promise<void> | undefined;
  const run = startCli(['run', '--config', config, '--queue', redis.url, '--queue-outage', '2', '--out', join(dir, 'run')], root, (line) => {
    if (!stopped && /^queued 1 job/.test(line)) stopped = redis.stop(); // no worker: the run waits on Redis alone
  }, 90_000);
  const r = await run.done;
  await stopped;
  await redis.stop();
  assert.ok(stopped, `the run never queued its job:\n${r.stderr}`);
  assert.equal(r.code, 2, r.stderr);
  const errors = oneErrorLine(r.stderr);
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0], /^distillery: --queue: Redis at redis:\/\/distillery:\*\*\*@127\.0\.0\.1:\d+\/0 has been unreachable for 2 s: stopped waiting for the queued jobs/);
  assert.ok(!r.stderr.includes(redis.password));
  assert.equal(existsSync(join(dir, 'run', 'results.json')), false);
});

test('a worker rides out a Redis restart shorter than --queue-outage, and gives up on one that stays away', { timeout: 120_000 }, async () => {
  const redis = await startRedis({ appendOnly: true });
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const worker = startCli(['worker', '--queue', redis.url, '--queue-outage', '4'], root, (line) => void (/^waiting for jobs on /.test(line) && ready()), 90_000);
  try {
    await Promise.race([isReady, worker.done.then((r) => assert.fail(`the worker ended before it was ready:\n${r.stderr}`))]);
    await redis.restart(1000); // down for about a second
    await new Promise((r) => setTimeout(r, 6000)); // past the limit had the clock not been stopped by the reconnect
    if (worker.exited) assert.fail(`the worker gave up on a restart shorter than --queue-outage:\n${(await worker.done).stderr}`);
    await redis.stop();
    const r = await worker.done;
    assert.equal(r.code, 2, r.stderr);
    const errors = oneErrorLine(r.stderr);
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0], /^distillery: --queue: Redis at \S+ has been unreachable for 4 s: stopped serving/);
  } finally {
    worker.kill();
    await redis.stop();
  }
});
