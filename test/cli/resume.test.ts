/**
 * Killed runs resume: `train` and `run` are killed (SIGKILL) at seeded random moments,
 * continued with --resume until they finish, and must end exactly where an unkilled run
 * ends — the same weights (bit for bit: same engine) and the same metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLI_ENTRY } from '../helpers/cli.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import { partialDirOf } from '../../src/util/partialRun.js';
import { Rng } from '../../src/util/rng.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

/**
 * Runs the CLI. `kill`: once `started()` is true (the command is at work), wait `delayMs`
 * and send `signal`, unless it ended before. `workMs` of the result: time from started() to the end.
 */
function cli(args: string[], kill?: { started: () => boolean; delayMs: number; signal: NodeJS.Signals }): Promise<Exit & { workMs?: number }> {
  return new Promise((resolve) => {
    const began = Date.now();
    let startedAt: number | undefined;
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timers: NodeJS.Timeout[] = [setTimeout(() => child.kill('SIGKILL'), 180_000)];
    if (kill) {
      const poll = setInterval(() => {
        if (startedAt === undefined && kill.started()) {
          startedAt = Date.now();
          if (kill.delayMs >= 0) timers.push(setTimeout(() => child.kill(kill.signal), kill.delayMs));
        }
      }, 10);
      timers.push(poll);
    }
    child.on('exit', (code, signal) => {
      timers.forEach((t) => clearTimeout(t));
      resolve({ code, signal, stderr, ms: Date.now() - began, workMs: startedAt === undefined ? undefined : Date.now() - startedAt });
    });
  });
}

/** Runs the unkilled reference; returns how long it worked after its temporary output appeared. */
async function reference(args: string[], out: string): Promise<number> {
  const r = await cli(args, { started: () => existsSync(partialDirOf(out)), delayMs: -1, signal: 'SIGKILL' });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.workMs !== undefined && r.workMs > 0);
  return r.workMs!;
}

/**
 * Kills `args` (writing `out`) `kills` times at random moments of its work (0–70% of `workMs`
 * after its temporary output appears), resuming each time, then lets it finish. Returns how
 * many kills hit a running command (one that ended first teaches how long the work takes now).
 */
async function killAndResume(args: string[], out: string, workMs: number, kills: number, rng: Rng): Promise<number> {
  let hits = 0;
  for (let k = 0; k <= kills; k++) {
    const resume = existsSync(partialDirOf(out)) ? ['--resume'] : [];
    const r = await cli([...args, ...resume], k < kills ? { started: () => existsSync(partialDirOf(out)), delayMs: Math.round(0.7 * rng.next() * workMs), signal: 'SIGKILL' } : undefined);
    if (r.signal === 'SIGKILL') {
      hits++;
      continue;
    }
    assert.equal(r.code, 0, r.stderr);
    if (k < kills) {
      // it finished before the kill (the machine got faster): start over, with its pace
      rmSync(out, { recursive: true, force: true });
      if (r.workMs) workMs = r.workMs;
    }
  }
  assert.ok(existsSync(out), `${out} after the last resume`);
  assert.equal(existsSync(partialDirOf(out)), false, 'the temporary output is gone once the run finished');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.old-')), [], 'no temporaries left');
  return hits;
}

const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
const data = join(dir, 'letter.csv');
writeFileSync(data, lines.slice(0, 801).join('\n') + '\n');

