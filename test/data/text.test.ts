import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPreprocessing, featureShapeOf, fitPreprocessing } from '../../src/data/preprocess.js';
import { buildTfidfVocabulary, buildVocabulary, encodeTfidf, loadJsonl, ngramTerms, PAD_ID, parseJsonlText, tokenize, UNK_ID } from '../../src/data/text.js';
import { isInputError, makeTempDir, writeFixture } from './fixtures.js';

const dir = makeTempDir();

const REVIEWS = [
  { text: "Great movie, didn't expect it!", label: 'pos' },
  { text: 'Terrible movie. Boring plot; terrible acting.', label: 'neg' },
  { text: "It's GREAT — 10/10", label: 'pos' },
];

test('loads JSON Lines: one object per line, blank lines skipped, numeric labels as strings', async () => {
  const path = writeFixture(dir, 'reviews.jsonl', REVIEWS.map((r) => JSON.stringify(r)).join('\n\n') + '\n');
  const raw = await loadJsonl(path);
  assert.equal(raw.kind, 'text');
  assert.equal(raw.source, path);
  assert.deepEqual(raw.texts, REVIEWS.map((r) => r.text));
  assert.deepEqual(raw.labels, ['pos', 'neg', 'pos']);

  const custom = writeFixture(dir, 'custom.jsonl', '{"body":"hi","stars":5}\n{"body":"bye","stars":1}\n');
  const other = await loadJsonl(custom, { textField: 'body', labelField: 'stars' });
  assert.deepEqual(other.labels, ['5', '1']);
});

test('bad JSON Lines input is an InputError naming the file, line and problem', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['malformed.jsonl', '{"text":"a","label":"x"}\n\n{"text": "b", label}\n', /line 3: not valid JSON/],
    ['notobject.jsonl', '[1,2]\n', /line 1: expected a JSON object, found an array/],
    ['notext.jsonl', '{"body":"a","label":"x"}\n', /line 1: no "text" field \(fields: body, label\)/],
    ['nolabel.jsonl', '{"text":"a","label":"x"}\n{"text":"b"}\n', /line 2: no "label" field/],
    ['textnumber.jsonl', '{"text":5,"label":"x"}\n', /line 1: field "text" is not a string/],
    ['emptylabel.jsonl', '{"text":"a","label":""}\n', /line 1: field "label" is empty/],
    ['empty.jsonl', '\n\n', /contains no examples/],
  ];
  for (const [name, content, problem] of cases) {
    const path = writeFixture(dir, name, content);
    await assert.rejects(loadJsonl(path), isInputError(path, problem), name);
  }
});

test('tokenize: lowercases, splits on non-letters/digits, keeps apostrophes inside words', () => {
  assert.deepEqual(tokenize("Don't STOP—it's 10/10, 'quoted' rock'n'roll café"), [
    "don't", 'stop', "it's", '10', '10', 'quoted', "rock'n'roll", 'café',
  ]);
  assert.deepEqual(tokenize('Don’t Panic', false), ["Don't", 'Panic']);
  assert.deepEqual(tokenize('  ...  '), []);
});

test('vocabulary: specials first, then by frequency, ties broken lexicographically', () => {
  const vocab = buildVocabulary(['b a c', 'c b', 'c d'], 5);
  assert.deepEqual(vocab, ['<pad>', '<unk>', 'c', 'b', 'a']);
  assert.deepEqual(buildVocabulary(['c d', 'c b', 'b a c'], 5), vocab, 'order of texts does not matter');
  assert.deepEqual(buildVocabulary(['x'], 100), ['<pad>', '<unk>', 'x']);
});

