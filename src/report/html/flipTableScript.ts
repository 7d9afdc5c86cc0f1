/**
 * The inline script of a report with a flipped-examples table: reads the page's JSON data
 * block and shows the rows filtered by flip kind and true class, sorted by a clicked
 * column, 25 to a page. It writes text only with textContent (never innerHTML), so a class
 * name or a feature value is shown as text whatever it contains. Plain ES2015, no library.
 *
 * Data (`flips` in the JSON block, see comparisonHtml.ts): classNames, and rows
 * [row, kind, label, old, new, pOld, pNew, oldMargin, logitL2, features, thumbnail]; for image
 * data, imageShape [h, w] and each thumbnail as base64 grey pixels, drawn on a canvas.
 */
export const FLIP_TABLE_SCRIPT = `
(function () {
  'use strict';
  var block = document.getElementById('report-data');
  var table = document.getElementById('flips');
  if (!block || !table) return;
  var f = JSON.parse(block.textContent).flips;
  if (!f) return;
  var names = f.classNames;
  var KIND_LABEL = { 'negative': 'negative flip', 'positive': 'positive flip', 'wrong-to-wrong': 'wrong \\u2192 wrong' };
  var fmt = function (v, d) { return v === null || v === undefined ? '\\u2014' : v.toFixed(d); };
  var pct = function (v) { return v === null || v === undefined ? '\\u2014' : (v * 100).toFixed(1) + '%'; };
  var cols = [
    { key: 0, label: 'Row', num: true, show: function (r) { return String(r[0] + 1); } },
    { key: 1, label: 'Flip', show: null },
    { key: 2, label: 'True class', cls: true, show: function (r) { return names[r[2]]; } },
    { key: 3, label: 'Old prediction', cls: true, show: function (r) { return names[r[3]]; } },
    { key: 5, label: 'Old p', num: true, show: function (r) { return pct(r[5]); } },
    { key: 4, label: 'New prediction', cls: true, show: function (r) { return names[r[4]]; } },
    { key: 6, label: 'New p', num: true, show: function (r) { return pct(r[6]); } },
    { key: 7, label: 'Old margin', num: true, show: function (r) { return fmt(r[7], 3); } },
    { key: 8, label: 'Logit distance', num: true, show: function (r) { return fmt(r[8], 3); } },
    { key: 9, label: 'Features', show: function (r) { return r[9]; } }
  ];
  var state = { kind: 'all', cls: 'all', sort: f.rows.length && f.rows[0][8] !== null ? 8 : 0, dir: f.rows.length && f.rows[0][8] !== null ? -1 : 1, page: 0, size: 25 };
  var kindSel = document.getElementById('flip-kind');
  var classSel = document.getElementById('flip-class');
  var count = document.getElementById('flip-count');
  var prev = document.getElementById('flip-prev');
  var next = document.getElementById('flip-next');
  names.forEach(function (name, k) {
    var o = document.createElement('option');
    o.value = String(k);
    o.textContent = name;
    classSel.appendChild(o);
  });
  var thead = table.querySelector('thead tr');
  cols.forEach(function (c) {
    var th = document.createElement('th');
    th.textContent = c.label;
    th.className = (c.num ? 'right' : 'left') + (c.key === 9 ? '' : ' sortable');
    th.setAttribute('data-key', String(c.key));
    if (c.key !== 9) {
      th.tabIndex = 0;
      var sortBy = function () {
        if (state.sort === c.key) state.dir = -state.dir;
        else { state.sort = c.key; state.dir = c.num ? -1 : 1; }
        state.page = 0;
        render();
      };
      th.addEventListener('click', sortBy);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(); } });
    }
    thead.appendChild(th);
  });
  var tbody = table.querySelector('tbody');
  function value(r, key) {
    if (key === 2 || key === 3 || key === 4) return names[r[key]];
    return r[key];
  }
  function compare(a, b) {
    var x = value(a, state.sort), y = value(b, state.sort);
    if (x === y) return a[0] - b[0];
    if (x === null) return 1;
    if (y === null) return -1;
    var c = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
    return c * state.dir || a[0] - b[0];
  }
  function thumbnail(b64) {
    var h = f.imageShape[0], w = f.imageShape[1];
    var canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    canvas.className = 'thumb';
    var ctx = canvas.getContext('2d');
    var img = ctx.createImageData(w, h);
    var bytes = atob(b64);
    for (var p = 0; p < w * h; p++) {
      var v = bytes.charCodeAt(p);
      img.data[4 * p] = img.data[4 * p + 1] = img.data[4 * p + 2] = 255 - v;
      img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return canvas;
  }
  function render() {
    var rows = f.rows.filter(function (r) {
      return (state.kind === 'all' || r[1] === state.kind) && (state.cls === 'all' || String(r[2]) === state.cls);
    });
    rows.sort(compare);
    var pages = Math.max(1, Math.ceil(rows.length / state.size));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * state.size;
    var shown = rows.slice(start, start + state.size);
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    shown.forEach(function (r) {
      var tr = document.createElement('tr');
      cols.forEach(function (c) {
        var td = document.createElement('td');
        td.className = c.num ? 'right' : 'left';
        if (c.key === 1) {
          var badge = document.createElement('span');
          badge.className = 'kind kind-' + r[1];
          badge.textContent = KIND_LABEL[r[1]];
          td.appendChild(badge);
        } else if (c.key === 9) {
          var text = document.createElement('div');
          text.className = 'feat';
          text.textContent = r[9];
          td.appendChild(text);
          td.className = 'features';
          td.title = r[9];
        } else {
          td.textContent = c.show(r);
        }
        if (c.key === 9 && f.imageShape && r[10]) { td.insertBefore(thumbnail(r[10]), td.firstChild); }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    if (!shown.length) {
      var tr = document.createElement('tr');
      var td = document.createElement('td');
      td.colSpan = cols.length;
      td.className = 'muted';
      td.textContent = 'No flipped examples match these filters.';
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    Array.prototype.forEach.call(thead.children, function (th) {
      var key = Number(th.getAttribute('data-key'));
      if (key === state.sort) th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
    count.textContent = rows.length
      ? 'rows ' + (start + 1) + '\\u2013' + (start + shown.length) + ' of ' + rows.length + ' (page ' + (state.page + 1) + ' of ' + pages + ')'
      : '0 of ' + f.rows.length + ' flipped examples';
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
  }
  kindSel.addEventListener('change', function () { state.kind = kindSel.value; state.page = 0; render(); });
  classSel.addEventListener('change', function () { state.cls = classSel.value; state.page = 0; render(); });
  prev.addEventListener('click', function () { state.page--; render(); });
  next.addEventListener('click', function () { state.page++; render(); });
  render();
})();
`;
