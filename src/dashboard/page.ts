/**
 * The dashboard's page: one self-contained HTML file (no CDN, no framework; charts drawn as
 * inline SVG) that asks the origin for `/state` every 500 ms and draws it (see `model.ts` for
 * what it holds). Names from the network (hosts, tasks) are escaped before they are drawn.
 *
 * @module
 */
import { MAIN_SEQ_BASE } from "../executor/protocol.ts";

const STYLE = `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --dim: #6b7280; --line: #e3e6eb;
  --ok: #15803d; --bad: #b91c1c; --run: #1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; gap: 14px; align-items: baseline; padding: 14px 22px; background: #1d2330;
  color: #fff; }
header h1 { margin: 0; font-size: 20px; letter-spacing: .5px; }
#entry { font-family: ui-monospace, monospace; color: #cbd5e1; }
#elapsed { margin-left: auto; color: #cbd5e1; font-variant-numeric: tabular-nums; }
.pill { padding: 2px 10px; border-radius: 10px; background: #475569; font-weight: 600; }
.pill[data-state=running] { background: var(--run); }
.pill[data-state=finished] { background: var(--ok); }
.pill[data-state=failed] { background: var(--bad); }
main { padding: 16px 22px; display: grid; gap: 16px; }
.tiles { display: grid; grid-template-columns: repeat(7, 1fr); gap: 12px; }
.tile, figure, section.card { background: var(--card); border: 1px solid var(--line);
  border-radius: 8px; margin: 0; }
.tile { padding: 10px 14px; }
.tile span { display: block; color: var(--dim); font-size: 12px; text-transform: uppercase; }
.tile b { font-size: 24px; font-variant-numeric: tabular-nums; }
.tile small { display: block; color: var(--dim); }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
figure { padding: 8px 12px; }
figcaption, h2 { font-weight: 600; font-size: 13px; color: var(--dim); margin: 0 0 4px; }
svg { width: 100%; height: 180px; display: block; }
svg text { font-size: 10px; fill: var(--dim); }
section.card { padding: 10px 14px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid var(--line); }
th { color: var(--dim); font-weight: 500; font-size: 12px; }
td.id, .tree small { font-family: ui-monospace, monospace; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px;
  vertical-align: -1px; background: #cbd5e1; }
tr.quiet { color: var(--dim); }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 18px; }
.tree { padding-left: 0; max-height: 420px; overflow: auto; }
.tree li { margin: 1px 0; }
.tree ul { border-left: 1px dashed var(--line); }
.tree small { color: var(--dim); }
#conn { padding: 0 22px 16px; color: var(--dim); }
body.gone #conn { color: var(--bad); }
`;

