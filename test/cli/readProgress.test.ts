import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { readProgressFor, showReadProgress } from '../../src/cli/readProgress.js';
import { loadCsv } from '../../src/data/csv.js';

/** A terminal-like stream that keeps what is written to it. */
function fakeTerminal(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  const s = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } }) as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(s, { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, text: () => chunks.join('') });
  return s;
}

test('a long read shows the bytes and rows read on a terminal, and nothing in a pipe, under -q or for a small file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-read-progress-'));
  try {
    const file = join(dir, 'big.csv');
    const rows = Array.from({ length: 60_000 }, (_, i) => `${i % 97},${(i * 0.37).toFixed(2)},${i % 3}`);
    writeFileSync(file, ['a,b,label', ...rows].join('\n') + '\n'); // about 0.9 MB: two chunks of the reader
    const terminal = fakeTerminal(true);
    showReadProgress(terminal);
    const progress = readProgressFor(file, 100_000)!;
    assert.ok(progress, 'a bar for a file above the threshold');
    let calls = 0;
    const raw = await loadCsv(file, { onProgress: (bytes, n) => { calls++; progress.update(bytes, n); } });
    progress.stop();
    assert.equal(raw.labels.length, 60_000);
    assert.ok(calls >= 1);
    const shown = terminal.text();
    assert.match(shown, /reading big\.csv/);
    assert.match(shown, /60,000 rows/, shown.slice(-300));
    assert.equal(readProgressFor(file), undefined, 'no bar below the default threshold (16 MB)');
    showReadProgress(fakeTerminal(false));
    assert.equal(readProgressFor(file, 1), undefined, 'not a terminal: no bar');
    showReadProgress(undefined);
    assert.equal(readProgressFor(file, 1), undefined, '-q: no bar');
  } finally {
    showReadProgress(undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
