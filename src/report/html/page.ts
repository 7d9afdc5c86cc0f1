/**
 * The frame of Distillery's HTML reports: one self-contained file (inline CSS, inline SVG
 * plots, a little inline script; a Content-Security-Policy that forbids every network
 * fetch), built from escaped pieces. Every string from data or a config goes through
 * escapeHtml here, or into the page's JSON data block, which the script only ever writes
 * with textContent.
 */
import { escapeHtml } from '../escape.js';
import type { Table } from '../table.js';
import { FLIP_TABLE_SCRIPT } from './flipTableScript.js';

/** The HTML report's name in a run directory. */
export const HTML_REPORT_FILE = 'report.html';

/** First line after the doctype: the mark by which Distillery knows a report it wrote. */
export const HTML_REPORT_MARK = '<!-- distillery-report -->';
export const HTML_REPORT_SIGNATURE = /^<!DOCTYPE html>\r?\n<!-- distillery-report -->/;

/** Trusted markup: built by these helpers from escaped text. */
export interface Html {
  readonly html: string;
}
export const raw = (html: string): Html => ({ html });
const text = (s: string | Html): string => (typeof s === 'string' ? escapeHtml(s) : s.html);

/** Markup from a template whose interpolations are escaped (strings) or trusted (Html, arrays of them). */
export function h(strings: TemplateStringsArray, ...values: (string | number | Html | (string | Html)[] | null | undefined)[]): Html {
  let out = strings[0];
  values.forEach((v, i) => {
    if (v === null || v === undefined) out += '';
    else if (Array.isArray(v)) out += v.map(text).join('');
    else out += typeof v === 'number' ? String(v) : text(v);
    out += strings[i + 1];
  });
  return raw(out);
}

export interface Section {
  id: string;
  title: string;
  /** One or two sentences on what the section shows and how to read it. */
  intro?: string | Html;
  body: Html;
}

/** A headline number: label, value, an optional detail line, and a tone. */
export interface Card {
  label: string;
  value: string;
  detail?: string;
  tone?: 'good' | 'bad' | 'neutral';
}

export interface ReportPage {
  title: string;
  /** Kind of report, shown above the title ("Update experiment", "Model comparison"). */
  kind: string;
  /** Lines under the title (versions, data, time). */
  meta: string[];
  cards?: Card[];
  /** A one-line verdict in a banner (the release gate). */
  banner?: { text: string; tone: 'good' | 'bad' };
  sections: Section[];
  /** JSON for the page's script (the flipped-examples table), when it has one. */
  data?: unknown;
  /** Further inline scripts (plain ES2015, writing no markup), e.g. SORTABLE_TABLE_SCRIPT. */
  scripts?: string[];
}

/** JSON safe inside a <script> element: no "<" (so no "</script>"), no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

let svgCounter = 0;

/**
 * An SVG from vega inline in the page: its ids (clip paths, gradients) made unique per
 * figure, so several plots in one document do not clip each other; scaled to the column.
 */
export function inlineSvg(svg: string, label: string): Html {
  const prefix = `f${++svgCounter}-`;
  const body = svg
    .replace(/<\?xml[^>]*>\s*/, '')
    .replace(/\bid="([^"]+)"/g, (_, id) => `id="${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id) => `url(#${prefix}${id})`)
    .replace(/href="#([^"]+)"/g, (_, id) => `href="#${prefix}${id}"`);
  return h`<figure class="plot" role="img" aria-label="${label}">${raw(body)}</figure>`;
}

