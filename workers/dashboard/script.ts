/**
 * The dashboard's script (runs in the browser, after `HEALTH_JS`): every 2 s it reads
 * `/v1/replicas`, `/v1/cluster/status`, `/v1/certificates/latest` and `/v1/namespaces` (a page: the
 * first 50 by name), and renders them; `/v1/cluster` once, for the open-namespace list. Every value
 * from the API is written with `textContent`, never as HTML.
 */
export const DASHBOARD_SCRIPT = `
  const REFRESH_MS = 2000;
  const WINDOW_MAX_MS = 5 * 60 * 1000;
  // the chart's narrowest window: two refreshes are not a history worth stretching over the width
  const WINDOW_MIN_MS = 20 * 1000;
  const RATE_WINDOW_MS = 30 * 1000;
  const samples = []; // {t, ageS, opCount}: one per refresh, at the page's clock
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
      const q = r.quarantined && r.quarantined[info.name];
      const h = replicaHealth(s, f, q);
      const tr = el("tr", { "data-replica": info.name, "data-status": h.status, class: "st-" + h.status });
      if (f && f.stale) tr.setAttribute("data-stale", "true");
      const badge = el("span", { class: "badge" }, h.status);
      const why = h.status === "ok" ? [] : [el("span", { class: "why" }, h.reasons.join("; "))];
      tr.append(td(info.name), el("td", { class: "health" }, badge, ...why), td(info.region),
        el("td", { class: "mono", title: info.publicKey }, short(info.publicKey, 20)));
      if (!s || !f) { tr.append(el("td", { class: "bad", colspan: "8" }, "no answer")); return tr; }
      const age = f.ageMs === null ? "none" : (f.ageMs / 1000).toFixed(1) + " s";
      tr.append(td(age, f.stale ? "num bad" : "num"), td(f.behind, f.behind > 0 ? "num warn" : "num"));
      const cls = s.certification === "ok" ? "ok" : s.certification === "diverged" ? "bad" : "warn";
      tr.append(td(s.certification, cls), td(s.seq, "num"), td(s.opCount, "num"), td(s.buffered, "num"),
        td(s.rootMismatches, s.rootMismatches > 0 ? "num bad" : "num"));
      tr.append(td(s.diverged ? "at seq " + s.diverged.seq : "no", s.diverged ? "bad" : ""));
      return tr;
    }));
    const lag = replicationLag(r);
    $("repl-lag").textContent = !lag ? "no replica answers"
      : lag.behind + (lag.behind === 1 ? " seq" : " seqs") + " (" + lag.name + ")";
    $("repl-lag-age").textContent = !lag ? "" : lag.ageMs === null ? "no certificate yet"
      : "its newest certificate is " + (lag.ageMs / 1000).toFixed(1) + " s old";
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

  function renderNamespaces(r) {
    fill("namespaces-body", r.namespaces.map((n) => {
      const entries = Object.entries(n.members);
      const owners = entries.filter(([, role]) => role === "owner").map(([m]) => m);
      const others = entries.filter(([, role]) => role !== "owner");
      const key = (m) => el("span", { class: "mono", title: m }, m === "*" ? "* (everyone)" : short(m, 20));
      const ownersTd = el("td", { "data-owners": owners.join(",") });
      owners.forEach((m, i) => ownersTd.append(...(i ? [", "] : []), key(m)));
      const othersTd = el("td", {});
      others.forEach(([m, role], i) => othersTd.append(...(i ? ["; "] : []), key(m), " " + role));
      return el("tr", { "data-namespace": n.name }, td(n.name, "mono"), ownersTd, othersTd);
    }));
    if (r.namespaces.length === 0) fill("namespaces-body", [el("tr", {}, el("td", { colspan: "3", class: "muted" }, "none claimed"))]);
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

  function renderChart(now) {
    const W = 640, H = 160, P = 34;
    while (samples.length && samples[0].t < now - WINDOW_MAX_MS) samples.shift();
    const pts = samples.filter((s) => s.ageS !== null);
    const win = chartWindow(samples, now, WINDOW_MAX_MS, WINDOW_MIN_MS);
    const max = Math.max(5, ...pts.map((s) => s.ageS));
    const x = (t) => P + ((t - win.from) / (win.to - win.from)) * (W - P - 5);
    const y = (v) => H - P + 10 - (v / max) * (H - P - 5);
    const svg = $("chart");
    svg.setAttribute("data-window-ms", String(win.to - win.from));
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
      s("text", { x: P, y: H - 4, "font-size": 10, id: "chart-from" }, agoLabel(win.to - win.from)),
      s("text", { x: W - 30, y: H - 4, "font-size": 10 }, "now"),
    ];
    if (pts.length > 1)
      kids.push(s("polyline", { fill: "none", stroke: "#2a6fdb", "stroke-width": 2,
        points: pts.map((p) => x(p.t).toFixed(1) + "," + y(p.ageS).toFixed(1)).join(" ") }));
    svg.replaceChildren(...kids);
    const last = pts[pts.length - 1];
    $("lag-now").textContent = last ? last.ageS.toFixed(1) + " s" : "no certificate yet";
    const rate = certifiedOpsPerSecond(samples, now, RATE_WINDOW_MS);
    $("ops-rate").textContent = rate === null ? "—" : rate.toFixed(rate < 10 ? 1 : 0);
  }

  async function refresh() {
    const errors = [];
    const [replicas, cluster] = await Promise.all([
      get("/v1/replicas").catch((e) => (errors.push(e.message), null)),
      get("/v1/cluster/status").catch((e) => (errors.push(e.message), null)),
    ]);
    // the certificate shown is the freshest open replica's (else the edge's choice: the nearest)
    const freshest = replicas && freshestReplica(replicas);
    const certPath = "/v1/certificates/latest" + (freshest ? "?replica=" + encodeURIComponent(freshest) : "");
    const [cert, namespaces] = await Promise.all([
      get(certPath).catch((e) => (errors.push(e.message), null)),
      get("/v1/namespaces").catch((e) => (errors.push(e.message), null)),
    ]);
    if (namespaces) renderNamespaces(namespaces);
    if (replicas) renderReplicas(replicas);
    if (cluster) renderNodes(cluster);
    const now = Date.now();
    if (cert) renderCertificate(cert);
    const c = cert && cert.certificate;
    samples.push({
      t: now,
      ageS: c ? Math.max(0, (cert.time - c.body.time) / 1000) : null,
      opCount: replicas ? newestOpCount(replicas) : null,
    });
    renderChart(now);
    $("err").textContent = errors.join("; ");
    $("updated").textContent = new Date(now).toISOString();
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
      out.replaceChildren(head, ...(rows.length ? [el("div", { class: "scroll" }, table)] : []));
    } catch (e) {
      out.replaceChildren(el("span", { class: "bad" }, e.message));
    }
  }

  $("evidence-form").addEventListener("submit", lookUp);
  get("/v1/cluster").then((c) => {
    const open = c.openNamespaces || ["*"];
    $("ns-open").textContent = open.length === 0 ? "none" : open.join(", ") === "*" ? "* (every one)" : open.join(", ");
  }).catch(() => ($("ns-open").textContent = "unknown"));
  const loop = () => refresh().catch((e) => ($("err").textContent = String(e))).finally(() => setTimeout(loop, REFRESH_MS));
  loop();
`;
