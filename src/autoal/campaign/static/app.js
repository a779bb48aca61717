// The autoal labeling page: talks to the JSON API of `autoal campaign serve`.
// Every label is one POST /api/label, saved by the server in one transaction before it answers.
"use strict";

(function () {
  const TOKEN = new URLSearchParams(window.location.search).get("token");
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                  "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c"];
  const state = { classes: [], keys: {}, keysAreNames: true, items: [], current: 0,
                  polling: false, status: null };
  const $ = (id) => document.getElementById(id);

  function withToken(url) {
    if (!TOKEN) return url;
    return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN);
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (TOKEN) headers.Authorization = "Bearer " + TOKEN;
    const init = { method, headers, cache: "no-store" };
    if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (err) {
      throw new Error("cannot reach the server (is `autoal campaign serve` still running?)");
    }
    let data = null;
    try { data = await resp.json(); } catch (err) { data = null; }
    if (!resp.ok) {
      const error = new Error((data && data.error) || resp.status + " " + resp.statusText);
      error.status = resp.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  let messageTimer = null;
  function say(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = kind || "error";
    box.hidden = !text;
    clearTimeout(messageTimer);
    if (text && kind === "info") messageTimer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  // -- status ------------------------------------------------------------------------------
  function showStatus(st) {
    state.status = st;
    if (st.classes) state.classes = st.classes;
    $("n-labeled").textContent = st.labeled;
    $("n-pending").textContent = st.pending;
    $("n-skipped").textContent = st.skipped;
    $("n-unlabeled").textContent = st.unlabeled;
    $("n-items").textContent = st.items;
    const done = st.items ? (st.labeled + st.skipped) / st.items : 0;
    $("overall").firstElementChild.style.width = (100 * done).toFixed(1) + "%";
    const list = $("per-class");
    list.replaceChildren();
    const max = Math.max(1, ...Object.values(st.per_class));
    Object.entries(st.per_class).forEach(([name, count], k) => {
      const bar = el("span", { class: "fill" });
      bar.style.width = (100 * count / max).toFixed(1) + "%";
      bar.style.background = COLORS[k % COLORS.length];
      list.append(el("li", { "data-class": name },
        el("span", { class: "name", text: name }),
        el("span", { class: "bar" }, bar),
        el("b", { class: "count", text: String(count) })));
    });
    if (st.weights_history) drawWeights(st.weights_history);
    showEstimate(st);
    const input = $("batch-size");
    if (st.last_batch_size && !input.dataset.touched) input.value = st.last_batch_size;
  }

  function showEstimate(st) {
    const est = st.accuracy_estimate;
    $("est-value").textContent = est ? est.value.toFixed(3) : "–";
    $("est-detail").textContent = est
      ? `(95% ${est.low.toFixed(2)}–${est.high.toFixed(2)}, random audit of ${est.labels} labels)`
      : "(no audit labels yet)";
    const box = $("stopping");
    const rows = (st.history || []).filter((h) => h.value !== null || h.kappa !== null);
    if (!st.stopping || !rows.length) { box.hidden = true; return; }
    box.hidden = false;
    const verdict = $("stop-verdict");
    verdict.className = st.stopping.stop ? "stop" : "continue";
    verdict.replaceChildren(el("b", { text: st.stopping.stop ? "Stop labeling? Yes. " : "Keep labeling. " }),
      `Rule: ${st.stopping.rule} (mean kappa of the last ${st.stopping.window} rounds ≥ ` +
      `${st.stopping.threshold}). ${st.stopping.reason}`);
    drawCurve(rows);
  }

  function drawCurve(rows) {
    const width = 560, height = 180, left = 40, top = 10, bottom = 26, right = 10;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height + top + bottom}`, width,
                               role: "img", "aria-label": "accuracy estimate and kappa per round" });
    const n = rows.length;
    const x = (i) => left + (n === 1 ? (width - left - right) / 2 : i * (width - left - right) / (n - 1));
    const y = (v) => top + height * (1 - v);
    for (const t of [0, 0.5, 1]) {
      chart.append(svg("line", { x1: left - 3, x2: width - right, y1: y(t), y2: y(t), class: "grid" }));
      const label = svg("text", { x: left - 6, y: y(t) + 4, "text-anchor": "end", class: "tick" });
      label.textContent = t.toFixed(1);
      chart.append(label);
    }
    const band = rows.map((h, i) => [i, h]).filter(([, h]) => h.value !== null);
    if (band.length) {
      const pts = band.map(([i, h]) => `${x(i)},${y(h.high)}`).concat(
        band.slice().reverse().map(([i, h]) => `${x(i)},${y(h.low)}`));
      chart.append(svg("polygon", { points: pts.join(" "), class: "band" }));
    }
    const line = (key, cls) => {
      const pts = rows.map((h, i) => [i, h[key]]).filter(([, v]) => v !== null);
      if (!pts.length) return;
      chart.append(svg("polyline", { points: pts.map(([i, v]) => `${x(i)},${y(v)}`).join(" "), class: cls }));
      for (const [i, v] of pts) {
        const dot = svg("circle", { cx: x(i), cy: y(v), r: 3, class: cls });
        const tip = svg("title", {});
        tip.textContent = `round ${rows[i].round} (${rows[i].n_labeled} labels): ${key} ${v.toFixed(3)}`;
        dot.append(tip);
        chart.append(dot);
      }
    };
    line("value", "acc");
    line("kappa", "kappa");
    rows.forEach((h, i) => {
      const t = svg("text", { x: x(i), y: top + height + 18, "text-anchor": "middle", class: "tick" });
      t.textContent = "r" + h.round;
      chart.append(t);
    });
    const legend = el("p", { class: "legend" },
      el("span", { class: "swatch acc" }), " accuracy estimate ",
      el("span", { class: "swatch kappa" }), " kappa vs previous round");
    $("stop-chart").replaceChildren(chart, legend);
  }

  function drawWeights(history) {
    const box = $("weights");
    if (!history.length) { box.hidden = true; return; }
    box.hidden = false;
    const names = [];
    for (const h of history) for (const k of Object.keys(h.weights)) if (!names.includes(k)) names.push(k);
    const barW = 56, gap = 16, height = 260, top = 10, left = 36, bottom = 24;
    const width = left + history.length * (barW + gap) + gap;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height + top + bottom}`,
                               width: Math.max(480, Math.min(width, 1100)), role: "img",
                               "aria-label": "candidate weights per round" });
    for (const t of [0, 0.5, 1]) {
      const y = top + height * (1 - t);
      chart.append(svg("line", { x1: left - 3, x2: width, y1: y, y2: y, class: "grid" }));
      const label = svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "tick" });
      label.textContent = t.toFixed(1);
      chart.append(label);
    }
    history.forEach((h, i) => {
      const total = Object.values(h.weights).reduce((a, b) => a + (b || 0), 0) || 1;
      let y = top + height;
      const x = left + gap + i * (barW + gap);
      names.forEach((name, k) => {
        const w = (h.weights[name] || 0) / total;
        const hpx = w * height;
        y -= hpx;
        const rect = svg("rect", { x, y, width: barW, height: Math.max(0, hpx),
                                   fill: COLORS[k % COLORS.length] });
        const tip = svg("title", {});
        tip.textContent = `round ${h.round}: ${name} ${(h.weights[name] || 0).toFixed(3)}`;
        rect.append(tip);
        chart.append(rect);
        if (w >= 0.08) {
          const value = svg("text", { x: x + barW / 2, y: y + hpx / 2 + 4, "text-anchor": "middle",
                                      class: "value" });
          value.textContent = w.toFixed(2);
          chart.append(value);
        }
      });
      const label = svg("text", { x: x + barW / 2, y: top + height + 14, "text-anchor": "middle",
                                  class: "tick" });
      label.textContent = "r" + h.round;
      chart.append(label);
    });
    $("weights-chart").replaceChildren(chart);
    $("weights-legend").replaceChildren(...names.map((name, k) => {
      const sw = el("span", { class: "swatch" });
      sw.style.background = COLORS[k % COLORS.length];
      return el("li", {}, sw, name);
    }));
  }

  // -- batch -------------------------------------------------------------------------------
  function showBatch(batch) {
    state.classes = batch.classes;
    state.keys = batch.keys || {};
    state.keysAreNames = !!batch.keys_are_names;
    state.items = batch.items;
    showKeys();
    $("accept-all").disabled = !batch.items.some((it) => it.label === null && it.guess);
    const info = $("round-info");
    if (batch.round === null) {
      info.textContent = "No batch yet: press Next batch.";
    } else {
      info.textContent = `round ${batch.round} · ${batch.items.length} items by ${batch.method}` +
        (batch.n_labeled ? ` · model trained on ${batch.n_labeled} labels` : "");
    }
    const main = $("batch");
    main.replaceChildren(...batch.items.map((item, i) => card(item, i)));
    if (batch.items.length === 0) {
      main.append(el("p", { class: "empty muted",
        text: batch.round === null ? "Nothing to label yet. Press “Next batch” to let the model pick items."
                                   : "This batch is empty." }));
    }
    const next = firstPending(0);
    focusItem(next === -1 ? 0 : next, false);
  }

  function showKeys() {
    const box = $("key-map");
    const pairs = state.classes.filter((c) => state.keys[c] !== undefined);
    if (state.keysAreNames) {
      box.replaceChildren("Keys: press a class's name to label the focused item with it.");
    } else {
      box.replaceChildren("Keys: ", ...pairs.flatMap((c, k) => [
        k ? " · " : "", el("kbd", { text: state.keys[c] }), " = " + c]));
    }
    box.hidden = false;
  }

  function card(item, i) {
    const node = el("article", { class: "card", tabindex: "0", "data-id": item.id,
                                 "data-index": String(i), "aria-label": "item " + item.id,
                                 onfocusin: () => setCurrent(i), onclick: (ev) => {
                                   if (!ev.target.closest("button")) focusItem(i, true);
                                 } });
    node.append(view(item));
    const guess = el("div", { class: "guess" });
    if (item.guess !== null && item.guess !== undefined) {
      const conf = item.confidence === null ? null : item.confidence;
      guess.append("model: ", el("b", { text: item.guess }),
        conf === null ? "" : el("span", { class: "conf", text: ` ${(100 * conf).toFixed(0)}%` }));
      const meter = el("span", { class: "meter" }, el("span"));
      meter.firstElementChild.style.width = (100 * (conf || 0)).toFixed(0) + "%";
      guess.append(meter);
    } else if (item.audit) {
      guess.append(el("span", { class: "audit", title: "drawn at random to measure accuracy; " +
        "the model's guess is hidden so that it cannot sway you", text: "audit item: no guess shown" }));
    } else {
      guess.append(el("span", { class: "muted", text: "no model guess yet" }));
    }
    node.append(el("div", { class: "id", title: item.source, text: item.id }), guess);
    const buttons = el("div", { class: "buttons" });
    state.classes.forEach((name) => {
      const key = state.keys[name];
      buttons.append(el("button", { type: "button", class: "label", "data-label": name,
                                    "aria-pressed": String(item.label === name),
                                    onclick: () => label(i, name) },
        key !== undefined && !state.keysAreNames ? el("kbd", { text: key }) : null,
        (key !== undefined && !state.keysAreNames ? " " : "") + name));
    });
    if (item.guess && item.label === null) {
      buttons.append(el("button", { type: "button", class: "accept", "data-label": item.guess,
                                    title: "label it as the model guessed (Enter)",
                                    onclick: () => label(i, item.guess) },
        el("kbd", { text: "⏎" }), " accept " + item.guess));
    }
    buttons.append(el("button", { type: "button", class: "skip", "data-label": "skip",
                                  "aria-pressed": String(item.label === "skip"),
                                  onclick: () => label(i, "skip") },
      el("kbd", { text: "s" }), " skip"));
    node.append(buttons);
    const stateText = item.label === null ? "pending" :
      item.label === "skip" ? "skipped" : "labeled " + item.label;
    node.append(el("div", { class: "state", text: stateText }));
    node.classList.toggle("done", item.label !== null);
    node.classList.toggle("skipped", item.label === "skip");
    return node;
  }

  function view(item) {
    if (item.image_url) {
      const img = el("img", { src: withToken(item.image_url), alt: "item " + item.id,
                              draggable: "false" });
      img.addEventListener("load", () => {
        if (img.naturalWidth < 96) img.classList.add("pixelated");
      });
      return el("div", { class: "view" }, img);
    }
    const f = item.features;
    if (!f) return el("div", { class: "view muted", text: "(no values: item not in the data)" });
    const table = el("table", { class: "features" });
    f.names.forEach((name, j) => {
      const v = f.values[j];
      table.append(el("tr", {}, el("th", { text: name }),
        el("td", { text: v === null ? "–" : String(Number(v.toPrecision(5))) })));
    });
    const wrap = el("div", { class: "view values" }, table);
    if (f.more) wrap.append(el("div", { class: "muted", text: `… and ${f.more} more` }));
    return wrap;
  }

  function cards() { return Array.from(document.querySelectorAll("#batch .card")); }

  function setCurrent(i) {
    state.current = i;
    cards().forEach((c, k) => c.classList.toggle("current", k === i));
  }

  function focusItem(i, scroll) {
    const all = cards();
    if (!all.length) return;
    i = Math.max(0, Math.min(all.length - 1, i));
    setCurrent(i);
    all[i].focus({ preventScroll: !scroll });
    if (scroll) all[i].scrollIntoView({ block: "nearest" });
  }

  function firstPending(from) {
    const n = state.items.length;
    for (let k = 0; k < n; k++) {
      const i = (from + k) % n;
      if (state.items[i].label === null) return i;
    }
    return -1;
  }

  async function label(i, name) {
    const item = state.items[i];
    if (!item) return;
    focusItem(i, false);
    const relabel = item.label !== null && item.label !== name;
    const node = cards()[i];
    node.classList.add("saving");
    try {
      const res = await api("POST", "api/label", { id: item.id, label: name, relabel });
      item.label = name;
      const fresh = card(item, i);
      node.replaceWith(fresh);
      showStatus(Object.assign({}, state.status || {}, res.status));
      const next = firstPending(i + 1);
      if (next === -1) {
        focusItem(i, false);
        say("Batch done: press “Next batch” (or n) for more.", "info");
      } else {
        focusItem(next, true);
      }
    } catch (err) {
      node.classList.remove("saving");
      say(err.message);
    }
  }

  // -- query -------------------------------------------------------------------------------
  function setBusy(job) {
    const running = job && job.state === "running";
    $("busy").hidden = !running;
    $("next").disabled = !!running;
    if (running) $("busy-text").textContent = `training the model and picking items… ${job.elapsed.toFixed(0)} s`;
  }

  async function nextBatch() {
    const n = parseInt($("batch-size").value, 10);
    say("");
    try {
      const res = await api("POST", "api/query", { n: Number.isFinite(n) ? n : 10, refresh: true });
      setBusy(res.job);
    } catch (err) {
      if (err.status !== 409) { say(err.message); return; }
    }
    poll();
  }

  async function poll() {
    if (state.polling) return;
    state.polling = true;
    try {
      for (;;) {
        const res = await api("GET", "api/query");
        const job = res.job;
        setBusy(job);
        if (!job || job.state !== "running") {
          if (job && job.state === "error") say(job.message);
          else if (job && job.notes && job.notes.length) say(job.notes.join(" "), "info");
          break;
        }
        await new Promise((r) => setTimeout(r, 400));
      }
      await refresh();
    } catch (err) {
      say(err.message);
    } finally {
      state.polling = false;
    }
  }

  async function acceptAll() {
    try {
      const res = await api("POST", "api/accept", {});
      const n = Object.keys(res.accepted).length;
      say(`Accepted the model's guess for ${n} item(s)` +
          (res.without_guess ? ` (${res.without_guess} without a guess left)` : "") + ".", "info");
      await refresh();
    } catch (err) {
      say(err.message);
    }
  }

  async function undo() {
    try {
      const res = await api("POST", "api/undo", {});
      say(`Undid ${res.result.reverted} label(s) from ${res.result.source || "a teach"}.`, "info");
      await refresh();
    } catch (err) {
      say(err.message);
    }
  }

  async function refresh() {
    const [st, batch] = await Promise.all([api("GET", "api/status"), api("GET", "api/batch")]);
    showStatus(st);
    showBatch(batch);
    if (st.query && st.query.state === "running") { setBusy(st.query); poll(); }
    return st;
  }

  // -- keys --------------------------------------------------------------------------------
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA")) return;
    const named = state.classes.find((c) => state.keys[c] === ev.key);
    const item = state.items[state.current];
    if (named !== undefined) {
      ev.preventDefault(); label(state.current, named);
    } else if (ev.key === "Enter" && ev.shiftKey) {
      ev.preventDefault(); acceptAll();
    } else if (ev.key === "Enter" && item && item.guess && t && !t.closest("button")) {
      ev.preventDefault(); label(state.current, item.guess);
    } else if (ev.key === "s" || ev.key === "S") {
      ev.preventDefault(); label(state.current, "skip");
    } else if (ev.key === "ArrowRight" || ev.key === "ArrowDown" || ev.key === "j") {
      ev.preventDefault(); focusItem(state.current + 1, true);
    } else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp" || ev.key === "k") {
      ev.preventDefault(); focusItem(state.current - 1, true);
    } else if (ev.key === "n" && !$("next").disabled) {
      ev.preventDefault(); nextBatch();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("next").addEventListener("click", nextBatch);
    $("undo").addEventListener("click", undo);
    $("accept-all").addEventListener("click", acceptAll);
    $("batch-size").addEventListener("input", (ev) => { ev.target.dataset.touched = "1"; });
    refresh().then(() => { document.body.dataset.ready = "1"; })
      .catch((err) => { say(err.message); document.body.dataset.ready = "1"; });
  });
})();