/** A table of formatted cells; numeric-looking columns right-aligned. */
export function htmlTable(table: Table, opts: { className?: string; highlightRow?: (row: string[], i: number) => boolean } = {}): Html {
  const align = (j: number) => table.align?.[j] ?? (j === 0 ? 'left' : 'right');
  const head = table.headers.map((c, j) => h`<th class="${align(j)}">${c}</th>`);
  const rows = table.rows.map((r, i) => {
    const cls = opts.highlightRow?.(r, i) ? ' class="hl"' : '';
    return h`<tr${raw(cls)}>${table.headers.map((_, j) => h`<td class="${align(j)}">${r[j] ?? ''}</td>`)}</tr>`;
  });
  return h`<div class="table-wrap"><table class="${opts.className ?? 'data'}"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** Preformatted text (a config). */
export function pre(content: string, className = ''): Html {
  return h`<pre class="${className}">${content}</pre>`;
}

/** Key–value list (definition list). */
export function keyValues(pairs: [string, string | Html][]): Html {
  return h`<dl class="kv">${pairs.map(([k, v]) => h`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

const CSS = `
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;--accent:#2f5bea;--bad:#c62828;--good:#2e7d32;--w2w:#7b8794}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header.top{background:#102a43;color:#f0f4f8;padding:28px 32px 22px}
header.top .eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:#9fb3c8}
header.top h1{margin:4px 0 8px;font-size:26px;font-weight:650;word-break:break-word}
header.top .meta{margin:0;color:#bcccdc;font-size:13px}
nav.toc{background:#fff;border-bottom:1px solid var(--line);padding:8px 32px;position:sticky;top:0;z-index:2;font-size:13px;overflow-x:auto;white-space:nowrap}
nav.toc a{color:var(--accent);text-decoration:none;margin-right:18px}
nav.toc a:hover{text-decoration:underline}
main{max-width:1340px;margin:0 auto;padding:20px 24px 48px}
.banner{border-radius:8px;padding:14px 18px;margin:0 0 18px;font-weight:600;font-size:16px}
.banner.good{background:#e8f5e9;color:var(--good);border:1px solid #a5d6a7}
.banner.bad{background:#ffebee;color:var(--bad);border:1px solid #ef9a9a}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;margin-bottom:20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .label{overflow-wrap:anywhere;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:650;margin-top:2px;font-variant-numeric:tabular-nums}
.card .detail{font-size:12px;color:var(--muted)}
.card.good .value{color:var(--good)}.card.bad .value{color:var(--bad)}
section.block{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:18px 22px;margin-bottom:18px}
section.block h2{margin:0 0 6px;font-size:18px}
section.block h3{font-size:15px;margin:16px 0 6px}
section.block p.intro{margin:0 0 12px;color:var(--muted);max-width:900px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:16px;align-items:start}
.grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:12px;align-items:start}
figure.plot{margin:0;overflow-x:auto}
figure.plot svg{max-width:100%;height:auto}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
table.data{width:100%}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f0f4f8;font-weight:600;position:relative}
td.left,th.left{text-align:left}td.right,th.right{text-align:right}
tr.hl td{background:#fffbea}
tbody tr:hover td{background:#f5f8ff}
pre.config{max-height:460px;overflow:auto;columns:2 280px}
pre{background:#f0f4f8;border:1px solid var(--line);border-radius:6px;padding:12px;overflow-x:auto;font-size:12.5px;line-height:1.45;white-space:pre-wrap;word-break:break-word}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;word-break:break-word}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin-bottom:10px;font-size:13px}
.controls label{color:var(--muted)}
.controls select{max-width:240px}
.controls select,.controls button{font:inherit;padding:3px 8px;border:1px solid #cbd2d9;border-radius:5px;background:#fff}
.controls button{cursor:pointer}.controls button:disabled{opacity:.45;cursor:default}
.controls .count{margin-left:auto;color:var(--muted)}
#flips th.sortable{cursor:pointer;user-select:none;white-space:nowrap}
#flips th.sortable::after{content:" \\2195";color:#9aa5b1}
#flips th[aria-sort=ascending]::after{content:" \\25B2";color:var(--accent)}
#flips th[aria-sort=descending]::after{content:" \\25BC";color:var(--accent)}
table.sortable th.sortable{cursor:pointer;user-select:none}
table.sortable td{white-space:nowrap}
table.sortable th.sortable::after{content:" \\2195";color:#9aa5b1}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2";color:var(--accent)}
table.sortable th[aria-sort=descending]::after{content:" \\25BC";color:var(--accent)}
.tag-small{color:var(--muted);font-style:italic}
.kind{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;white-space:nowrap}
.kind-negative{background:#ffebee;color:var(--bad)}.kind-positive{background:#e8f5e9;color:var(--good)}.kind-wrong-to-wrong{background:#eef0f2;color:#52606d}
td.features{color:#3e4c59;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;white-space:nowrap}
td.features .feat{display:inline-block;vertical-align:middle;width:260px;overflow:hidden;text-overflow:ellipsis}
canvas.thumb{width:56px;height:56px;image-rendering:pixelated;vertical-align:middle;margin-right:8px;border:1px solid var(--line)}
.chain{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin:6px 0 12px}
.chain .node{border:1px solid #cbd2d9;border-radius:6px;padding:6px 10px;background:#f8fafc;font-size:13px}
.chain .node b{display:block}
.chain .node span{color:var(--muted);font-size:12px}
.chain .arrow{color:#9aa5b1;font-size:18px}
.chain .arrow small{display:block;font-size:11px;text-align:center}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:12px;text-align:center;padding:12px}
@media print{nav.toc{display:none}section.block{break-inside:avoid}}
`;

/** The whole HTML document. */
export function renderPage(page: ReportPage): string {
  const cards = page.cards?.length
    ? h`<div class="cards">${page.cards.map((c) => h`<div class="card ${c.tone ?? 'neutral'}"><div class="label">${c.label}</div><div class="value">${c.value}</div>${c.detail ? h`<div class="detail">${c.detail}</div>` : null}</div>`)}</div>`
    : null;
  const banner = page.banner ? h`<div class="banner ${page.banner.tone}" id="verdict">${page.banner.text}</div>` : null;
  const toc = h`<nav class="toc">${page.sections.map((s) => h`<a href="#${s.id}">${s.title}</a>`)}</nav>`;
  const sections = page.sections.map(
    (s) => h`<section class="block" id="${s.id}"><h2>${s.title}</h2>${s.intro ? h`<p class="intro">${s.intro}</p>` : null}${s.body}</section>`,
  );
  const data = page.data === undefined ? null : raw(`<script type="application/json" id="report-data">${scriptJson(page.data)}</script><script>${FLIP_TABLE_SCRIPT}</script>`);
  const scripts = (page.scripts ?? []).map((s) => raw(`<script>${s.replace(/<\/script/gi, '<\\/script')}</script>`));
  const doc = h`<!DOCTYPE html>
${raw(HTML_REPORT_MARK)}
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${page.title} · Distillery</title>
<style>${raw(CSS)}</style>
</head>
<body>
<header class="top"><div class="eyebrow">${page.kind}</div><h1>${page.title}</h1>${page.meta.map((m) => h`<p class="meta">${m}</p>`)}</header>
${toc}
<main>
${banner}${cards}${sections}
</main>
<footer>Written by Distillery. This file is self-contained: it loads nothing from the network.</footer>
${data}${scripts}
</body>
</html>
`;
  return doc.html;
}
