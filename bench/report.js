#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/* Turns the bench rows (JSON lines) into a table on stdout, results.json
 * and bench.svg in the output directory. Usage: report.js ROWS OUTDIR */
"use strict";

const fs = require("fs");
const path = require("path");

const [rowsFile, outDir] = process.argv.slice(2);
const rows = {};
for (const line of fs.readFileSync(rowsFile, "utf8").split("\n")) {
  if (line.trim() !== "") {
    const row = JSON.parse(line);
    rows[row.row] = row;
  }
}
const f = (x, d) => Number(x).toFixed(d === undefined ? 2 : d);
const table = [];
const add = (what, value, baseline, ratio, goal, met) => table.push({ what, value, baseline, ratio, goal, met });
const c = rows["cold-start"], a = rows["per-apdu"], u = rows["full-unlock"], s = rows["scaling"], m = rows["memory"],
  p = rows["page-to-card"], sc = rows["syscalls"], fp = rows["footprint"];
/* Targets are ratios to a floor measured in the same run (issue: perf). */
if (c) add("cold start: exec -> hello reply (median / p95)", f(c.host_median_ms, 3) + " / " + f(c.host_p95_ms) + " ms",
  "floor (C host, one frame each way) " + f(c.floor_median_ms, 3) + " ms; Python host " + f(c.python_median_ms) + " ms",
  f(c.ratio_to_floor) + "x floor; " + f(c.speedup, 1) + "x faster than Python", "<= 1.30x floor", c.ratio_to_floor <= 1.30);
if (a) add("per-APDU: SELECT via host (N=" + a.n + ")", f(a.host_ms * 1000, 1) + " us",
  "floor: direct SCardTransmit " + f(a.direct_ms * 1000, 1) + " us + no-op request " + f(a.noop_request_us, 1) + " us",
  f(a.ratio_to_floor) + "x floor (" + f(a.ratio) + "x direct alone)", "<= 1.15x floor", a.ratio_to_floor <= 1.15);
if (a) add("host CPU per transmitted APDU (user + system, all threads)", f(a.host_cpu_us, 1) + " us", "", "",
  "<= 15 us", a.host_cpu_us <= 15);
if (sc && !sc.skipped) add("system calls per APDU, host side (strace)", f(sc.per_apdu, 1) + " in all",
  "its own on the page's pipes: " + f(sc.own_per_apdu, 2), "", "own: 1 read + 1 write", sc.own_per_apdu <= 2.0);
if (fp) add("memory: peak RSS after hello, list-readers, 2000 APDUs", f(fp.peak_rss_kib_2000 / 1024) + " MiB",
  "RSS / PSS before the first script " + f(fp.rss_kib_before_script / 1024) + " / " + f(fp.pss_kib_before_script / 1024) +
  " MiB, after " + f(fp.rss_kib_after_script / 1024) + " / " + f(fp.pss_kib_after_script / 1024) + " MiB (libcrypto loaded)",
  "", "<= 4 MiB", fp.peak_rss_kib_2000 <= 4096);
if (u) add("full unlock, host side (median / p95)", f(u.median_ms) + " / " + f(u.p95_ms) + " ms", "goal 50 ms",
  f(u.median_ms / 50, 3) + " of goal", "<= 50 ms", u.median_ms <= 50);
if (s) {
  const per = s.points.map((pt) => pt.per_step_us);
  const tail = per.slice(2);
  const flat = Math.max(...tail) / Math.min(...tail);
  add("scaling: per step at " + s.points.map((pt) => pt.steps).join("/") + " steps",
    per.map((x) => f(x, 0)).join(" / ") + " us", "256 steps: " + f(s.points[4].total_ms) + " ms total",
    f(flat) + "x spread (16-256)", "flat (linear total)", flat <= 1.5);
}
if (m) add("memory: peak RSS after 100 / 1000 / 10000 requests",
  [m.peak_rss_kib_100, m.peak_rss_kib_1000, m.peak_rss_kib_10000].map((k) => f(k / 1024)).join(" / ") + " MiB",
  "anonymous (heap+stack) " + f(m.rss_anon_kib / 1024) + " MiB", f(m.peak_rss_kib_10000 / m.peak_rss_kib_100) + "x growth",
  "flat", m.peak_rss_kib_10000 === m.peak_rss_kib_100);
