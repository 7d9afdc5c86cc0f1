import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkUpdateScenario, splitUpdateScenario, trainTestSplit, trainValidationSplit } from '../../src/data/split.js';
import { inConfigFile, ParamError, withParamNamesSync } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { isInputError } from './fixtures.js';

/** Asserts the index sets are disjoint and inside 0..n-1; returns how many indices they hold. */
function assertDisjoint(n: number, ...sets: Int32Array[]): number {
  const seen = new Set<number>();
  for (const set of sets) {
    for (const i of set) {
      assert.ok(i >= 0 && i < n, `index ${i} in range`);
      assert.ok(!seen.has(i), `index ${i} appears once`);
      seen.add(i);
    }
  }
  return seen.size;
}

test('update scenario: paper defaults, disjoint sets, the rest unused', () => {
  const s = splitUpdateScenario(20000, { seed: 1 });
  assert.equal(s.initial.length, 1000);
  assert.equal(s.validation.length, 100);
  assert.equal(s.newBatch.length, 1000);
  assert.equal(s.test.length, 0);
  assert.equal(assertDisjoint(20000, s.initial, s.validation, s.newBatch, s.test), 2100);
});

test('update scenario: held-out test portion (count or fraction) and rest', () => {
  const counted = splitUpdateScenario(5000, { seed: 3, test: 1000, newBatch: 'rest' });
  assert.equal(counted.test.length, 1000);
  assert.equal(counted.newBatch.length, 5000 - 1000 - 1000 - 100);
  assert.equal(assertDisjoint(5000, counted.initial, counted.validation, counted.newBatch, counted.test), 5000);

  const fraction = splitUpdateScenario(5000, { seed: 3, test: 0.2, initial: 0.1, validation: 50, newBatch: 500 });
  assert.equal(fraction.test.length, 1000);
  assert.equal(fraction.initial.length, 500);
  assertDisjoint(5000, fraction.initial, fraction.validation, fraction.newBatch, fraction.test);

  const restTest = splitUpdateScenario(3000, { seed: 3, test: 'rest' });
  assert.equal(restTest.test.length, 900);
});

