/**
 * A resume reads the inputs the interrupted run read: `train`, `update` and `run` are killed
 * (SIGKILL) once their temporary output holds work, an input's content is changed (the data,
 * the base model and the external data of an ONNX base, the data a config names), and `--resume` must refuse with exit 2 in one
 * line naming the file and the flag or config key that gave it. The same content written
 * again (a new mtime) still resumes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { CLI_ENTRY } from '../helpers/cli.js';
import { ONNX_FIXTURES, withExternalData } from '../helpers/onnx.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import { partialDirOf } from '../../src/util/partialRun.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-inputs-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Longest wait for a run to reach the moment it is killed at (it trains for minutes). */
const REACH_MS = 120_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the CLI to the end, or (with `killWhen`) kills it with SIGKILL as soon as `killWhen(stderr, pid)`
 * holds (polled every 10 ms); unless `mayEnd`, a run that ends first, or does not get there in
 * REACH_MS, fails the test.
 */
function cli(args: string[], killWhen?: (stderr: string, pid: number) => boolean, mayEnd = false): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let killed = false;
    const limit = setTimeout(() => child.kill('SIGKILL'), killWhen ? REACH_MS : 300_000);
    const poll = killWhen
      ? setInterval(() => {
          if (!killed && killWhen(stderr, child.pid!)) {
            killed = true;
            child.kill('SIGKILL');
          }
        }, 10)
      : undefined;
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      clearInterval(poll);
      if (killWhen && !killed && !mayEnd) reject(new Error(`${args[0]} ended (${signal ?? code}) before the moment it was to be killed at: ${stderr}`));
      else resolve({ code, signal, stderr });
    });
  });
}

/** Kills `args` (writing `out`) once its first training run has checkpointed an epoch. */
async function killAfterFirstCheckpoint(args: string[], out: string): Promise<void> {
  const ckpt = join(partialDirOf(out), 'run-1.ckpt');
  const r = await cli(args, () => existsSync(ckpt));
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(existsSync(ckpt), 'the killed run left its checkpoint');
}

/** Whether process `pid` resumed the run writing `out`: past its checks, it owns the temporary output. */
function resumedBy(out: string, pid: number): boolean {
  try {
    return JSON.parse(readFileSync(join(partialDirOf(out), 'owner.json'), 'utf8')).pid === pid;
  } catch {
    return false;
  }
}

/** `args` (writing `out`) with `--resume`, killed at once if it resumes: the refusal it gives. */
const resume = (args: string[], out: string) => cli([...args, '--resume'], (_, pid) => resumedBy(out, pid), true);

/** `--resume` refused: exit 2, one line naming `file` and `name` (the flag or config key). */
function assertRefused(r: Exit, file: string, name: string): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^distillery: --resume: an input of the interrupted run for .* changed since it started: /);
  assert.ok(lines[0].includes(`${file} (${name}) has changed`), lines[0]);
  assert.match(lines[0], /--force/);
}

const rows = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
/** A copy of the first `n` rows of letter (with its header) at `file`. */
function letterRows(file: string, n: number, from = 1): string {
  writeFileSync(file, [rows[0], ...rows.slice(from, from + n)].join('\n') + '\n');
  return file;
}
/** `file` with the label of its first row changed (a relabelled example: same size, other content). */
function relabelFirstRow(file: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[1] = lines[1].replace(/^"(\w)"/, (_, c: string) => `"${c === 'A' ? 'B' : 'A'}"`);
  writeFileSync(file, lines.join('\n'));
}

/** A long training run (no early stopping): it is killed long before it ends. */
const LONG = ['--epochs', '2000', '--patience', '0', '--batch-size', '16', '--seed', '3'];

