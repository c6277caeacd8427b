/**
 * The `index.html` of a log folder (spec 2.10): a table of the folder's log files, newest
 * first, stderr highlighted. The table is rendered on the server, so the file reads well
 * anywhere (a file manager, a copied folder); served by nodehost, its script keeps the table
 * live through server-sent events from `events` beside it, and "follow" streams a file's new
 * lines from `tail?file=…` into a panel at the bottom of the page.
 */
import { escapeHtml } from '../http/escape-html.js';
import type { LogFileInfo } from './log-names.js';

/** IndexPageInfo is what the page says besides the file list. */
export interface IndexPageInfo {
  /** Folder shown in the heading (the application's folder). */
  readonly title: string;
  readonly maxLogFiles: number;
  readonly maxTotalLogFileSizeInKB: number;
  readonly maxLogFileSizeInKB: number;
  /** When the listing was taken (ms since epoch). */
  readonly updated: number;
}

/** renderIndexPage renders the complete `index.html` for `files` (already newest first). */
export function renderIndexPage(files: readonly LogFileInfo[], info: IndexPageInfo): string {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const rows = files.map(renderRow).join('\n');
  const data = JSON.stringify({ files, updated: info.updated }).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Logs: ${escapeHtml(info.title)}</title>
<style>
:root{color-scheme:light dark;--fg:#1d2430;--muted:#667085;--line:#e4e7ec;--bg:#fff;--head:#f6f7f9;--err:#b42318;--errbg:#fef3f2;--ok:#067647}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--muted:#98a2b3;--line:#2b3340;--bg:#12161c;--head:#1a2029;--err:#ff8a80;--errbg:#2a1616;--ok:#6ce9a6}}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:var(--bg);color:var(--fg)}
main{max-width:72em;margin:0 auto;padding:1.5em 1em 12em}
h1{font-size:1.35em;margin:0 0 .2em}
.sub{color:var(--muted);margin:0 0 1.2em}
#live{display:inline-block;margin-left:.6em;font-size:.85em;padding:0 .5em;border-radius:1em;border:1px solid var(--line)}
#live.on{color:var(--ok);border-color:currentColor}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.45em .7em;border-bottom:1px solid var(--line);white-space:nowrap}
th{background:var(--head);font-weight:600;font-size:.9em}
td.num{text-align:right}
tr.stderr td{background:var(--errbg)}
tr.stderr td.type{color:var(--err);font-weight:600}
a{color:inherit}
.empty{color:var(--muted);padding:1.5em .7em}
.follow{margin-left:.6em;font-size:.85em}
#panel{position:fixed;left:0;right:0;bottom:0;height:11em;display:none;flex-direction:column;background:#0d1117;color:#e6edf3;border-top:2px solid #30363d}
#panel header{display:flex;justify-content:space-between;padding:.3em .8em;font-size:.85em;background:#161b22}
#panel pre{flex:1;margin:0;padding:.5em .8em;overflow:auto;font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all}
#panel button{background:none;border:1px solid #30363d;color:inherit;border-radius:4px;cursor:pointer}
</style></head>
<body><main>
<h1>Logs: ${escapeHtml(info.title)}</h1>
<p class="sub"><span id="summary">${summaryText(files.length, total)}</span> · quota ${info.maxLogFiles} files, ${info.maxTotalLogFileSizeInKB} KiB, new file every ${info.maxLogFileSizeInKB} KiB · index was last updated <time id="updated">${formatTime(info.updated)}</time><span id="live">snapshot</span></p>
<table>
<thead><tr><th>Type</th><th>Computer name</th><th>PID</th><th>Created</th><th>Last written</th><th>Size</th><th>Link</th></tr></thead>
<tbody id="files">
${rows === '' ? EMPTY_ROW : rows}
</tbody>
</table>
</main>
<div id="panel"><header><span id="panel-title"></span><button id="panel-close" type="button">close</button></header><pre id="panel-text"></pre></div>
<script type="application/json" id="log-data">${data}</script>
<script>
(function () {
  var tbody = document.getElementById('files');
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  function time(ms) { var d = new Date(ms); return isNaN(d) ? '' : d.toLocaleString(); }
  function size(n) { return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB'; }
  function render(data) {
    var total = 0, html = '';
    data.files.forEach(function (f) {
      total += f.size;
      html += '<tr class="' + f.stream + '"><td class="type">' + f.stream + '</td><td>' + esc(f.host) + '</td><td class="num">' + f.pid +
        '</td><td>' + time(f.created) + '</td><td>' + time(f.modified) + '</td><td class="num">' + size(f.size) +
        '</td><td><a href="' + encodeURIComponent(f.name) + '">' + esc(f.name) + '</a><a class="follow" href="#" data-file="' + esc(f.name) + '">follow</a></td></tr>';
    });
    tbody.innerHTML = html || '${EMPTY_ROW.replace(/'/g, "\\'")}';
    document.getElementById('summary').textContent = data.files.length + (data.files.length === 1 ? ' file, ' : ' files, ') + size(total);
    document.getElementById('updated').textContent = time(data.updated);
  }
  render(JSON.parse(document.getElementById('log-data').textContent));
  var live = document.getElementById('live');
  if (window.EventSource && location.protocol.indexOf('http') === 0) {
    var source = new EventSource('events');
    source.addEventListener('files', function (e) { render(JSON.parse(e.data)); live.textContent = '\\u25CF live'; live.className = 'on'; });
    source.onerror = function () { live.textContent = 'reconnecting'; live.className = ''; };
  }
  var panel = document.getElementById('panel'), text = document.getElementById('panel-text'), reader = null;
  function stop() { if (reader) { reader.cancel().catch(function () {}); reader = null; } }
  document.getElementById('panel-close').onclick = function () { stop(); panel.style.display = 'none'; };
  tbody.addEventListener('click', function (e) {
    var file = e.target.getAttribute && e.target.getAttribute('data-file');
    if (!file) return;
    e.preventDefault();
    stop();
    panel.style.display = 'flex';
    text.textContent = '';
    document.getElementById('panel-title').textContent = 'following ' + file;
    fetch('tail?from=start&file=' + encodeURIComponent(file)).then(function (res) {
      if (!res.ok || !res.body) { text.textContent = 'cannot follow: HTTP ' + res.status; return; }
      var decoder = new TextDecoder(), r = res.body.getReader();
      reader = r;
      (function pump() {
        r.read().then(function (step) {
          if (step.done) { text.textContent += '\\n[end of file]'; return; }
          var atEnd = text.scrollTop + text.clientHeight >= text.scrollHeight - 4;
          text.textContent = (text.textContent + decoder.decode(step.value, { stream: true })).slice(-200000);
          if (atEnd) text.scrollTop = text.scrollHeight;
          pump();
        }, function () {});
      })();
    });
  });
})();
</script>
</body></html>
`;
}

const EMPTY_ROW = '<tr><td colspan="7" class="empty">No log files yet: the application has not written to stdout or stderr.</td></tr>';

function renderRow(file: LogFileInfo): string {
  const name = escapeHtml(file.name);
  return (
    `<tr class="${file.stream}"><td class="type">${file.stream}</td><td>${escapeHtml(file.host)}</td><td class="num">${file.pid}</td>` +
    `<td>${formatTime(file.created)}</td><td>${formatTime(file.modified)}</td><td class="num">${formatSize(file.size)}</td>` +
    `<td><a href="${encodeURIComponent(file.name)}">${name}</a><a class="follow" href="#" data-file="${name}">follow</a></td></tr>`
  );
}

function summaryText(count: number, total: number): string {
  return `${count} ${count === 1 ? 'file' : 'files'}, ${formatSize(total)}`;
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