const SCRIPT = `
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
  "#65a30d", "#9333ea", "#ea580c", "#0d9488", "#4f46e5"];
const MAIN_SEQ_BASE = ${MAIN_SEQ_BASE};
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
const short = (id) => id ? id.slice(-6) : "";
let treeVersion = -1;
let colors = new Map();

function colorOf(id) {
  return colors.get(id) || "#cbd5e1";
}

function seconds(ms) {
  const s = Math.floor(ms / 1000);
  return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s";
}

/** Round up to 1, 2 or 5 times a power of ten. */
function nice(v) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1))));
  return [1, 2, 5, 10].map((m) => m * p).find((n) => n >= v);
}

/** Lines over time into an SVG: t (ms) and, per line, a color and values (null: a gap). */
function chart(svg, t, lines) {
  const W = 600, H = 180, L = 44, R = 8, T = 8, B = 18;
  let max = 1;
  for (const l of lines) for (const v of l.v) if (v !== null && v > max) max = v;
  max = nice(max);
  const t0 = t.length ? t[0] : 0, t1 = t.length ? t[t.length - 1] : 1;
  const x = (ti) => L + (W - L - R) * (t1 > t0 ? (ti - t0) / (t1 - t0) : 1);
  const y = (v) => T + (H - T - B) * (1 - v / max);
  let out = "";
  for (const g of [0, max / 2, max]) {
    out += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + y(g) + '" y2="' + y(g) +
      '" stroke="#e3e6eb"/><text x="' + (L - 6) + '" y="' + (y(g) + 3) +
      '" text-anchor="end">' + g + "</text>";
  }
  out += '<text x="' + L + '" y="' + (H - 4) + '">' + seconds(t0) + "</text>" +
    '<text x="' + (W - R) + '" y="' + (H - 4) + '" text-anchor="end">' + seconds(t1) + "</text>";
  for (const l of lines) {
    let d = "", pen = false;
    l.v.forEach((v, i) => {
      if (v === null) return void (pen = false);
      d += (pen ? "L" : "M") + x(t[i]).toFixed(1) + " " + y(v).toFixed(1);
      pen = true;
    });
    out += '<path d="' + d + '" fill="none" stroke-width="2" stroke="' + l.color + '"/>';
  }
  svg.innerHTML = out;
}

/** A task as owner#seq; main's (seqs from 2^48 on) as main#n. */
function label(id) {
  const seq = Number(id.slice(id.lastIndexOf(":") + 1));
  return seq >= MAIN_SEQ_BASE ? "main#" + (seq - MAIN_SEQ_BASE) : esc(short(id.split(":")[0])) + "#" + seq;
}

function renderTree(tree) {
  const ids = new Set(tree.nodes.map((n) => n[0]));
  const kids = new Map();
  for (const n of tree.nodes) {
    const p = n[1] === "" ? "" : ids.has(n[1]) ? n[1] : "?";
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(n);
  }
  const item = (n) => {
    const c = kids.get(n[0]) || [];
    let s = '<li><span class="dot" style="background:' + colorOf(n[3]) + '" title="ran on ' +
      esc(short(n[3]) || "?") + '"></span>' + esc(n[2] || "?") + " <small>" +
      label(n[0]) + "</small>";
    if (c.length > 0) {
      s += " <small>(" + c.length + ")</small><ul>" + c.slice(0, 50).map(item).join("") +
        (c.length > 50 ? "<li><small>… " + (c.length - 50) + " more</small></li>" : "") + "</ul>";
    }
    return s + "</li>";
  };
  const group = (label, list) =>
    list && list.length ? "<li><b>" + label + "</b><ul>" + list.map(item).join("") + "</ul></li>" : "";
  $("tree").innerHTML = group("main", kids.get("")) + group("(parent not heard of yet)", kids.get("?"));
  $("treeinfo").dataset.nodes = tree.nodes.length;
}

function treeInfo(nodes, omitted) {
  $("treeinfo").textContent = nodes + " tasks" +
    (omitted > 0 ? ", and " + omitted + " more not shown" : "") +
    "; a dot's color is the peer that ran the task";
}

function render(s) {
  colors = new Map(s.peers.map((p, i) => [p.id, COLORS[i % COLORS.length]]));
  $("entry").textContent = s.entry;
  const status = $("status");
  status.dataset.state = s.state;
  status.textContent = s.state;
  $("outcome").textContent = s.outcome ? s.outcome : "";
  $("elapsed").textContent = seconds(s.elapsed);
  const t = s.totals;
  $("npeers").textContent = s.peers.filter((p) => !p.quiet).length;
  $("rate").textContent = t.rate;
  $("done").textContent = t.finished;
  $("main").textContent = s.main ? s.main.settled + " / " + s.main.submitted : "–";
  $("steals").textContent = t.stealHits;
  $("stealsOf").textContent = "of " + t.steals + " tried";
  $("failures").textContent = t.failed;
  $("reruns").textContent = t.requeued;
  $("peers").querySelector("tbody").innerHTML = s.peers.map((p) =>
    '<tr class="' + (p.quiet ? "quiet" : "") + '"><td class="id"><span class="dot" style="background:' +
    colorOf(p.id) + '"></span>' + esc(short(p.id)) + '</td><td class="host">' + esc(p.host) +
    "</td><td>" + esc(p.runtime) + "</td><td>" + p.pid + "</td><td>" + p.load + "</td><td>" +
    p.finished + "</td><td>" + p.stealHits + " / " + p.steals + "</td><td>" + p.failed +
    "</td><td>" + p.requeued + "</td><td>" + (p.origin ? "origin" : "") + (p.quiet ? " quiet" : "") +
    "</td></tr>"
  ).join("");
  chart($("ratechart"), s.series.t, [{ color: "#1d4ed8", v: s.series.rate }]);
  chart($("loadchart"), s.series.t, s.peers.map((p) => ({
    color: colorOf(p.id), v: s.series.loads[p.id] || [] })));
  if (s.tree) {
    treeVersion = s.tree.version;
    renderTree(s.tree);
  }
  treeInfo(Number($("treeinfo").dataset.nodes || 0), s.omitted);
}

async function poll() {
  try {
    const r = await fetch("state?tree=" + treeVersion, { cache: "no-store" });
    render(await r.json());
    document.body.classList.remove("gone");
    $("conn").textContent = "";
  } catch {
    document.body.classList.add("gone");
    $("conn").textContent = "The dashboard is closed: the launcher has exited.";
  }
  setTimeout(poll, 500);
}
poll();
`;

/** The page (see the module doc). */
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>scoop dashboard</title><style>${STYLE}</style></head>
<body>
<header><h1>scoop</h1><span id="entry"></span>
<span id="status" class="pill" data-state="starting">starting</span><span id="outcome"></span>
<span id="elapsed"></span></header>
<main>
<section class="tiles">
<div class="tile"><span>Peers</span><b id="npeers">0</b></div>
<div class="tile"><span>Tasks / s</span><b id="rate">0</b></div>
<div class="tile"><span>Tasks done</span><b id="done">0</b></div>
<div class="tile"><span>Main's tasks</span><b id="main">–</b></div>
<div class="tile"><span>Steals</span><b id="steals">0</b> <small id="stealsOf"></small></div>
<div class="tile"><span>Failures</span><b id="failures">0</b></div>
<div class="tile"><span>Re-runs</span><b id="reruns">0</b></div>
</section>
<section class="charts">
<figure><figcaption>Tasks per second, grid-wide</figcaption><svg id="ratechart" viewBox="0 0 600 180"></svg></figure>
<figure><figcaption>Load per peer (tasks a thief could take)</figcaption><svg id="loadchart" viewBox="0 0 600 180"></svg></figure>
</section>
<section class="card"><h2>Peers</h2><table id="peers"><thead><tr><th>Peer</th><th>Host</th>
<th>Runtime</th><th>Pid</th><th>Load</th><th>Tasks done</th><th>Steals / tried</th><th>Failures</th>
<th>Re-runs</th><th></th></tr></thead><tbody></tbody></table></section>
<section class="card"><h2>Task tree</h2><p id="treeinfo"></p><ul id="tree" class="tree"></ul></section>
</main>
<footer id="conn"></footer>
<script>${SCRIPT}</script>
</body></html>
`;