if (p) add("page-to-card: NesBridge.transmit in Chromium (median / p95)", f(p.median_ms) + " / " + f(p.p95_ms) + " ms",
  a ? "host alone " + f(a.host_ms) + " ms" : "", a ? f(p.median_ms / a.host_ms, 1) + "x the host alone" : "",
  "(measured)", true);

const widths = ["what", "value", "baseline", "ratio", "goal"].map((k) => Math.max(k.length, ...table.map((r) => String(r[k]).length)));
const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join(" | ");
console.log(line(["what", "value", "baseline", "ratio", "goal"]) + " | met");
console.log(widths.map((w) => "-".repeat(w)).join("-|-") + "-|----");
for (const r of table) console.log(line([r.what, r.value, r.baseline, r.ratio, r.goal]) + " | " + (r.met ? "yes" : "NO"));

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, "results.json"), JSON.stringify({ rows, table }, null, 2) + "\n");

/* A plot: each row against its floor, side by side, so the gap shows. */
const bars = [];
if (c) bars.push(["cold start: floor (C host)", c.floor_median_ms, "#999"], ["cold start: nesbridge-host", c.host_median_ms],
  ["cold start: Python host", c.python_median_ms, "#c99"]);
if (a) bars.push(["APDU: floor (direct + no-op)", a.floor_ms, "#999"], ["APDU: via host", a.host_ms],
  ["APDU: direct PC/SC alone", a.direct_ms, "#bbb"]);
if (p) bars.push(["APDU: page via extension", p.median_ms]);
if (u) bars.push(["full unlock (host side)", u.median_ms]);
const max = Math.max(...bars.map((b) => b[1]));
const W = 760, rowH = 28, left = 230, plotW = W - left - 90;
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${bars.length * rowH + 60 + (s ? 220 : 0)}" font-family="sans-serif" font-size="13">\n`;
svg += `<text x="10" y="20" font-weight="bold">nesbridge make bench (milliseconds, log scale)</text>\n`;
const logScale = (v) => Math.max(2, plotW * Math.log10(1 + 1000 * v) / Math.log10(1 + 1000 * max));
bars.forEach(([label, v, colour], i) => {
  const y = 35 + i * rowH;
  svg += `<text x="10" y="${y + 15}">${label}</text><rect x="${left}" y="${y}" width="${logScale(v).toFixed(1)}" height="18" fill="${colour || "#3b6ea5"}"/>`;
  svg += `<text x="${left + logScale(v) + 6}" y="${y + 15}">${f(v, 3)} ms</text>\n`;
});
if (s) {
  const top = 45 + bars.length * rowH, h = 150, maxPer = Math.max(...s.points.map((pt) => pt.per_step_us));
  svg += `<text x="10" y="${top + 10}" font-weight="bold">signed script: time per step (us) vs steps</text>\n`;
  const pts = s.points.map((pt, i) => [left + i * (plotW / 4), top + 35 + h - h * pt.per_step_us / maxPer, pt]);
  svg += `<polyline fill="none" stroke="#a53b3b" stroke-width="2" points="${pts.map((q) => q[0].toFixed(1) + "," + q[1].toFixed(1)).join(" ")}"/>\n`;
  for (const [x, y, pt] of pts) svg += `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3"/><text x="${x - 10}" y="${top + 35 + h + 16}">${pt.steps}</text><text x="${x + 5}" y="${y - 5}">${f(pt.per_step_us, 0)}</text>\n`;
}
svg += "</svg>\n";
fs.writeFileSync(path.join(outDir, "bench.svg"), svg);
console.log("\nwritten: " + path.join(outDir, "results.json") + ", " + path.join(outDir, "bench.svg"));