test('train killed after its first checkpoint: --resume refuses once --data changed, naming the file and --data; the same bytes written again resume', async () => {
  const data = letterRows(join(dir, 'train.csv'), 600);
  const original = readFileSync(data);
  const out = join(dir, 'train-model');
  const args = ['train', '--data', data, '--label', 'lettr', '--out', out, '--hidden', '32', ...LONG, '-q'];
  await killAfterFirstCheckpoint(args, out);

  relabelFirstRow(data);
  assertRefused(await resume(args, out), data, '--data');
  assert.ok(existsSync(join(partialDirOf(out), 'run-1.ckpt')), 'a refused resume keeps the checkpoints');
  assert.equal(existsSync(out), false, 'no model saved');

  // the original content again (a new mtime): the resume goes past the check and trains on
  writeFileSync(data, original);
  const again = await resume(args, out);
  assert.equal(again.signal, 'SIGKILL', `resumed: ${again.stderr}`);
});

test('update killed after its first checkpoint: --resume refuses once the --base model was replaced, naming the directory and --base', async () => {
  const baseData = letterRows(join(dir, 'base.csv'), 300);
  const data = letterRows(join(dir, 'new.csv'), 500, 301);
  const base = join(dir, 'base');
  const train = (seed: string, force: string[] = []) => cli(['train', '--data', baseData, '--label', 'lettr', '--out', base, '--hidden', '16', '--epochs', '2', '--seed', seed, '-q', ...force]);
  assert.equal((await train('1')).code, 0);
  const out = join(dir, 'update-model');
  const args = ['update', '--base', base, '--data', data, '--label', 'lettr', '--method', 'distill', '--lambda', '0.5', '--out', out, ...LONG, '-q'];
  await killAfterFirstCheckpoint(args, out);

  // the deployed model retrained (another seed) in place: same flags, other weights
  const retrained = await train('2', ['--force']);
  assert.equal(retrained.code, 0, retrained.stderr);
  assertRefused(await resume(args, out), base, '--base');
});

test('update from an ONNX base that keeps its weights in an external data file: --resume refuses once that file changed, naming it and --base', async () => {
  const { model: base, data: weights } = withExternalData(join(ONNX_FIXTURES, 'letter-mlp-v1.onnx'), dir, 'base-external.onnx');
  const data = letterRows(join(dir, 'onnx-new.csv'), 500, 301);
  const out = join(dir, 'onnx-update-model');
  const args = ['update', '--base', base, '--data', data, '--method', 'distill', '--lambda', '0.5', '--out', out, ...LONG, '-q'];
  await killAfterFirstCheckpoint(args, out);

  // one weight changed in the data file; the model file itself is as it was
  const bytes = readFileSync(weights);
  bytes[0] ^= 0x01;
  writeFileSync(weights, bytes);
  assertRefused(await resume(args, out), weights, '--base, data of base-external.onnx');
});

test('run (a YAML config) killed once its temporary output is made: --resume refuses once the data file the config names changed, naming the config key, and not for a comment added to the config', async () => {
  const data = letterRows(join(dir, 'exp.csv'), 700);
  const config = join(dir, 'exp.yaml');
  writeFileSync(
    config,
    [
      'name: resume-inputs',
      `data: ${data}`,
      'labelColumn: lettr',
      'testSize: 150',
      'split: {initial: 250, validation: 100, newBatch: 200}',
      'model: {kind: mlp, hidden: [24]}',
      'training: {epochs: 2000, patience: 0, batchSize: 16}',
      'seeds: [1, 2]',
      'methods: [plain]',
      'bootstrap: {resamples: 50}',
    ].join('\n') + '\n',
  );
  const out = join(dir, 'run-out');
  const args = ['run', '--config', config, '--out', out, '--jobs', '1', '-q'];
  const partial = partialDirOf(out);
  const killed = await cli(args, () => existsSync(partial));
  assert.equal(killed.signal, 'SIGKILL');

  // the config is compared by what it says: a comment added to it is no change (only the data is named)
  writeFileSync(config, readFileSync(config, 'utf8') + '# a note added while the run was stopped\n');
  relabelFirstRow(data);
  assertRefused(await resume(args, out), data, `${config}: data`);
});