test('text preprocessing: token ids padded at the end, truncated to maxLen, unknown words → <unk>', () => {
  const raw = { kind: 'text' as const, source: 'reviews', texts: REVIEWS.map((r) => r.text), labels: REVIEWS.map((r) => r.label) };
  const spec = fitPreprocessing(raw, { maxVocab: 6, maxLen: 5 });
  assert.ok(spec.kind === 'text');
  assert.deepEqual(spec.vocab, ['<pad>', '<unk>', '10', 'great', 'movie', 'terrible'], 'each seen twice: ties in code-unit order');
  assert.deepEqual(spec.classNames, ['neg', 'pos']);
  assert.deepEqual(featureShapeOf(spec), [5]);
  assert.deepEqual(fitPreprocessing(raw, { maxVocab: 6, maxLen: 5 }), spec, 'fitting is deterministic');

  const ds = applyPreprocessing(spec, { ...raw, texts: ['great movie', 'Terrible terrible movie, great unknown words here'], labels: ['pos', 'neg'] });
  assert.deepEqual(Array.from(ds.features), [3, 4, PAD_ID, PAD_ID, PAD_ID, 5, 5, 4, 3, UNK_ID]);
  assert.deepEqual(Array.from(ds.labels), [1, 0]);

  const defaults = fitPreprocessing(raw);
  assert.ok(defaults.kind === 'text');
  assert.equal(defaults.maxLen, 64);
  assert.equal(defaults.lowercase, true);
  assert.throws(() => fitPreprocessing(raw, { maxVocab: 2 }), isInputError('reviews', /maxVocab must be at least 3/));
  assert.throws(() => fitPreprocessing(raw, { maxLen: 0 }), isInputError('reviews', /maxLen must be a positive integer/));
});

test('JSON Lines for prediction may omit the label when labelOptional is set', () => {
  const content = '{"text": "win money now"}\n{"text": "see you at lunch", "label": "ham"}\n';
  const raw = parseJsonlText(content, 'unlabelled.jsonl', { labelOptional: true });
  assert.deepEqual(raw.labels, ['', 'ham']);
  assert.throws(() => parseJsonlText(content, 'unlabelled.jsonl'), /unlabelled\.jsonl: line 1: no "label" field/);
});

test('TF-IDF: n-gram vocabulary by document frequency, sublinear tf × smoothed idf, unit length (checked by hand)', () => {
  assert.deepEqual(ngramTerms(['a', 'b', 'c'], 2), ['a', 'b', 'c', 'a b', 'b c']);
  const texts = ['A b', 'a c', 'a b b'];
  const { vocab, idf } = buildTfidfVocabulary(texts, { maxVocab: 10, ngrams: 1, lowercase: true, minDf: 1 });
  assert.deepEqual(vocab, ['a', 'b', 'c']);
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
  close(idf[0], 1); // ln(4/4) + 1
  close(idf[1], Math.log(4 / 3) + 1);
  close(idf[2], Math.log(2) + 1);
  const out = new Float32Array(3);
  encodeTfidf('a b b', new Map(vocab.map((t, i) => [t, i])), idf, 1, true, out, 0);
  const wa = 1;
  const wb = (1 + Math.log(2)) * (Math.log(4 / 3) + 1);
  const norm = Math.hypot(wa, wb);
  assert.ok(Math.abs(out[0] - wa / norm) < 1e-6 && Math.abs(out[1] - wb / norm) < 1e-6 && out[2] === 0);
  // minDf and maxVocab: terms in fewer texts are left out; a text with no known term is all zeros
  assert.deepEqual(buildTfidfVocabulary(texts, { maxVocab: 10, ngrams: 2, lowercase: true, minDf: 2 }).vocab, ['a', 'a b', 'b']); // ties by code units
  assert.deepEqual(buildTfidfVocabulary(texts, { maxVocab: 1, ngrams: 2, lowercase: true, minDf: 1 }).vocab, ['a']);
  const none = new Float32Array(3);
  encodeTfidf('zzz', new Map(vocab.map((t, i) => [t, i])), idf, 1, true, none, 0);
  assert.deepEqual(Array.from(none), [0, 0, 0]);
});

test('fitPreprocessing with textEncoding tfidf: features one per term; the spec round-trips through JSON', () => {
  const raw = parseJsonlText(['{"text":"good film","label":"pos"}', '{"text":"bad film","label":"neg"}', '{"text":"good good plot","label":"pos"}'].join('\n'), 't.jsonl');
  const spec = fitPreprocessing(raw, { textEncoding: 'tfidf', minDf: 1, ngrams: 2 });
  assert.equal(spec.kind === 'text' && spec.encoding, 'tfidf');
  const ds = applyPreprocessing(JSON.parse(JSON.stringify(spec)), raw);
  assert.deepEqual(ds.featureShape, [spec.kind === 'text' ? spec.vocab.length : 0]);
  for (let i = 0; i < 3; i++) {
    const row = ds.features.subarray(i * ds.featureShape[0], (i + 1) * ds.featureShape[0]);
    assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-6);
  }
  assert.throws(() => fitPreprocessing(raw, { textEncoding: 'tfidf', minDf: 5 }), /no word occurs in 5 or more training texts/);
});
