/**
 * The byte-level CSV reader against csv-parse (the reader it replaced, with the same options):
 * the same cells, labels and line numbers on random tables with quoting, CRLF, blank lines and
 * odd number forms; numbers bit-identical to Number(text); streaming across chunk boundaries.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { loadCsv, parseCsvText } from '../../src/data/csv.js';
import { cellText, columnTexts, isColumnar, tabularColumns } from '../../src/data/columns.js';
import { fitPreprocessing } from '../../src/data/preprocess.js';
import { isInputError, makeTempDir, writeFixture } from './fixtures.js';
import { rng } from '../helpers/random.js';

const dir = makeTempDir();


/** csv-parse's reading of `text` with the options the reader always used. */
function reference(text: string, delimiter = ',') {
  const records = parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, {
    delimiter,
    quote: delimiter === '\t' ? false : '"',
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
  }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  return { header: records[0].record, rows: records.slice(1).map((r) => r.record), lines: records.slice(1).map((r) => r.info.lines) };
}

/**
 * The text a numeric cell gives back: its own, except a decimal of 16 or 17 significant digits
 * (a double written in full), which comes back as String(value), its shortest form.
 */
function textBack(t: string): string {
  const m = /^-?(\d+)\.(\d+)$/.exec(t);
  if (!m || t.endsWith('0')) return t;
  const sig = (m[1] + m[2]).replace(/^0+/, '').length;
  return sig === 16 || sig === 17 ? String(Number(t)) : t;
}

/** Number texts the reader must read exactly: plain, padded, signed, exponents, trailing zeros, long mantissas. */
function numberText(r: () => number): string {
  const x = (r() - 0.5) * 10 ** Math.floor(r() * 12 - 4);
  switch (Math.floor(r() * 10)) {
    case 0:
      return x.toFixed(Math.floor(r() * 8));
    case 1:
      return x.toPrecision(1 + Math.floor(r() * 17));
    case 2:
      return String(x);
    case 3:
      return x.toExponential(Math.floor(r() * 10));
    case 4:
      return `+${Math.abs(x).toFixed(2)}`;
    case 5:
      return `00${Math.floor(Math.abs(x))}`;
    case 6:
      return `.${Math.floor(r() * 1000)}`;
    case 7:
      return String(Math.round(x));
    case 8:
      return ['-0', '0.0', '-0.00', '5.', '0.0000001', '0.00000012', '1e21', '123456789012345678'][Math.floor(r() * 8)];
    default:
      // 16 to 22 random digits around a point
      return `${r() < 0.5 ? '-' : ''}${Array.from({ length: 16 + Math.floor(r() * 7) }, (_, k) => (k === 0 ? 1 + Math.floor(r() * 9) : Math.floor(r() * 10))).join('').replace(/^(\d{1,6})/, '$1.')}`;
  }
}

test('numbers are read bit-identical to Number(text), and their text comes back (a double written in full: its shortest form)', () => {
  const r = rng(7);
  const texts = Array.from({ length: 20000 }, () => numberText(r));
  const raw = parseCsvText(['x,label', ...texts.map((t, i) => `${t},${i % 2 ? 'a' : 'b'}`)].join('\n'), 'n.csv');
  const [col] = tabularColumns(raw);
  assert.equal(col.kind, 'numeric');
  if (col.kind !== 'numeric') return;
  texts.forEach((t, i) => {
    assert.ok(Object.is(col.values[i], Number(t)), `${t}: read ${col.values[i]}, Number() gives ${Number(t)}`);
    assert.equal(cellText(col, i), textBack(t), t);
  });
});

/** A random CSV cell (what the writer puts in the file) for a column of the given kind. */
function cell(r: () => number, kind: 'number' | 'text' | 'mixed'): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const missing = () => pick(['', 'NA', '?', 'nan', ' NA ']);
  if (kind === 'number') return r() < 0.1 ? missing() : r() < 0.2 ? ` ${numberText(r)}\t` : r() < 0.1 ? `"${numberText(r)}"` : numberText(r);
  const texts = ['red', 'blue, dark', 'say "hi"', 'two\nlines', 'é', 'über ', '  padded ', 'x\r\ny', '\u00a0nbsp\u00a0', 'inf', 'NaN'];
  const t = kind === 'mixed' && r() < 0.5 ? numberText(r) : r() < 0.1 ? missing() : pick(texts);
  return /[",\n\r]/.test(t) || r() < 0.1 ? `"${t.replaceAll('"', '""')}"` : t;
}

