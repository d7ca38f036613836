"use strict";
// layerscope's HTML report: everything is drawn from the inlined JSON document (no network).
(function () {
  const DATA = JSON.parse(document.getElementById("report-data").textContent);
  const app = document.getElementById("app");
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2",
    "#ff9da7", "#9c755f", "#e15759", "#bab0ac", "#86bcb6", "#d4a6c8"];
  const CHANGE = [
    { name: "unchanged", color: "#c9ced6" }, { name: "changed", color: "#f0b429" },
    { name: "added", color: "#3fb872" }, { name: "removed", color: "#e5574b" }];

  // -- small helpers ------------------------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "style") node.style.cssText = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return node;
  }
  function bytes(n) {  // SI units, as dive and the rest of layerscope print them
    const units = ["B", "kB", "MB", "GB", "TB"];
    let v = Math.abs(n), i = 0;
    while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    const text = i === 0 ? String(v) : (v < 10 ? v.toFixed(1) : v.toFixed(0));
    return (n < 0 ? "-" : "") + text + " " + units[i];
  }
  function signed(n) { return n > 0 ? "+" + bytes(n) : n < 0 ? bytes(n) : "0 B"; }
  function pct(x) { return x === null || x === undefined ? "n/a" : (x * 100).toFixed(2) + "%"; }
  function card(label, value, note, cls) {
    return el("div", { class: "card" }, el("div", { class: "label" }, label),
      el("div", { class: "value " + (cls || "") }, value), note ? el("div", { class: "note" }, note) : null);
  }
  function panel(title, count, ...body) {
    return el("section", { class: "panel" },
      el("h2", {}, title, count !== null && count !== undefined ? el("span", { class: "count" }, count) : null), ...body);
  }
  function table(head, rows, numeric) {
    const num = new Set(numeric || []);
    return el("div", { class: "scroll" }, el("table", { class: "t" },
      el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { class: num.has(i) ? "num" : null }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) =>
        c instanceof Node ? el("td", {}, c) : el("td", { class: num.has(i) ? "num" : (typeof c === "string" && c.startsWith("/") ? "mono" : null) }, c)))))));
  }
  function pill(text, cls) { return el("span", { class: "pill " + cls }, text); }
  function slug(text) { return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-"); }
  function mix(hex, t) {  // blend a colour towards white (t = 0) or keep it (t = 1)
    const n = parseInt(hex.slice(1), 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
    const f = (c) => Math.round(238 + (c - 238) * t);
    return `rgb(${f(r)},${f(g)},${f(b)})`;
  }
  function toHex(color) {
    if (color.startsWith("#")) return color;
    const m = (color.match(/\d+/g) || [200, 200, 200]).map(Number);
    return "#" + m.slice(0, 3).map((c) => c.toString(16).padStart(2, "0")).join("");
  }
  function isDark(color) {
    const m = color.match(/\d+/g);
    const [r, g, b] = m && color.startsWith("rgb") ? m.map(Number) :
      [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
    return 0.299 * r + 0.587 * g + 0.114 * b < 140;
  }

  // -- squarified treemap layout (Bruls, Huizing, van Wijk 2000) ----------------------------
  function squarify(items, x, y, w, h) {
    const total = items.reduce((s, it) => s + it.value, 0);
    const out = [];
    if (total <= 0 || w <= 0 || h <= 0) return out;
    const scale = (w * h) / total;
    const rest = items.map((it) => ({ item: it, area: it.value * scale }));
    let i = 0;
    while (i < rest.length) {
      const side = Math.min(w, h);
      let row = [rest[i]], sum = rest[i].area, best = worst(row, sum, side);
      let j = i + 1;
      while (j < rest.length) {
        const next = worst(row.concat(rest[j]), sum + rest[j].area, side);
        if (next > best) break;
        row.push(rest[j]); sum += rest[j].area; best = next; j++;
      }
      const thick = sum / side;
      let offset = 0;
      for (const r of row) {
        const len = r.area / thick;
        if (w >= h) out.push({ item: r.item, x: x, y: y + offset, w: thick, h: len });
        else out.push({ item: r.item, x: x + offset, y: y, w: len, h: thick });
        offset += len;
      }
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
      i = j;
    }
    return out;
  }
  function worst(row, sum, side) {
    let max = 0, min = Infinity;
    for (const r of row) { max = Math.max(max, r.area); min = Math.min(min, r.area); }
    const s2 = side * side, sum2 = sum * sum;
    return Math.max((s2 * max) / sum2, sum2 / (s2 * min));
  }

  // -- the treemap ------------------------------------------------------------------------
  // A node: [name, bytes, colour, extra, mark, children|null] (see html/tree.py).
  function Treemap(root, allModes) {
    const modes = Object.fromEntries(Object.entries(allModes).filter(([, m]) => m));
    const box = el("div", { class: "treemap", id: "treemap" });
    const crumbs = el("nav", { class: "crumbs", id: "crumbs", "aria-label": "breadcrumb" });
    const legend = el("div", { class: "legend", id: "legend" });
    let stack = [root], mode = Object.keys(modes)[0], hit = null;

    function pathOf(depth) {
      return "/" + stack.slice(1, depth + 1).map((n) => n[0]).join("/");
    }
    function draw() {
      box.textContent = "";
      const here = stack[stack.length - 1];
      const kids = (here[5] || []).filter((k) => k[1] > 0);
      const W = box.clientWidth || 1200, H = box.clientHeight || 560;
      const base = pathOf(stack.length - 1).replace(/\/$/, "");
      for (const r of squarify(kids.map((k) => ({ value: k[1], node: k })), 0, 0, W, H)) {
        const n = r.item.node, isDir = Array.isArray(n[5]), isMore = !isDir && n[0].startsWith("… ");
        const color = modes[mode].color(n);
        const full = base + "/" + n[0];
        const div = el("div", {
          class: "tm " + (isDir ? "dir" : "file") + (isDark(color) ? " dark" : "") + (hit === full ? " hit" : ""),
          "data-kind": isDir ? "dir" : isMore ? "more" : "file", "data-path": isMore ? null : full, "data-colour": color,
          title: `${full}${isDir ? "/" : ""}\n${bytes(n[1])}\n${modes[mode].describe(n)}`,
          style: `left:${r.x}px;top:${r.y}px;width:${Math.max(r.w, 0)}px;height:${Math.max(r.h, 0)}px;background:${color}`,
        });
        const label = n[0] + (isDir ? "/" : "") + (isDir && r.w > 60 && r.h > 50 ? "  " + bytes(n[1]) : "");
        if (r.w > 46 && r.h > 18) div.append(el("div", { class: "nm" }, label));
        if (isDir && r.w > 60 && r.h > 50) inner(div, n, r.w, r.h);
        else if (r.w > 46 && r.h > 32) div.append(el("div", { class: "sz" }, bytes(n[1])));
        if (isDir) div.addEventListener("click", () => { stack.push(n); hit = null; update(); });
        box.append(div);
      }
    }
    function inner(div, n, w, h) {  // one level more inside a directory, as a preview
      div.style.background = mix(toHex(div.style.background), 0.45);
      const kids = n[5].filter((k) => k[1] > 0);
      for (const r of squarify(kids.map((k) => ({ value: k[1], node: k })), 2, 18, w - 6, h - 22)) {
        const k = r.item.node, color = modes[mode].color(k);
        const sub = el("div", {
          class: "tm sub" + (isDark(color) ? " dark" : ""),
          style: `left:${r.x}px;top:${r.y}px;width:${r.w}px;height:${r.h}px;background:${color}`,
          title: `${k[0]}${Array.isArray(k[5]) ? "/" : ""}\n${bytes(k[1])}\n${modes[mode].describe(k)}`,
        });
        if (r.w > 40 && r.h > 16) sub.append(el("div", { class: "nm" }, k[0]));
        div.append(sub);
      }
    }
    function drawCrumbs() {
      crumbs.textContent = "";
      stack.forEach((n, i) => {
        const last = i === stack.length - 1;
        if (i > 0) crumbs.append(el("span", { class: "sep" }, "/"));
        crumbs.append(el("button", {
          class: last ? "here" : null, "data-depth": String(i),
          onclick: last ? null : () => { stack = stack.slice(0, i + 1); hit = null; update(); },
        }, i === 0 ? "/ (root)" : n[0]));
      });
      crumbs.append(el("span", { class: "total" }, bytes(stack[stack.length - 1][1])));
    }
    function drawLegend() {
      legend.textContent = "";
      for (const [color, text] of modes[mode].legend()) {
        legend.append(el("span", {}, el("span", { class: "sw", style: "background:" + color }), text));
      }
    }
    function update() { drawCrumbs(); draw(); drawLegend(); }
    function reveal(path) {  // zoom to the directory holding `path` and mark it
      const parts = path.split("/").filter(Boolean);
      const chain = [root];
      for (const part of parts.slice(0, -1)) {
        const next = (chain[chain.length - 1][5] || []).find((k) => k[0] === part && Array.isArray(k[5]));
        if (!next) break;
        chain.push(next);
      }
      stack = chain; hit = "/" + parts.join("/"); update();
      box.scrollIntoView({ block: "nearest" });
    }
    const buttons = Object.keys(modes).map((m) => el("button", {
      class: m === mode ? "on" : null, "data-mode": m,
      onclick: (e) => {
        mode = m;
        for (const b of e.target.parentNode.children) b.classList.toggle("on", b === e.target);
        update();
      },
    }, modes[m].label));
    const toolbar = el("div", { class: "toolbar" },
      Object.keys(modes).length > 1 ? el("span", { class: "muted" }, "Colour by") : null,
      Object.keys(modes).length > 1 ? el("div", { class: "seg", id: "colour-modes" }, buttons) : null,
      searchBox(root, reveal));
    window.addEventListener("resize", draw);
    requestAnimationFrame(update);
    return el("div", {}, toolbar, crumbs, box, legend);
  }

  function searchBox(root, reveal) {
    const list = el("ul", { id: "search-results", hidden: "" });
    const input = el("input", { id: "search", type: "search", placeholder: "Find a path…", autocomplete: "off" });
    input.addEventListener("input", () => {
      const q = input.value.trim().toLowerCase();
      list.textContent = "";
      if (q.length < 2) { list.hidden = true; return; }
      const found = [];
      (function walk(n, prefix) {
        for (const k of n[5] || []) {
          if (found.length >= 60) return;
          if (k[0].startsWith("… ")) continue;
          const p = prefix + "/" + k[0];
          if (p.toLowerCase().includes(q)) found.push([p, k]);
          if (Array.isArray(k[5])) walk(k, p);
        }
      })(root, "");
      for (const [p, k] of found) {
        list.append(el("li", { "data-path": p, onclick: () => { list.hidden = true; reveal(p); } },
          el("span", {}, p + (Array.isArray(k[5]) ? "/" : "")), el("span", { class: "sz" }, bytes(k[1]))));
      }
      if (!found.length) list.append(el("li", { class: "none" }, "No path matches"));
      list.hidden = false;
    });
    document.addEventListener("click", (e) => { if (!e.target.closest(".search")) list.hidden = true; });
    return el("div", { class: "search" }, input, list);
  }

  // -- one image ------------------------------------------------------------------------
  function layerModes(doc, tree) {
    const layers = doc.layer || [];
    const maxWaste = tree[3] || 1;
    return {
      layer: {
        label: "Layer", color: (n) => n[2] < 0 ? "#c9ced6" : PALETTE[n[2] % PALETTE.length],
        describe: (n) => n[2] < 0 ? "several layers" : `layer ${n[2]}: ${(layers[n[2]] || {}).command || ""}`.slice(0, 160),
        legend: () => layers.filter((l) => l.sizeBytes > 0).map((l) =>
          [PALETTE[l.index % PALETTE.length], `${l.index}: ${(l.command || "").slice(0, 48)}`]),
      },
      waste: {
        label: "Waste", color: (n) => n[3] > 0 ? mix("#e5574b", 0.35 + 0.65 * Math.min(1, n[3] / Math.max(n[1], 1))) : "#dfe3e8",
        describe: (n) => n[3] > 0 ? `${bytes(n[3])} reclaimable (hidden copies)` : "no hidden copies",
        legend: () => [["#dfe3e8", "no waste"], [mix("#e5574b", 0.45), "some waste"], ["#e5574b", `waste ≥ its own size (total ${bytes(maxWaste)})`]],
      },
      findings: tree[4] > 0 && {
        label: "Findings", color: (n) => n[4] > 0 ? "#b42318" : "#dfe3e8",
        describe: (n) => n[4] > 0 ? `${n[4]} finding(s)` : "no finding",
        legend: () => [["#dfe3e8", "no finding"], ["#b42318", "named by a finding"]],
      },
    };
  }

  function layerBars(rows, colorOf) {
    const max = Math.max(1, ...rows.map((r) => r.size));
    const grid = el("div", { class: "bars", id: "layer-bars" });
    for (const r of rows) {
      grid.append(el("div", { class: "idx" }, r.label),
        el("div", { class: "track" }, el("div", { class: "fill", style: `width:${(r.size / max) * 100}%;background:${colorOf(r)}` })),
        el("div", { class: "size" }, bytes(r.size)),
        el("div", { class: "cmd", title: r.command }, r.tag ? pill(r.tag, slug(r.tag)) : null, " ", r.command || "(no command)"));
    }
    return grid;
  }

  function extraSections(ls, skip) {  // findings, packages, stories: whatever capabilities added
    const out = [];
    const title = (text) => text[0].toUpperCase() + text.slice(1).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
    function section(name, list) {
      if (!list.length || typeof list[0] !== "object" || list[0] === null) return;
      const flat = Object.keys(list[0]).filter((c) => list.every((r) => r[c] === null || typeof r[c] !== "object"));
      const sized = flat.filter((c) => /bytes|size/i.test(c));  // the figures first, then the rest
      const cols = [...flat.slice(0, 4), ...sized.filter((c) => !flat.slice(0, 4).includes(c)),
        ...flat.slice(4).filter((c) => !sized.includes(c))].slice(0, 8);
      const numeric = cols.map((c, i) => /bytes|size|^layer$|In$/i.test(c) ? i : -1).filter((i) => i >= 0);
      const rows = list.slice(0, 500).map((r) => cols.map((c) => {
        const v = r[c];
        if (c === "severity" && typeof v === "string") return pill(v, "sev-" + v);
        return typeof v === "number" && /bytes|size/i.test(c) ? bytes(v) : v === null || v === undefined ? "" : String(v);
      }));
      const more = list.length > 500 ? ` (first 500 of ${list.length}; all in the JSON)` : "";
      out.push(panel(name, `${list.length}${more}`, table(cols.map(title), rows, numeric)));
    }
    for (const [key, value] of Object.entries(ls || {})) {
      if (skip.includes(key) || !value) continue;
      if (Array.isArray(value)) section(title(key), value);
      else if (typeof value === "object") {
        for (const [sub, list] of Object.entries(value)) {
          if (Array.isArray(list)) section(sub === key ? title(key) : `${title(key)}: ${title(sub).toLowerCase()}`, list);
        }
      }
    }
    return out;
  }

  function renderImage(doc, tree) {
    const im = doc.image, ls = doc.layerscope || {}, w = ls.waste || {};
    document.body.prepend(el("header", { class: "bar" }, el("span", { class: "brand" }, "layerscope"),
      el("h1", {}, im.name), el("span", { class: "sub" }, [im.format, im.platform, im.configDigest].filter(Boolean).join(" · "))));
    const main = el("main", {});
    main.append(el("div", { class: "cards", id: "facts" },
      card("Image size", bytes(im.sizeBytes), `${(doc.layer || []).length} layers`),
      card("Pull size", bytes(im.compressedSizeBytes), "as stored"),
      card("Efficiency", pct(im.efficiencyScore), "dive's score"),
      card("Potential wasted", bytes(im.inefficientBytes), "dive's figure"),
      card("User wasted", pct(im.userWastedPercent), "dive's figure"),
      card("Reclaimable", bytes(w.reclaimableBytes || 0), "layerscope: hidden copies"),
      card("Base image", `${(w.baseImage || {}).layers ?? "?"} layer(s)`, (w.baseImage || {}).name || (w.baseImage || {}).source || "")));
    const rows = (doc.layer || []).map((l) => ({ label: String(l.index), size: l.sizeBytes, command: l.command, index: l.index }));
    main.append(panel("Layers", `${rows.length}, by size`, layerBars(rows, (r) => PALETTE[r.index % PALETTE.length])));
    main.append(panel("Where the bytes are", "click a directory to zoom in; the path above zooms out", Treemap(tree, layerModes(doc, tree))));
    const files = (w.files || []).slice(0, 200);
    if (files.length) {
      main.append(panel("Wasted files", `${(w.files || []).length}, largest first`, table(
        ["path", "copies", "reclaimable", "causes", "layers"],
        files.map((f) => [f.path, String(f.copies), bytes(f.reclaimableBytes), f.causes.join(", "), f.layers.join(", ")]), [1, 2])));
    }
    extraSections(ls, ["schemaVersion", "waste", "ci"]).forEach((s) => main.append(s));
    main.append(el("footer", {}, "Generated by layerscope from the same document as its JSON export."));
    app.replaceChildren(main);
  }

  // -- a comparison -----------------------------------------------------------------------
  function renderDiff(doc, tree) {
    const d = doc.layerscope.diff, delta = d.delta;
    document.body.prepend(el("header", { class: "bar" }, el("span", { class: "brand" }, "layerscope diff"),
      el("h1", {}, `${d.a.name} → ${d.b.name}`), el("span", { class: "sub" }, `${d.a.source} → ${d.b.source}`)));
    const main = el("main", {});
    main.append(el("p", { class: "headline", id: "headline" }, d.headline));
    const cls = (n) => n > 0 ? "up" : n < 0 ? "down" : "";
    main.append(el("div", { class: "cards", id: "facts" },
      card("Image size", signed(delta.sizeBytes), `${bytes(d.a.sizeBytes)} → ${bytes(d.b.sizeBytes)}`, cls(delta.sizeBytes)),
      card("To pull for B", bytes(d.layers.pullBytes), `${d.layers.pullLayers} layer(s), ${d.layers.pullCompressed ? "compressed" : "uncompressed"}`),
      card("Shared layers", `${d.layers.sharedPrefix} / ${d.b.layers}`, "bottom of both stacks"),
      card("Files", `${delta.files >= 0 ? "+" : ""}${delta.files}`, `+${d.pathCounts.added} −${d.pathCounts.removed} ~${d.pathCounts.changed}`),
      card("Efficiency", `${(delta.efficiencyScore * 100).toFixed(2)} pt`, `${pct(d.a.efficiencyScore)} → ${pct(d.b.efficiencyScore)}`, cls(-delta.efficiencyScore)),
      card("Wasted (dive)", signed(delta.inefficientBytes), `${bytes(d.a.inefficientBytes)} → ${bytes(d.b.inefficientBytes)}`, cls(delta.inefficientBytes))));
    const sideColor = { "shared": "#8a94a6", "reused": "#8a94a6", "only in A": "#e5574b", "only in B": "#3fb872" };
    const rows = d.layers.rows.map((r) => ({
      label: r.indexB !== null ? `B${r.indexB}` : `A${r.indexA}`, size: r.sizeBytes, command: r.command, tag: r.side, side: r.side }));
    main.append(panel("Layers", `${d.layers.sharedPrefix} shared, ${d.layers.pullLayers} to pull`, layerBars(rows, (r) => sideColor[r.side])));
    main.append(panel("What changed", "coloured by change; click a directory to zoom in", Treemap(tree, {
      change: {
        label: "Change", color: (n) => CHANGE[n[2]].color,
        describe: (n) => `${CHANGE[n[2]].name}${n[3] ? ", " + signed(n[3]) : ""}`,
        legend: () => CHANGE.map((c) => [c.color, c.name]),
      },
    })));
    const dirs = d.directories.filter((x) => x.path !== "/").slice(0, 200);
    if (dirs.length) {
      main.append(panel("Directories", "largest change first", table(["directory", "bytes", "added", "removed", "changed", "A", "B"],
        dirs.map((x) => [x.path, signed(x.delta), String(x.added), String(x.removed), String(x.changed), bytes(x.sizeA), bytes(x.sizeB)]), [1, 2, 3, 4, 5, 6])));
    }
    if (d.findings) {
      main.append(panel("Findings", `${d.findings.filter((f) => f.change === "new").length} new, ${d.findings.filter((f) => f.change === "fixed").length} fixed`,
        table(["", "severity", "rule", "finding", "bytes"], d.findings.map((f) => [pill(f.change, f.change), pill(f.severity, "sev-" + f.severity), f.ruleId, f.title, f.recoverableBytes ? bytes(f.recoverableBytes) : ""]), [4])));
    }
    if (d.packages) {
      main.append(panel("Packages", `${d.packages.length} changed`, d.packages.length ?
        table(["", "ecosystem", "package", "A", "B"], d.packages.map((p) => [pill(p.change, p.change), p.ecosystem, p.name, p.versionA, p.versionB])) :
        el("p", { class: "note" }, "No package was added, removed or upgraded.")));
    }
    main.append(panel("Paths", `${d.pathCounts.added} added, ${d.pathCounts.removed} removed, ${d.pathCounts.changed} changed`,
      table(["", "path", "bytes", "what"], d.paths.slice(0, 1000).map((p) => [pill(p.change, p.change), p.path, signed(p.delta), p.aspects.join(", ")]), [2])));
    main.append(el("footer", {}, "Generated by layerscope from the same document as `layerscope diff --json`."));
    app.replaceChildren(main);
  }

  if (DATA.kind === "diff") renderDiff(DATA.doc, DATA.tree);
  else renderImage(DATA.doc, DATA.tree);
})();
