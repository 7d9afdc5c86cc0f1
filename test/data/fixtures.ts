/** Helpers for data-layer tests: temporary fixture files and InputError assertions. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { InputError } from '../../src/util/errors.js';

/** A fresh temporary folder, removed when the test file finishes. */
export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-data-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `content` to `dir/name` and returns the path. */
export function writeFixture(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Asserts that `error` is an InputError whose message starts with `source` and matches `problem`. */
export function isInputError(source: string, problem: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${source}: `), `message should name ${source}: ${error.message}`);
    assert.match(error.message, problem);
    return true;
  };
}