test('random tables: the same cells, labels and line numbers as csv-parse, with LF or CRLF and blank lines', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(seed);
    const eol = seed % 2 ? '\n' : '\r\n';
    const kinds = ['number', 'text', 'mixed', 'number'] as const;
    const lines = ['a,b,c,d,label'];
    for (let i = 0; i < 300; i++) {
      if (r() < 0.03) lines.push(r() < 0.5 ? '' : '   ');
      lines.push([...kinds.map((k) => cell(r, k)), `k${Math.floor(r() * 3)}`].join(','));
    }
    const text = (seed % 3 === 0 ? '\ufeff' : '') + lines.join(eol) + (seed % 4 ? eol : '');
    const ref = reference(text);
    const raw = parseCsvText(text, 'r.csv');
    assert.ok(isColumnar(raw));
    const cols = tabularColumns(raw);
    assert.equal(cols[0].kind, 'numeric', `seed ${seed}: a column of numbers and missing markers is numeric`);
    const texts = cols.map(columnTexts);
    ref.rows.forEach((row, i) => {
      row.slice(0, 4).forEach((v, j) => {
        // a column that turned text keeps the text of the doubles in full before that as their shortest form
        const back = cols[j].kind === 'numeric' || (j === 2 && texts[j][i] !== v) ? textBack(v) : v;
        assert.equal(texts[j][i], back, `seed ${seed}, row ${i}, column ${j}`);
      });
    });
    assert.deepEqual(raw.labels, ref.rows.map((row) => row[4]), `seed ${seed}`);
    const bad = ref.lines.findIndex((l, i) => l !== raw.origins![i]);
    assert.equal(bad, -1, `seed ${seed}: ${JSON.stringify(ref.rows[bad])} ${ref.lines[bad]} ${raw.origins![bad]} ${JSON.stringify(ref.rows[bad - 1])}`);
  }
});

test('quoted fields hold delimiters, quotes and newlines; a record\'s line is where it ends; a bad cell names its line', () => {
  const text = 'x,note,label\n1,"a, b",p\n2,"say ""hi""\nand go",q\n3,"",p\nabc,x,q\n';
  const raw = parseCsvText(text, 'q.csv');
  assert.deepEqual(raw.rows, [['1', 'a, b'], ['2', 'say "hi"\nand go'], ['3', ''], ['abc', 'x']]);
  assert.deepEqual(raw.origins, [2, 4, 5, 6]);
  assert.throws(() => fitPreprocessing(parseCsvText(text.replace('abc', '4').replace('3,', 'inf,'), 'q.csv')), /q\.csv: line 5: column "x" value "inf" is not a finite number/);
  // mostly numbers and one text cell: an error naming the file's line (after the quoted newline) and the value
  const many = 'x,note,label\n' + Array.from({ length: 6 }, (_, i) => `${i},"n\n${i}",${i % 2 ? 'p' : 'q'}`).join('\n') + '\nabc,z,p\n';
  assert.throws(() => fitPreprocessing(parseCsvText(many, 'm.csv')), /m\.csv: line 14: column "x" value "abc" is not a number, in a numeric column/);
  // CRLF, a BOM, a last line without its newline
  const crlf = parseCsvText('\ufeffx,label\r\n1.50,p\r\n"2",q', 'c.csv');
  assert.deepEqual(crlf.columns, ['x']);
  assert.deepEqual(crlf.rows, [['1.50'], ['2']]);
  assert.deepEqual(crlf.origins, [2, 3]);
  // bad quoting keeps csv-parse's message
  assert.throws(() => parseCsvText('a,label\n1,x"y\n', 'b.csv'), /b\.csv: is not valid CSV: Invalid Opening Quote/);
  assert.throws(() => parseCsvText('a,label\n1,"x"y\n', 'b.csv'), /b\.csv: is not valid CSV: Invalid Closing Quote/);
});

