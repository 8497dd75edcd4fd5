"""The HTML report's stylesheet and its one small script (table sorting), inlined in the page.

The page's Content-Security-Policy allows images only from ``data:`` URIs, no connection at all,
and only this exact script (by its SHA-256): even text that escaped escaping could not run code.
"""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --soft: #f6f8fa;
        --red: #cf222e; --orange: #bc4c00; --yellow: #9a6700; --green: #1a7f37; --purple: #8250df; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
       color: var(--fg); background: var(--soft); }
main { max-width: 1180px; margin: 0 auto; padding: 0 24px 48px; }
h2 { font-size: 18px; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.banner { color: #fff; padding: 22px 24px; }
.banner > div { max-width: 1132px; margin: 0 auto; }
.banner.fail { background: linear-gradient(90deg, #a40e26, #cf222e); }
.banner.pass { background: linear-gradient(90deg, #116329, #1a7f37); }
.banner.error { background: linear-gradient(90deg, #6639ba, #8250df); }
.verdict { font-size: 30px; font-weight: 700; letter-spacing: .04em; }
.headline { font-size: 16px; margin-top: 2px; }
.refs { opacity: .85; margin-top: 8px; font-size: 12.5px; word-break: break-all; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 20px 0; }
.tile { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.tile .n { font-size: 20px; font-weight: 600; white-space: nowrap; }
.tile .l { color: var(--muted); font-size: 12px; }
.tile.bad .n { color: var(--red); }
.divergence { background: var(--bg); border: 1px solid var(--line); border-left: 4px solid var(--purple);
              border-radius: 8px; padding: 10px 14px; }
.topass { background: #fff8c5; border: 1px solid #d4a72c66; border-radius: 8px; padding: 10px 14px; }
table.narrow { width: auto; min-width: 560px; }
table { border-collapse: collapse; width: 100%; background: var(--bg); border: 1px solid var(--line);
        border-radius: 8px; overflow: hidden; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; font-size: 12.5px; white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " ↕"; color: #afb8c1; }
table.sortable th[aria-sort=ascending]::after { content: " ▲"; color: var(--fg); }
table.sortable th[aria-sort=descending]::after { content: " ▼"; color: var(--fg); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:last-child td { border-bottom: 0; }
.sev { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600;
       color: #fff; white-space: nowrap; }
.sev.critical { background: var(--red); } .sev.major { background: var(--orange); }
.sev.minor { background: var(--yellow); } .sev.info { background: #6e7781; }
.evidence { color: var(--muted); font-size: 12.5px; }
.fix { color: #0550ae; }
.location { color: #8250df; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px;
            word-break: break-word; }
.finding { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
           margin-bottom: 14px; }
.finding p { margin: 4px 0; }
.examples { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 10px; }
.example { border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: var(--soft); }
.example .path { font-size: 12px; margin-bottom: 6px; word-break: break-all; max-width: 420px; }
.flip { color: var(--red); font-weight: 600; }
.triptych { display: flex; gap: 8px; }
figure { margin: 0; width: 104px; }
figure img, figure .missing { width: 104px; height: 104px; object-fit: contain; image-rendering: pixelated;
                              background: #fff; border: 1px solid var(--line); display: block; }
figure .missing { display: flex; align-items: center; justify-content: center; padding: 6px; font-size: 11px;
                  color: var(--red); overflow: hidden; word-break: break-word; text-align: center; }
figcaption { font-size: 11px; color: var(--muted); margin-top: 3px; word-break: break-word; }
figcaption b { color: var(--fg); }
.bar { display: inline-block; height: 10px; background: #54aeff; border-radius: 2px; vertical-align: middle;
       margin-right: 6px; }
.bar.serve { background: #fb8f44; }
.callout { border-left: 4px solid var(--red); background: #ffebe9; padding: 8px 12px; border-radius: 4px;
           margin: 12px 0; }
.callout.neutral { border-left-color: var(--line); background: var(--soft); }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
"""

SCRIPT = """
(function () {
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    if (v === null) { v = cell.textContent.trim(); }
    var n = Number(v);
    return v !== "" && isFinite(n) ? n : v.toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, i) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[i]), y = key(b.cells[i]);
          var r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""

SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
CSP = f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
assert '"' not in CSP and "<" not in CSP  # written into an attribute as it is
