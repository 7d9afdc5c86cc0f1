import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, escapeMarkdown, escapeXml, markdownCode, toCsv } from '../../src/report/escape.js';
import { renderMarkdownTable } from '../../src/report/table.js';

test('each format escapes what would be markup there', () => {
  assert.equal(escapeHtml('<a href="x">&\'</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  assert.equal(escapeXml('a\u0001<b>'), 'a&lt;b&gt;');
  assert.equal(escapeMarkdown('[l](javascript:x) *b* `c` a|b ~~s~~ <i>\nnext'), '\\[l\\](javascript:x) \\*b\\* \\`c\\` a\\|b \\~\\~s\\~\\~ &lt;i&gt; next');
  assert.equal(escapeMarkdown('-12.34% ± 1.02'), '-12.34% ± 1.02', 'numbers stay readable');
  assert.equal(markdownCode('data/a`b.csv'), '``data/a`b.csv``');
  assert.equal(markdownCode('`x'), '`` `x ``');
  assert.equal(toCsv([['a,b', 'say "hi"', 'line\nbreak']]), '"a,b","say ""hi""","line\nbreak"\n');
  const table = renderMarkdownTable({ headers: ['class', 'n'], rows: [['a|b<script>', '3']] });
  assert.equal(table.split('\n')[2], '| a\\|b&lt;script&gt; | 3 |');
});
