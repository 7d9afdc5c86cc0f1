/**
 * The walkthroughs of docs/own-models.md run as written: docs/examples/tfjs-team.ts (a team's
 * own tfjs network trained with fit, made a Distillery model, updated by distillation, compared,
 * gated and saved) is run as a user runs it, importing the package by its name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from '../helpers/scratch.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('docs/examples/tfjs-team.ts runs and prints what docs/own-models.md shows', () => {
  const { dir } = scratchDir('distillery-docs-');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'docs/examples/tfjs-team.ts'), dir], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^v1: layers network, BatchNormalization → Dense → Dropout → Dense; taken before the softmax activation of its final layer/m);
  assert.match(r.stdout, /last epoch: loss [\d.]+ = 0\.5 × cross-entropy [\d.]+ \+ 0\.5 × reference-cross-entropy [\d.]+/);
  assert.match(r.stdout, /Old vs new model on 4000 examples/);
  assert.match(r.stdout, /release gate: (PASSED|BLOCKED)/);
  assert.ok(existsSync(join(dir, 'team-v2', 'model.json')) && existsSync(join(dir, 'team-v1', 'distillery.json')));
});