test('TSV: a quote is data; a multi-character delimiter goes through csv-parse with the same checks', () => {
  const tsv = parseCsvText('w\tg\tlabel\n"odd\t12" "x"\tnoun\n', 'q.tsv');
  assert.deepEqual(tsv.rows, [['"odd', '12" "x"']]);
  const multi = parseCsvText('a;;b;;label\n1;;x y;;p\n2;;z;;q\n', 'm.txt', { delimiter: ';;' });
  assert.deepEqual(multi.rows, [['1', 'x y'], ['2', 'z']]);
  assert.equal(tabularColumns(multi)[0].kind, 'numeric');
  assert.throws(() => parseCsvText('a;;label\n1;;p\n2\n', 'm.txt', { delimiter: ';;' }), /m\.txt: line 3: has 1 field but the header has 2/);
});

test('streamed files: gzip, records and UTF-8 characters cut at chunk boundaries, invalid UTF-8 named by its byte offset', async () => {
  const r = rng(3);
  const lines = ['x,note,label'];
  // well over one 1 MiB chunk, with long quoted multi-line fields and multi-byte characters everywhere
  for (let i = 0; lines.join('\n').length < 2.5 * 2 ** 20; i++) {
    lines.push(`${(r() * 100).toFixed(3)},"${'é€😀'.repeat(Math.floor(r() * 400))}\n${i}",${i % 3 ? 'p' : 'q'}`);
  }
  const text = lines.join('\n') + '\n';
  const ref = reference(text);
  for (const [name, content] of [['big.csv', text], ['big.csv.gz', gzipSync(text)]] as const) {
    const raw = await loadCsv(writeFixture(dir, name, content));
    assert.equal(raw.labels.length, ref.rows.length);
    assert.deepEqual(raw.origins, ref.lines);
    const notes = columnTexts(tabularColumns(raw)[1]);
    assert.ok(notes.every((t, i) => t === ref.rows[i][1]), name);
    assert.deepEqual(raw.labels, ref.rows.map((row) => row[2]));
  }
  const bad = Buffer.from(text);
  const at = bad.indexOf(0x0a, 1.5 * 2 ** 20) + 1;
  bad[at] = 0xff;
  const path = writeFixture(dir, 'bad.csv', bad);
  await assert.rejects(loadCsv(path), isInputError(path, new RegExp(`is not valid UTF-8: invalid byte 0xff at byte offset ${at}`)));
});

test('a numeric column keeps the exact text of its cells: zip codes forced categorical, trailing zeros, missing markers', () => {
  const raw = parseCsvText('zip,price,label\n02139,1.50,a\n2139,2,b\nNA,?,a\n', 'z.csv');
  const [zip, price] = tabularColumns(raw);
  assert.equal(zip.kind, 'numeric');
  assert.deepEqual(columnTexts(zip), ['02139', '2139', 'NA']);
  assert.deepEqual(columnTexts(price), ['1.50', '2', '?']);
  const spec = fitPreprocessing(raw, { categorical: ['zip'] });
  assert.deepEqual(spec.kind === 'tabular' && spec.columns[0], { name: 'zip', type: 'categorical', categories: ['02139', '2139'] });
});

test('onProgress reports the bytes read from the file and the rows read, chunk by chunk', async () => {
  const text = 'x,label\n' + Array.from({ length: 300_000 }, (_, i) => `${i % 97},${i % 2 ? 'a' : 'b'}`).join('\n') + '\n';
  const path = writeFixture(dir, 'progress.csv', text);
  const seen: Array<[number, number]> = [];
  const raw = await loadCsv(path, { onProgress: (bytes, rows) => seen.push([bytes, rows]) });
  assert.ok(seen.length >= 2, `${seen.length} reports`);
  assert.deepEqual(seen[seen.length - 1][0], Buffer.byteLength(text));
  assert.ok(seen.every(([b, r], i) => i === 0 || (b >= seen[i - 1][0] && r >= seen[i - 1][1])));
  assert.ok(seen[seen.length - 1][1] <= raw.labels.length && seen[0][1] > 0);
});
