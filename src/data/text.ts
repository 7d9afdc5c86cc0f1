import type { RawText } from './types.js';
import { InputError } from '../util/errors.js';
import { readInputText } from './read.js';
import { compareCodeUnits } from './values.js';

/** Vocabulary entry 0: pads sequences shorter than maxLen. */
export const PAD_TOKEN = '<pad>';
/** Vocabulary entry 1: stands for every token outside the vocabulary. */
export const UNK_TOKEN = '<unk>';
export const PAD_ID = 0;
export const UNK_ID = 1;

/** Options of {@link loadJsonl}. */
export interface JsonlOptions {
  /** Field holding the text (default `text`). */
  textField?: string;
  /** Field holding the label, a string or a number (default `label`). */
  labelField?: string;
  /** Accept records without the label field (prediction): their label is then "". */
  labelOptional?: boolean;
}

/**
 * Loads labelled texts from a JSON Lines file (gzipped files recognised by magic bytes):
 * one JSON object per line, blank lines skipped. Throws an InputError naming the file
 * and line for malformed JSON, a missing or non-string text field, or a missing/empty label.
 */
export async function loadJsonl(path: string, opts: JsonlOptions = {}): Promise<RawText> {
  return parseJsonlText(await readInputText(path), path, opts);
}

/** Parses JSON Lines text as {@link loadJsonl} does; `source` names it in error messages. */
export function parseJsonlText(content: string, source: string, opts: JsonlOptions = {}): RawText {
  const textField = opts.textField ?? 'text';
  const labelField = opts.labelField ?? 'label';
  const texts: string[] = [];
  const labels: string[] = [];
  const origins: number[] = [];
  content.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new InputError(source, `${where}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InputError(source, `${where}: expected a JSON object, found ${Array.isArray(value) ? 'an array' : String(value)}`);
    }
    const record = value as Record<string, unknown>;
    const fields = Object.keys(record).join(', ') || 'none';
    const text = record[textField];
    if (text === undefined) throw new InputError(source, `${where}: no "${textField}" field (fields: ${fields})`);
    if (typeof text !== 'string') throw new InputError(source, `${where}: field "${textField}" is not a string`);
    const label = record[labelField];
    if (label === undefined && opts.labelOptional) {
      texts.push(text);
      labels.push('');
      origins.push(i + 1);
      return;
    }
    if (label === undefined) throw new InputError(source, `${where}: no "${labelField}" field (fields: ${fields})`);
    if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean') {
      throw new InputError(source, `${where}: field "${labelField}" must be a string or a number`);
    }
    if (String(label) === '') throw new InputError(source, `${where}: field "${labelField}" is empty`);
    texts.push(text);
    labels.push(String(label));
    origins.push(i + 1);
  });
  if (texts.length === 0) throw new InputError(source, 'contains no examples');
  return { kind: 'text', source, texts, labels, origins };
}

/**
 * Splits text into word tokens: maximal runs of Unicode letters and digits, where an
 * apostrophe (' or ’, written as ') between two such characters stays inside the word
 * ("don't", "o'neill"); every other character separates tokens and is dropped.
 * Lowercases first when `lowercase` is true.
 */
export function tokenize(text: string, lowercase = true): string[] {
  const source = lowercase ? text.toLowerCase() : text;
  const tokens = source.match(/[\p{L}\p{N}]+(?:['\u2019][\p{L}\p{N}]+)*/gu) ?? [];
  return tokens.map((t) => t.replace(/\u2019/g, "'"));
}

/**
 * Vocabulary of the `maxVocab - 2` most frequent tokens of `texts`, after PAD_TOKEN and
 * UNK_TOKEN (so its length is at most `maxVocab`). Ties in frequency are broken by
 * code-unit order of the token, so the same texts always give the same vocabulary.
 */
export function buildVocabulary(texts: Iterable<string>, maxVocab: number, lowercase = true): string[] {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const token of tokenize(text, lowercase)) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || compareCodeUnits(a[0], b[0]));
  return [PAD_TOKEN, UNK_TOKEN, ...ranked.slice(0, Math.max(0, maxVocab - 2)).map(([token]) => token)];
}

/**
 * Token ids of `text`, truncated to the first `maxLen` tokens and padded at the end with
 * PAD_ID; tokens outside the vocabulary become UNK_ID. Written into `out` at `offset`.
 */
export function encodeText(
  text: string,
  tokenIds: ReadonlyMap<string, number>,
  maxLen: number,
  lowercase: boolean,
  out: Float32Array,
  offset: number,
): void {
  const tokens = tokenize(text, lowercase);
  const n = Math.min(tokens.length, maxLen);
  for (let i = 0; i < n; i++) out[offset + i] = tokenIds.get(tokens[i]) ?? UNK_ID;
  out.fill(PAD_ID, offset + n, offset + maxLen);
}

/** The n-grams of `tokens` up to length `n` (words, then pairs of adjacent words joined by a space, …). */
export function ngramTerms(tokens: string[], n: number): string[] {
  const terms = [...tokens];
  for (let len = 2; len <= n; len++) {
    for (let i = 0; i + len <= tokens.length; i++) terms.push(tokens.slice(i, i + len).join(' '));
  }
  return terms;
}

/**
 * TF-IDF vocabulary of `texts`: the n-grams (up to `ngrams` words) found in at least `minDf`
 * texts, the `maxVocab` most frequent by document frequency (ties in code-unit order), each
 * with its smoothed inverse document frequency ln((1 + n) / (1 + df)) + 1.
 */
export function buildTfidfVocabulary(texts: string[], opts: { maxVocab: number; ngrams: number; lowercase: boolean; minDf: number }): { vocab: string[]; idf: number[] } {
  const df = new Map<string, number>();
  for (const text of texts) {
    for (const term of new Set(ngramTerms(tokenize(text, opts.lowercase), opts.ngrams))) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const ranked = [...df].filter(([, d]) => d >= opts.minDf).sort((a, b) => b[1] - a[1] || compareCodeUnits(a[0], b[0])).slice(0, opts.maxVocab);
  const n = texts.length;
  return { vocab: ranked.map(([t]) => t), idf: ranked.map(([, d]) => Math.log((1 + n) / (1 + d)) + 1) };
}

/**
 * The TF-IDF vector of `text` written into `out` at `offset` (vocabulary order): for each
 * vocabulary term, (1 + ln count) · idf, the vector scaled to unit length (all zeros when
 * no term of the text is in the vocabulary).
 */
export function encodeTfidf(
  text: string,
  termIds: ReadonlyMap<string, number>,
  idf: readonly number[],
  ngrams: number,
  lowercase: boolean,
  out: Float32Array,
  offset: number,
): void {
  const counts = new Map<number, number>();
  for (const term of ngramTerms(tokenize(text, lowercase), ngrams)) {
    const id = termIds.get(term);
    if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  let norm = 0;
  const weights: [number, number][] = [];
  for (const [id, c] of counts) {
    const w = (1 + Math.log(c)) * idf[id];
    weights.push([id, w]);
    norm += w * w;
  }
  norm = Math.sqrt(norm);
  for (const [id, w] of weights) out[offset + id] = w / norm;
}
