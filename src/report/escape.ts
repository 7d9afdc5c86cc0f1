/**
 * Escaping for every format Distillery writes. A string from data (class names, column
 * names), a path or a config goes through the function of the format it lands in, so it
 * reads as text there and never as markup: no live HTML, links, code spans or table cells
 * from a class named `<script>`, `[x](javascript:…)` or `a|b`.
 */
import { lazy } from '../util/lazy.js';

const csvStringify = lazy<typeof import('csv-stringify/sync')>('csv-stringify/sync');

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

/** Text for SVG/XML content or attributes (XML's five entities; control characters dropped). */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeHtml(text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ''));
}

/**
 * Text for Markdown (GitHub-flavoured), inline or in a table cell: HTML is entity-escaped,
 * the characters that start inline markup (emphasis, code, links, images, strikethrough,
 * table pipes) are backslash-escaped, and line breaks become spaces (so no block markup can
 * start). Numbers such as "-12.34% ± 1.02" stay as they are.
 */
export function escapeMarkdown(text: string): string {
  const flat = text.replace(/\s*\r?\n\s*/g, ' ');
  return escapeHtml(flat).replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`);
}

/**
 * A Markdown code span holding `text` literally (not inside a table): fenced with more
 * backticks than any run inside it (CommonMark), padded with spaces when it starts or ends
 * with a backtick.
 */
export function markdownCode(text: string): string {
  const flat = text.replace(/\s*\r?\n\s*/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || /^ .* $/.test(flat) ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** CSV text of rows: fields with commas, quotes or line breaks quoted (RFC 4180, via csv-stringify). */
export function toCsv(rows: string[][]): string {
  return csvStringify().stringify(rows);
}
