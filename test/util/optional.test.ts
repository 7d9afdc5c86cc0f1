import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkOptional, hasOptionalPackage, importOptional, MissingPackageError, requireOptional, type OptionalPackage } from '../../src/util/optional.js';
import { DistilleryError } from '../../src/util/errors.js';

// A name that no registry package has, standing for an optional package that is not installed.
const absent = 'distillery-test-absent-package' as OptionalPackage;

test('a feature used without its optional package: one line naming what to install, exit code 2', async () => {
  await assert.rejects(importOptional(absent, 'the feature'), (e: unknown) => {
    assert.ok(e instanceof MissingPackageError && e instanceof DistilleryError);
    assert.equal(e.exitCode, 2);
    assert.equal(e.message, `the feature needs the optional package ${absent}: npm install ${absent}`);
    assert.deepEqual(e.packages, [absent]);
    return true;
  });
  assert.throws(() => requireOptional(absent, 'the feature'), MissingPackageError);
});

test('what else the feature needs is named only when it is missing too', () => {
  assert.throws(() => checkOptional([absent, 'ioredis'], 'x'), (e: MissingPackageError) => e.message === `x needs the optional package ${absent}: npm install ${absent}`);
  assert.throws(() => requireOptional(absent, 'x', [`${absent}-2` as OptionalPackage]), (e: MissingPackageError) => e.message === `x needs the optional packages ${absent} and ${absent}-2: npm install ${absent} ${absent}-2`);
  assert.doesNotThrow(() => checkOptional(['ioredis', 'bullmq', 'onnxruntime-node', 'onnx-proto', '@duckdb/node-api', 'apache-arrow'], 'the dev set-up'));
  assert.equal(hasOptionalPackage('onnx-proto'), true);
});
