/**
 * An update experiment on text with a transformer whose sequence length and vocabulary differ
 * from the text defaults (64 tokens, 5,000 words): the preprocessing follows the model config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/index.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { runUpdateExperiment, textOptionsFor } from '../../src/experiments/updateExperiment.js';

await initEngine();

test('a transformer config sets the text vocabulary bound and sequence length', () => {
  const cfg = parseExperimentConfig({ model: { kind: 'transformer', vocabSize: 300, maxLen: 20 } });
  assert.deepEqual(textOptionsFor(cfg.model), { maxVocab: 300, maxLen: 20, textEncoding: 'tokens' });
  assert.deepEqual(textOptionsFor(parseExperimentConfig({}).model), { textEncoding: 'tfidf' });
});

test('a text experiment with maxLen 24 and vocabSize 40 (fewer than the words in the data) runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-text-'));
  try {
    // 600 short reviews over ~120 distinct words; the label depends on which words occur
    const good = ['fine', 'great', 'lovely', 'superb', 'neat'], bad = ['awful', 'poor', 'dull', 'broken', 'weak'];
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const positive = i % 2 === 0;
      const words = Array.from({ length: 6 + Math.floor(rand() * 30) }, () =>
        rand() < 0.3 ? (positive ? good : bad)[Math.floor(rand() * 5)] : `w${Math.floor(rand() * 110)}`);
      lines.push(JSON.stringify({ text: words.join(' '), label: positive ? 'pos' : 'neg' }));
    }
    const file = join(dir, 'reviews.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const cfg = parseExperimentConfig({
      name: 'text', data: file, testSize: 150, split: { initial: 200, validation: 50, newBatch: 200 },
      model: { kind: 'transformer', vocabSize: 40, maxLen: 24, dModel: 16, heads: 2, layers: 1, ff: 32 },
      training: { epochs: 8, batchSize: 32, patience: 0, learningRate: 0.003 }, seeds: [1],
      methods: ['plain', { method: 'distill', lambda: 0.5 }], bootstrap: { resamples: 50 },
    });
    const result = await runUpdateExperiment(cfg);
    assert.equal(result.trials.length, 2);
    for (const t of result.trials) assert.ok(t.metrics.accuracyNew.estimate > 0.6, `${t.method}: accuracy ${t.metrics.accuracyNew.estimate}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