test('train killed with SIGKILL at random moments and resumed ends with the weights and metrics of an unkilled run; Ctrl-C says how to resume', async () => {
  const args = (out: string) => ['train', '--data', data, '--label', 'lettr', '--out', out, '--hidden', '32', '--epochs', '16', '--patience', '5', '--batch-size', '16', '--lr', '0.003', '--seed', '7', '-q'];
  const ref = join(dir, 'train-ref');
  const workMs = await reference(args(ref), ref);

  const out = join(dir, 'train-killed');
  const hits = await killAndResume(args(out), out, workMs, 3, new Rng('train-kills'));
  assert.ok(hits >= 1, 'at least one kill hit the running command');
  assert.ok(readFileSync(join(out, 'weights.bin')).equals(readFileSync(join(ref, 'weights.bin'))), 'bit-identical weights');
  const meta = (p: string) => JSON.parse(readFileSync(join(p, 'distillery.json'), 'utf8'));
  assert.deepEqual(meta(out).metrics, meta(ref).metrics);

  // Ctrl-C once the first epoch is checkpointed: exit 130, one line naming --resume; the resume finishes the same model.
  const interrupted = join(dir, 'train-interrupted');
  const ckpt = join(partialDirOf(interrupted), 'run-1.ckpt');
  const stopped = await cli(args(interrupted), { started: () => existsSync(ckpt), delayMs: 0, signal: 'SIGINT' });
  assert.equal(stopped.code, 130, stopped.stderr);
  const errLines = stopped.stderr.trim().split('\n');
  assert.equal(errLines.length, 1, stopped.stderr);
  assert.match(errLines[0], /^distillery: interrupted; .*continue with: distillery train .*--resume$/);
  assert.equal(existsSync(interrupted), false);
  const resumed = await cli([...args(interrupted), '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(readFileSync(join(interrupted, 'weights.bin')).equals(readFileSync(join(ref, 'weights.bin'))));
});

test('run killed with SIGKILL at random moments and resumed keeps finished trials and reports the metrics of an unkilled run', async () => {
  const config = join(dir, 'exp.yaml');
  writeFileSync(
    config,
    [
      'name: resume-check',
      `data: ${data}`,
      'labelColumn: lettr',
      'testSize: 150',
      'split: {initial: 250, validation: 100, newBatch: 250}',
      'model: {kind: mlp, hidden: [24], dropout: 0.1}',
      'training: {epochs: 12, patience: 4, batchSize: 32, learningRate: 0.005}',
      'seeds: [1, 2]',
      'methods: [plain, {method: distill, lambda: 0.5}]',
      'bootstrap: {resamples: 100}',
    ].join('\n') + '\n',
  );
  const args = (out: string) => ['run', '--config', config, '--out', out, '--jobs', '1', '-q'];
  const ref = join(dir, 'run-ref');
  const workMs = await reference(args(ref), ref);

  const out = join(dir, 'run-killed');
  const hits = await killAndResume(args(out), out, workMs, 2, new Rng('run-kills'));
  assert.ok(hits >= 1, 'at least one kill hit the running command');
  const results = (p: string) => {
    const { startedAt: _s, durationSeconds: _d, ...rest } = JSON.parse(readFileSync(join(p, 'results.json'), 'utf8'));
    return rest;
  };
  assert.deepEqual(results(out), results(ref));
});

test('run --jobs 1 answers Ctrl-C inside a trial (not after it): exit 130, the finished trials kept', async () => {
  const config = join(dir, 'long.yaml');
  // one long trial: many epochs without early stopping
  writeFileSync(
    config,
    [
      'name: ctrl-c',
      `data: ${data}`,
      'labelColumn: lettr',
      'testSize: 150',
      'split: {initial: 300, validation: 50, newBatch: 300}',
      'model: {kind: mlp, hidden: [64]}',
      'training: {epochs: 3000, patience: 0, batchSize: 8}',
      'seeds: [1]',
      'methods: [plain]',
      'bootstrap: {resamples: 50}',
    ].join('\n') + '\n',
  );
  const out = join(dir, 'run-ctrl-c');
  // SIGINT 1.5 s after the temporary output appears: the base model of the one trial is training then
  const r = await cli(['run', '--config', config, '--out', out, '--jobs', '1', '-q'], { started: () => existsSync(partialDirOf(out)), delayMs: 1500, signal: 'SIGINT' });
  assert.equal(r.code, 130, r.stderr);
  assert.ok(r.workMs! < 15_000, `answered ${r.workMs} ms after its work began (a trial takes minutes)`);
  assert.match(r.stderr, /--resume/);
  assert.ok(existsSync(partialDirOf(out)));
});
