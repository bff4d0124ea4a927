/**
 * The live dashboard, served at `GET /` to browsers (an `Accept` that prefers `text/html`): one
 * self-contained page (inline CSS and JS, nothing fetched from elsewhere) that reads the public
 * API only, every 2 s: `/v1/replicas`, `/v1/cluster/status`, `/v1/certificates/latest`, and a
 * client's `/v1/clients/:client/evidence` on request. Every value from the API is written with
 * `textContent`, never as HTML.
 */

/** One `Accept` entry's q for a media type: exact match, `type/*`, or `*\/*`; the most specific wins. */
function qualityOf(accept: string, type: string): number {
  const [major] = type.split("/");
  let best = -1;
  let q = 0;
  for (const part of accept.split(",")) {
    const [range, ...params] = part.trim().toLowerCase().split(";");
    if (!range) continue;
    const specificity = range === type ? 3 : range === `${major}/*` ? 2 : range === "*/*" ? 1 : 0;
    if (specificity === 0 || specificity < best) continue;
    let entryQ = 1;
    for (const p of params) {
      const [k, v] = p.trim().split("=");
      if (k === "q") entryQ = Number(v);
    }
    if (!Number.isFinite(entryQ)) entryQ = 0;
    if (specificity > best) [best, q] = [specificity, entryQ];
    else q = Math.max(q, entryQ);
  }
  return best < 0 ? 0 : q;
}

