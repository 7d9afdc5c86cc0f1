import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitUpdateScenario, trainTestSplit, trainValidationSplit } from '../../src/data/split.js';
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
  assert.throws(() => splitUpdateScenario(2000, { seed: 1, initial: -5 }), isInputError('split', /initial must be a count/));
  assert.throws(() => splitUpdateScenario(2000, { seed: 1, initial: 1.5 }), isInputError('split', /initial must be a count/));
  assert.throws(
    () => splitUpdateScenario(2000, { seed: 1, initial: 'rest', newBatch: 'rest' }),
    isInputError('split', /only one part can be 'rest'/),
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
  assert.throws(() => trainTestSplit(10, 11, 1), isInputError('split', /test size 11 exceeds the 10 examples/));
});
