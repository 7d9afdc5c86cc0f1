/**
 * A queue's Redis that goes away mid-run (real redis-server on 127.0.0.1, real CLI processes):
 * `distillery run --queue` and `distillery worker` wait for it `--queue-outage` seconds, then
 * end with one line naming --queue and exit 2; a restart shorter than that is ridden out.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_ENTRY } from '../helpers/cli.js';
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

interface Running {
  child: ChildProcess;
  /** Resolves with the exit code and stderr; the process is SIGKILLed after `limitMs`. */
  done: Promise<{ code: number | null; stderr: string; ms: number }>;
}

function start(args: string[], limitMs: number, onLine: (line: string) => void = () => {}): Running {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let partial = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    lines.forEach(onLine);
  });
  child.stdout!.resume();
  const guard = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const done = new Promise<{ code: number | null; stderr: string; ms: number }>((resolve) =>
    child.on('exit', (code) => (clearTimeout(guard), resolve({ code, stderr, ms: Date.now() - started }))),
  );
  return { child, done };
}

const oneErrorLine = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('distillery:'));

test('run --queue gives up on a Redis that is gone: one line naming --queue, exit 2, within the limit', { timeout: 120_000 }, async () => {
  const redis = await startRedis({ appendOnly: true });
  let stopped: Promise<void> | undefined;
  const run = start(['run', '--config', config, '--queue', redis.url, '--queue-outage', '2', '--out', join(dir, 'run')], 90_000, (line) => {
    if (!stopped && /^queued 1 job/.test(line)) stopped = redis.stop(); // no worker: the run waits on Redis alone
  });
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
  const worker = start(['worker', '--queue', redis.url, '--queue-outage', '4'], 90_000, (line) => /^waiting for jobs on /.test(line) && ready());
  try {
    await Promise.race([isReady, worker.done.then((r) => assert.fail(`the worker ended before it was ready:\n${r.stderr}`))]);
    await redis.restart(1000); // down for about a second
    await new Promise((r) => setTimeout(r, 6000)); // past the limit had the clock not been stopped by the reconnect
    if (worker.child.exitCode !== null) assert.fail(`the worker gave up on a restart shorter than --queue-outage:\n${(await worker.done).stderr}`);
    await redis.stop();
    const r = await worker.done;
    assert.equal(r.code, 2, r.stderr);
    const errors = oneErrorLine(r.stderr);
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0], /^distillery: --queue: Redis at \S+ has been unreachable for 4 s: stopped serving/);
  } finally {
    worker.child.kill('SIGKILL');
    await redis.stop();
  }
});