/**
 * Whether `Accept` prefers `text/html` to `application/json` (a browser's navigation does). No
 * `Accept`, `*\/*`, or a tie keeps the JSON index, as API clients have always had it.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return qualityOf(accept, "text/html") > qualityOf(accept, "application/json");
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; background: #fafafa; }
h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.muted { color: #666; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
.ok { color: #176f2c; } .bad { color: #b00020; font-weight: 600; } .warn { color: #8a5a00; }
#chart { background: #fff; border: 1px solid #ddd; }
.grid { display: flex; flex-wrap: wrap; gap: 1.5rem; }
#err { color: #b00020; }
input { font: inherit; width: 28rem; max-width: 100%; }
`;

const SCRIPT = `
(() => {
  const REFRESH_MS = 2000;
  const WINDOW_MS = 5 * 60 * 1000;
  const samples = []; // {t, ageS, seq}
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  };
  const fill = (id, rows) => { const t = $(id); t.replaceChildren(...rows); };
  const td = (v, cls) => el("td", cls ? { class: cls } : {}, v);
  const short = (s, n = 16) => (s && s.length > n ? s.slice(0, n) + "…" : String(s));
  async function get(path) {
    const res = await fetch(path, { headers: { accept: "application/json" }, cache: "no-store" });
    const body = await res.json();
    if (!res.ok) throw new Error(path + ": " + res.status + " " + ((body.error && body.error.code) || ""));
    return body;
  }

  function renderReplicas(r) {
    fill("replicas-body", r.replicas.map((info) => {
      const s = r.certification[info.name];
      const f = r.freshness && r.freshness[info.name];
      const tr = el("tr", { "data-replica": info.name });
      if (f && f.stale) tr.setAttribute("data-stale", "true");
      tr.append(td(info.name), td(info.region), el("td", { class: "mono", title: info.publicKey }, short(info.publicKey, 20)));
      if (!s) { tr.append(el("td", { class: "bad", colspan: "7" }, "no answer")); return tr; }
      // stale: its newest certificate is older than the bound (clients fail over from it)
      const age = !f ? "—" : f.ageMs === null ? "none" : (f.ageMs / 1000).toFixed(1) + " s";
      tr.append(td(f && f.stale ? "stale, " + age : age, f && f.stale ? "bad" : "ok"),
        td(f ? f.behind : "—", f && f.behind > 0 ? "num warn" : "num"));
      const cls = s.certification === "ok" ? "ok" : s.certification === "diverged" ? "bad" : "warn";
      tr.append(td(s.certification, cls), td(s.seq, "num"), td(s.opCount, "num"), td(s.buffered, "num"),
        td(s.rootMismatches, s.rootMismatches > 0 ? "num bad" : "num"));
      tr.append(td(s.diverged ? "at seq " + s.diverged.seq : "no", s.diverged ? "bad" : ""));
      return tr;
    }));
  }

  function renderNodes(c) {
    $("primary").textContent = c.primary === null ? "no node answers" : c.primary + " (view " + c.view + ")";
    fill("nodes-body", Object.entries(c.nodes).map(([id, s]) => {
      const tr = el("tr", { "data-node": id });
      if (!s) { tr.append(td(id), el("td", { class: "bad", colspan: "6" }, "no answer within 2 s")); return tr; }
      tr.append(td(id), td(s.region), td(s.view, "num"), td(s.normal ? "normal" : "view change", s.normal ? "ok" : "warn"),
        td(s.lastExecuted, "num"), td(s.stableSeq, "num"), td(s.primary ? "primary" : "", s.primary ? "ok" : ""));
      return tr;
    }));
  }

  function renderCertificate(r) {
    const cert = r.certificate;
    $("cert-replica").textContent = r.replica + " (" + r.certification + ")";
    if (!cert) { $("cert-seq").textContent = "none yet"; fill("cert-body", []); return; }
    const b = cert.body;
    $("cert-seq").textContent = String(b.seq);
    const row = (k, v, mono) => el("tr", {}, el("th", {}, k), el("td", mono ? { class: "mono" } : {}, v));
    fill("cert-body", [
      row("seq", b.seq), row("view", b.view), row("opCount", b.opCount),
      row("time", new Date(b.time).toISOString()),
      row("stateRoot", b.stateRoot, true), row("resultsRoot", b.resultsRoot, true), row("logRoot", b.logRoot, true),
      row("signers", cert.sigs.map((s) => "pbft-" + s.node).join(", ") + " (" + cert.sigs.length + " signatures)"),
    ]);
  }

  function renderChart() {
    const W = 640, H = 160, P = 30;
    const now = Date.now();
    while (samples.length && samples[0].t < now - WINDOW_MS) samples.shift();
    const pts = samples.filter((s) => s.ageS !== null);
    const max = Math.max(5, ...pts.map((s) => s.ageS));
    const x = (t) => P + ((t - (now - WINDOW_MS)) / WINDOW_MS) * (W - P - 5);
    const y = (v) => H - P + 10 - (v / max) * (H - P - 5);
    const svg = $("chart");
    const ns = "http://www.w3.org/2000/svg";
    const s = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const kids = [
      s("line", { x1: P, y1: y(0), x2: W - 5, y2: y(0), stroke: "#999" }),
      s("line", { x1: P, y1: y(0), x2: P, y2: y(max), stroke: "#999" }),
      s("text", { x: 2, y: y(max) + 4, "font-size": 10 }, max.toFixed(0) + " s"),
      s("text", { x: 2, y: y(0) + 4, "font-size": 10 }, "0 s"),
      s("text", { x: P, y: H - 4, "font-size": 10 }, "−5 min"),
      s("text", { x: W - 30, y: H - 4, "font-size": 10 }, "now"),
    ];
    if (pts.length > 1)
      kids.push(s("polyline", { fill: "none", stroke: "#2a6fdb", "stroke-width": 2,
        points: pts.map((p) => x(p.t).toFixed(1) + "," + y(p.ageS).toFixed(1)).join(" ") }));
    svg.replaceChildren(...kids);
    const last = pts[pts.length - 1];
    $("lag-now").textContent = last ? last.ageS.toFixed(1) + " s" : "no certificate yet";
  }

  async function refresh() {
    const errors = [];
    const [replicas, cluster, cert] = await Promise.all([
      get("/v1/replicas").catch((e) => (errors.push(e.message), null)),
      get("/v1/cluster/status").catch((e) => (errors.push(e.message), null)),
      get("/v1/certificates/latest").catch((e) => (errors.push(e.message), null)),
    ]);
    if (replicas) renderReplicas(replicas);
    if (cluster) renderNodes(cluster);
    if (cert) {
      renderCertificate(cert);
      const c = cert.certificate;
      samples.push({ t: Date.now(), ageS: c ? Math.max(0, (cert.time - c.body.time) / 1000) : null, seq: c ? c.body.seq : 0 });
    }
    renderChart();
    $("err").textContent = errors.join("; ");
    $("updated").textContent = new Date().toISOString();
  }

  async function lookUp(ev) {
    ev.preventDefault();
    const client = $("client").value.trim();
    const out = $("evidence");
    if (!client) return;
    out.replaceChildren("asking…");
    try {
      const r = await get("/v1/clients/" + encodeURIComponent(client) + "/evidence");
      const head = el("p", {}, "replica " + r.replica + ": " + r.evidence.length + " piece(s) of evidence; client " +
        (r.refused ? "refused (equivocated)" : "not refused"));
      const rows = r.evidence.map((e) => el("tr", {}, td(e.opId, "mono"),
        td(e.kept.op + " " + e.kept.key + " " + JSON.stringify(e.kept.args), "mono"),
        td(e.other.op + " " + e.other.key + " " + JSON.stringify(e.other.args), "mono")));
      const table = el("table", {}, el("tr", {}, el("th", {}, "op id"), el("th", {}, "kept"), el("th", {}, "other")), ...rows);
      out.replaceChildren(head, ...(rows.length ? [table] : []));
    } catch (e) {
      out.replaceChildren(el("span", { class: "bad" }, e.message));
    }
  }

  $("evidence-form").addEventListener("submit", lookUp);
  const loop = () => refresh().catch((e) => ($("err").textContent = String(e))).finally(() => setTimeout(loop, REFRESH_MS));
  loop();
})();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aspec Edge — dashboard</title>
<style>${CSS}</style>
</head>
<body>
<h1>Aspec Edge</h1>
<div class="muted">Live from the public API, every 2 s. Last update: <span id="updated">—</span> <span id="err"></span></div>

<h2>Replicas <span class="muted">(GET /v1/replicas)</span></h2>
<table id="replicas">
<thead><tr><th>name</th><th>region</th><th>public key</th><th>cert. age</th><th>seqs behind</th><th>certification</th><th>cert. seq</th><th>cert. opCount</th><th>buffered</th><th>root mismatches</th><th>diverged</th></tr></thead>
<tbody id="replicas-body"></tbody>
</table>

<h2>PBFT nodes <span class="muted">(GET /v1/cluster/status)</span> — primary: <span id="primary">—</span></h2>
<table id="nodes">
<thead><tr><th>node</th><th>region</th><th>view</th><th>mode</th><th>last executed</th><th>stable seq</th><th></th></tr></thead>
<tbody id="nodes-body"></tbody>
</table>

<div class="grid">
<div>
<h2>Certification lag — now: <span id="lag-now">—</span></h2>
<svg id="chart" width="640" height="160" viewBox="0 0 640 160" role="img" aria-label="age of the newest certificate over the last 5 minutes"></svg>
<div class="muted" style="max-width:640px">Age of the newest certificate at the answering replica, per refresh: the reply's
<code>time</code> minus the certificate's <code>time</code> (both server clocks). While writes flow it is how far
certification trails; while idle it grows, as certificates are made only for new ops.</div>
</div>
<div>
<h2>Newest certificate <span class="muted">(GET /v1/certificates/latest)</span>: seq <span id="cert-seq">—</span></h2>
<div class="muted">from replica <span id="cert-replica">—</span></div>
<table><tbody id="cert-body"></tbody></table>
</div>
</div>

<h2>Evidence <span class="muted">(GET /v1/clients/:client/evidence)</span></h2>
<form id="evidence-form"><label>Look up a client's evidence: <input id="client" placeholder="client public key (base64url)" autocomplete="off"></label> <button type="submit">Look up</button></form>
<div id="evidence"></div>

<script>${SCRIPT}</script>
</body>
</html>
`;
