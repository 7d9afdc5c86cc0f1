/**
 * A table whose columns sort by a click (or Enter) on their header: each cell carries the
 * value it sorts by (a number, or text) in a data-sort attribute, and a small inline script
 * reorders the rows. It never writes markup: rows are moved, not rebuilt. Plain ES2015.
 */
import type { Table } from '../table.js';
import { h, raw, type Html } from './page.js';

/** The value a cell sorts by: a number, text, or null (always last). */
export type SortValue = number | string | null;

/**
 * The table with sortable columns. `sortValues[i][j]` is row i's value of column j (default:
 * the cell's text); `highlightRow` marks rows (e.g. slices above a limit).
 */
export function sortableTable(table: Table, opts: { id?: string; sortValues?: SortValue[][]; highlightRow?: (i: number) => boolean } = {}): Html {
  const align = (j: number) => table.align?.[j] ?? (j === 0 ? 'left' : 'right');
  const head = table.headers.map((c, j) => h`<th class="${align(j)} sortable" tabindex="0" data-col="${j}">${c}</th>`);
  const rows = table.rows.map((r, i) => {
    const cls = opts.highlightRow?.(i) ? ' class="hl"' : '';
    const cells = table.headers.map((_, j) => {
      const v = opts.sortValues?.[i]?.[j];
      const key = v === undefined ? (r[j] ?? '') : v === null ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
      const kind = typeof v === 'number' ? 'n' : 's';
      return h`<td class="${align(j)}" data-sort="${key}" data-kind="${kind}">${r[j] ?? ''}</td>`;
    });
    return h`<tr${raw(cls)} data-row="${i}">${cells}</tr>`;
  });
  const id = opts.id ? h` id="${opts.id}"` : null;
  return h`<div class="table-wrap"><table class="data sortable"${id}><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The script that sorts every table.sortable of the page (numbers numerically, empty cells last, ties in the original order). */
export const SORTABLE_TABLE_SCRIPT = `
(function () {
  'use strict';
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var tbody = table.tBodies[0];
    var state = { col: -1, dir: 1 };
    var heads = table.querySelectorAll('thead th');
    function key(tr, j) {
      var td = tr.children[j];
      var s = td.getAttribute('data-sort');
      if (s === '') return null;
      return td.getAttribute('data-kind') === 'n' ? Number(s) : s;
    }
    function sortBy(j) {
      state.dir = state.col === j ? -state.dir : (heads[j].classList.contains('right') ? -1 : 1);
      state.col = j;
      var rows = Array.prototype.slice.call(tbody.rows);
      rows.sort(function (a, b) {
        var x = key(a, j), y = key(b, j);
        var ia = Number(a.getAttribute('data-row')), ib = Number(b.getAttribute('data-row'));
        if (x === y) return ia - ib;
        if (x === null) return 1;
        if (y === null) return -1;
        var c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return c * state.dir || ia - ib;
      });
      rows.forEach(function (tr) { tbody.appendChild(tr); });
      Array.prototype.forEach.call(heads, function (th, k) {
        if (k === j) th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
        else th.removeAttribute('aria-sort');
      });
    }
    Array.prototype.forEach.call(heads, function (th, j) {
      th.addEventListener('click', function () { sortBy(j); });
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(j); } });
    });
  });
})();
`;
