import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExperimentConfig, normaliseMethod, parseExperimentConfig } from '../../src/experiments/config.js';
import { InputError } from '../../src/util/errors.js';

test('defaults follow the paper protocol', () => {
  const cfg = parseExperimentConfig({});
  assert.deepEqual(cfg.split, { initial: 1000, validation: 100, newBatch: 1000 });
  assert.equal(cfg.data, 'letter');
  assert.ok(cfg.seeds.length >= 3);
  assert.equal(cfg.training.monitor, 'loss');
  assert.equal(parseExperimentConfig({ training: { monitor: 'accuracy' } }).training.monitor, 'accuracy');
});

test('bare method names get their default parameters', () => {
  assert.deepEqual(normaliseMethod('distill'), { method: 'distill', lambda: 0.5 });
  assert.deepEqual(normaliseMethod('anchor'), { method: 'anchor', alpha: 0.5, epsilon: 0.5 });
  assert.deepEqual(parseExperimentConfig({ methods: [{ method: 'distill' }] }).methods[0], { method: 'distill', lambda: 0.5 });
});

test('mistakes are reported with the field that is wrong', () => {
  const bad = (value: unknown, field: RegExp) =>
    assert.throws(() => parseExperimentConfig(value, 'exp.yaml'), (e: unknown) => e instanceof InputError && field.test(e.message) && e.message.startsWith('exp.yaml: '));
  bad({ methods: [{ method: 'distill', lambda: 1.5 }] }, /methods\.0/);
  bad({ seeds: [] }, /seeds/);
  bad({ trainng: {} }, /trainng|Unrecognized/);
  bad({ model: { kind: 'rnn' } }, /model/);
  bad({ split: { initial: -5 } }, /split\.initial/);
  bad({ training: { monitor: 'f1' } }, /training\.monitor/);
});

test('YAML files load, and unreadable or malformed files are named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-cfg-'));
  try {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'name: t1\nseeds: [4, 5, 6]\nmethods: [plain, {method: distill, lambda: 0.3}]\n');
    const cfg = await loadExperimentConfig(good);
    assert.deepEqual(cfg.seeds, [4, 5, 6]);
    assert.equal(cfg.methods.length, 2);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'name: [unclosed\n');
    await assert.rejects(loadExperimentConfig(broken), /broken\.yaml: is not valid YAML/);
    await assert.rejects(loadExperimentConfig(join(dir, 'none.yaml')), /none\.yaml: file not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