test('update scenario: same seed → same split, different seed → different split', () => {
  const a = splitUpdateScenario(3000, { seed: 42, test: 500 });
  const b = splitUpdateScenario(3000, { seed: 42, test: 500 });
  const c = splitUpdateScenario(3000, { seed: 43, test: 500 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.initial, c.initial);
  assert.notDeepEqual(a.test, c.test);
});

test('update scenario: sizes beyond the data or malformed are InputErrors', () => {
  assert.throws(
    () => splitUpdateScenario(2000, { seed: 1 }),
    isInputError('split', /needs 2100 examples \(initial 1000 \+ validation 100 \+ newBatch 1000\) but the data has only 2000/),
  );
  assert.throws(() => splitUpdateScenario(2000, { seed: 1, test: 2500, source: 'letter' }), isInputError('letter', /but the data has only 2000/));
  assert.throws(() => splitUpdateScenario(2000, { seed: 1, initial: -5 }), isInputError('initial', /must be a count/));
  assert.throws(() => splitUpdateScenario(2000, { seed: 1, initial: 1.5 }), isInputError('initial', /must be a count/));
  assert.throws(
    () => splitUpdateScenario(2000, { seed: 1, initial: 'rest', newBatch: 'rest' }),
    isInputError('split', /only one part can be 'rest', not initial and newBatch/),
  );
  // the check alone: the same errors for any seed, nothing drawn
  assert.throws(() => checkUpdateScenario(2000, {}), isInputError('split', /needs 2100 examples/));
  assert.doesNotThrow(() => checkUpdateScenario(2100, {}));
});

test('split errors name the library parameters, and a caller renames them to what the user typed (#27 item 11)', () => {
  // each names its parameter as the library function calls it
  for (const [fn, name] of [[() => trainTestSplit(10, 11, 1), 'testSize'], [() => trainValidationSplit(10, 11, 1), 'validationSize']] as const) {
    assert.throws(fn, (e) => e instanceof ParamError && e.names === 'library' && e.message === `${name}: 11 exceeds the 10 examples of the data`);
  }
  // renamed by the caller that knows where the values came from: a config's keys, then its file
  const fromConfig = () => withParamNamesSync('library', { test: 'testSize', initial: 'trainSize' }, 'config', () => splitUpdateScenario(2000, { seed: 1, test: 1500, initial: 1000, validation: 0, newBatch: 0, source: 'letter' }));
  assert.throws(fromConfig, (e) => e instanceof ParamError && e.names === 'config' && e.message === 'letter: the split needs 2500 examples (testSize 1500 + trainSize 1000) but the data has only 2000');
  return inConfigFile('exp.yaml', async () => fromConfig()).then(
    () => assert.fail('no error'),
    (e) => assert.equal((e as Error).message, 'exp.yaml: letter: the split needs 2500 examples (testSize 1500 + trainSize 1000) but the data has only 2000'),
  );
});

test('trainTestSplit and trainValidationSplit: complementary, deterministic', () => {
  const { train, test: held } = trainTestSplit(1000, 0.25, 9);
  assert.equal(held.length, 250);
  assert.equal(train.length, 750);
  assert.equal(assertDisjoint(1000, train, held), 1000);
  assert.deepEqual(trainTestSplit(1000, 0.25, 9), { train, test: held });
  assert.notDeepEqual(trainTestSplit(1000, 0.25, 10).test, held);

  const v = trainValidationSplit(1000, 100, 9);
  assert.equal(v.validation.length, 100);
  assert.equal(assertDisjoint(1000, v.train, v.validation), 1000);
  assert.throws(() => trainTestSplit(10, 11, 1), isInputError('testSize', /11 exceeds the 10 examples/));
});

/** How many of `indices` fall in each class of `labels`. */
function perClass(indices: Int32Array, labels: ArrayLike<string | number>): Map<string | number, number> {
  const counts = new Map<string | number, number>();
  for (const i of indices) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  return counts;
}

/** Labels with `sizes[c]` examples of class `c${c}`, shuffled by a fixed rule (not sorted by class). */
function labelsOf(sizes: number[]): string[] {
  const labels = sizes.flatMap((s, c) => Array.from({ length: s }, () => `c${c}`));
  return labels.map((_, i) => labels[(i * 7919) % labels.length]);
}

test('stratified hold-out: each class gives its share within ±1, the total is the requested size', () => {
  const sizes = [500, 300, 150, 40, 10];
  const labels = labelsOf(sizes);
  assert.equal(new Set(labels.map((_, i) => (i * 7919) % labels.length)).size, labels.length, 'the fixture is a permutation');
  for (const [size, count] of [[0.2, 200], [0.1, 100], [137, 137], [0.33, 330]] as const) {
    for (const seed of [1, 2, 3]) {
      const { train, validation } = trainValidationSplit(1000, size, seed, { labels });
      assert.equal(validation.length, count);
      assert.equal(assertDisjoint(1000, train, validation), 1000);
      const held = perClass(validation, labels);
      sizes.forEach((s, c) => {
        const share = (count * s) / 1000;
        const got = held.get(`c${c}`) ?? 0;
        assert.ok(Math.abs(got - share) < 1, `class c${c}: ${got} held out, share ${share} (size ${size}, seed ${seed})`);
      });
    }
  }
  // the test split takes the same options
  const t = trainTestSplit(1000, 0.2, 1, { labels });
  assert.deepEqual(t.test, trainValidationSplit(1000, 0.2, 1, { labels }).validation);
});

test('stratified hold-out: a class keeps at least one example in training; a single example stays there', () => {
  // a held-out Shuttle-like class mix: two big classes, one of 2 examples, two of 1
  const sizes = [100, 50, 2, 1, 1];
  const labels = labelsOf(sizes);
  const n = labels.length;
  for (let seed = 1; seed <= 20; seed++) {
    for (const size of [0.1, 0.5, 0.9, n - sizes.length]) {
      const { train, validation } = trainValidationSplit(n, size, seed, { labels });
      const count = size < 1 ? Math.round(size * n) : size;
      assert.equal(validation.length, count);
      assert.equal(assertDisjoint(n, train, validation), n);
      const kept = perClass(train, labels);
      sizes.forEach((_, c) => assert.ok((kept.get(`c${c}`) ?? 0) >= 1, `class c${c} keeps an example in training (seed ${seed}, size ${size})`));
      assert.equal(kept.get('c3'), 1);
      assert.equal(kept.get('c4'), 1);
    }
  }
  // what the big classes cannot give, the others do (largest remainder keeps the total)
  const half = trainValidationSplit(n, 0.5, 1, { labels });
  assert.deepEqual(Object.fromEntries(perClass(half.validation, labels)), { c0: 51, c1: 25, c2: 1 });
});

test('stratified hold-out: many random class mixes keep the total and the ≥1-in-training rule', () => {
  for (let trial = 0; trial < 200; trial++) {
    const K = 1 + (trial % 12);
    const sizes = Array.from({ length: K }, (_, c) => 1 + ((trial * 31 + c * 17) % (c % 3 === 0 ? 3 : 60)));
    const labels = labelsOf(sizes);
    const n = labels.length;
    const count = Math.min(n - K, (trial * 13) % n);
    const { train, validation } = trainValidationSplit(n, count, trial, { labels });
    assert.equal(validation.length, count);
    assert.equal(assertDisjoint(n, train, validation), n);
    const kept = perClass(train, labels);
    sizes.forEach((_, c) => assert.ok((kept.get(`c${c}`) ?? 0) >= 1, `trial ${trial}: class c${c}`));
  }
});

test('stratified hold-out: a hold-out larger than the rule allows still has the requested size', () => {
  const labels = ['a', 'a', 'b', 'b', 'c'];
  const { train, validation } = trainValidationSplit(5, 4, 1, { labels });
  assert.equal(validation.length, 4);
  assert.equal(train.length, 1);
  assert.equal(assertDisjoint(5, train, validation), 5);
  assert.throws(() => trainValidationSplit(5, 6, 1, { labels }), isInputError('validationSize', /6 exceeds the 5 examples/));
});

test('stratified hold-out: deterministic for a seed; string and integer labels of the same classes split alike', () => {
  const labels = labelsOf([300, 200, 80, 3]);
  const a = trainValidationSplit(583, 0.2, 5, { labels });
  assert.deepEqual(trainValidationSplit(583, 0.2, 5, { labels }), a);
  assert.notDeepEqual(trainValidationSplit(583, 0.2, 6, { labels }).validation, a.validation);
  const codes = Int32Array.from(labels, (l) => Number(l.slice(1)));
  assert.deepEqual(trainValidationSplit(583, 0.2, 5, { labels: codes }), a);
});

test('unstratified hold-out (stratify: false, or no labels): the same indices as before stratification', () => {
  const labels = labelsOf([500, 300, 150, 40, 10]);
  const order = new Rng(9).permutation(1000);
  const expected = { train: order.slice(100), validation: order.slice(0, 100) };
  assert.deepEqual(trainValidationSplit(1000, 100, 9), expected);
  assert.deepEqual(trainValidationSplit(1000, 100, 9, { labels, stratify: false }), expected);
  assert.deepEqual(trainValidationSplit(1000, 0.1, 9, { stratify: false }), expected);
  assert.notDeepEqual(trainValidationSplit(1000, 100, 9, { labels }).validation, expected.validation);
});
