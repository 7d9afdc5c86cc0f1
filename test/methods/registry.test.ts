import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BARE_METHOD_NAMES, describeMethod, METHOD_NAMES, METHODS, methodEntrySchema, parameterDefault, resolveMethod } from '../../src/methods/registry.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { InputError } from '../../src/util/errors.js';

test('every registered method has a one-line description, a label and exactly one way to train', () => {
  assert.ok(METHOD_NAMES.length >= 7);
  for (const m of METHODS) {
    assert.ok(m.description.length > 0 && !m.description.includes('\n'), m.name);
    assert.equal(Boolean(m.objective) !== Boolean(m.train), true, m.name);
    const defaults = m.params.safeParse({});
    if (defaults.success) assert.ok(describeMethod({ method: m.name, ...defaults.data } as never).length > 0);
  }
});

test('kd and codistill are registered, with their parameters, defaults and labels', () => {
  assert.deepEqual(resolveMethod('kd'), { method: 'kd', alpha: 0.5, temperature: 4 });
  assert.deepEqual(resolveMethod({ method: 'codistill', weight: 2 }), { method: 'codistill', weight: 2, syncEvery: 50, burnIn: 0.4 });
  assert.equal(describeMethod(resolveMethod({ method: 'codistill', weight: 2, syncEvery: 10 })), 'codistill w=2 R=10');
  assert.equal(describeMethod(resolveMethod({ method: 'kd', alpha: 0.3, temperature: 2 })), 'kd α=0.3 T=2');
  assert.equal(parameterDefault(METHODS.find((m) => m.name === 'kd')!, 'temperature'), 4);
  assert.ok(BARE_METHOD_NAMES.includes('kd') && !BARE_METHOD_NAMES.includes('churn-budget'));
});

test('the config schema is derived from the registry: each method, its ranges, unknown parameters refused', () => {
  const cfg = parseExperimentConfig({ methods: ['kd', { method: 'codistill', weight: 0.5 }, { method: 'kd', temperature: 2 }] });
  assert.deepEqual(cfg.methods, ['kd', { method: 'codistill', weight: 0.5, syncEvery: 50, burnIn: 0.4 }, { method: 'kd', alpha: 0.5, temperature: 2 }]);
  for (const m of METHOD_NAMES) assert.ok(methodEntrySchema().safeParse({ method: m, ...(m === 'churn-budget' ? { maxChurn: 0.1 } : {}) }).success, m);
  const bad = (value: unknown, field: RegExp) => assert.throws(() => parseExperimentConfig({ methods: [value] }, 'x.yaml'), (e: unknown) => e instanceof InputError && field.test(e.message));
  bad({ method: 'kd', temperature: 0 }, /methods\.0/);
  bad({ method: 'kd', lambda: 0.5 }, /methods\.0/);
  bad({ method: 'toy' }, /methods\.0/);
  bad('churn-budget', /methods\.0/);
});

test('resolveMethod names the method and the parameter that is wrong', () => {
  assert.throws(() => resolveMethod({ method: 'distill', lambda: 2 } as never, 'cfg'), /cfg: distill: lambda: Too big/);
  assert.throws(() => resolveMethod({ method: 'nope' } as never, 'cfg'), /cfg: unknown method "nope"/);
});
