// featviz animation chart: one Plotly chart per element, kept across reruns and updated in place.
//
// Streamlit (st.components.v2) calls the default export again, with the same parentElement,
// whenever the element's data changes; the chart lives on that element, so a new figure is a
// Plotly.react on the same <div>, never a new chart. Payload (UTF-8 bytes):
//   {"opts": {key, live, trails, trail_frames, path_traces, report_clicks, plotly_url, config,
//             height?, present, present_font}, "figure": {data, layout, frames}}
// present: the presentation view (the chart fills the window, text of at least present_font px,
// large controls; keys: space plays/pauses, ←/→ step a frame, Home/End jump).

// Part 4 of 4 (the last; featviz/chart/__init__.py joins the parts in order into one module).
// ---- the chart -----------------------------------------------------------------------------

class Chart {
  constructor(root, key) {
    this.key = key;
    this.root = root;
    this.div = document.createElement("div");
    this.div.className = "featviz-chart";
    this.note = document.createElement("div");
    this.note.className = "featviz-chart-note";
    this.note.style.cssText = "min-height:1.4em;font-size:0.85rem;color:#333;padding:0 0 2px 4px;";
    root.appendChild(this.note);
    root.appendChild(this.div);
    // The page's width changes without a window resize (the sidebar, the presentation view).
    this.resizer = new ResizeObserver(() => {
      if (this.Plotly && this.draws) this.Plotly.Plots.resize(this.div).catch(() => {});
    });
    this.resizer.observe(root);
    this.pending = null;
    this.busy = false;
    this.selected = null; // {neuron}
    this.draws = 0;
    this.shownText = null;
    this.setTriggerValue = null;
  }

  // Latest wins: while one figure is drawn, later ones replace each other in the queue.
  push(text) {
    if (text === this.shownText) return;
    this.pending = text;
    if (!this.busy) this.drain();
  }

  async drain() {
    this.busy = true;
    while (this.pending !== null) {
      const text = this.pending;
      this.pending = null;
      try {
        await this.show(text);
        this.shownText = text;
      } catch (e) {
        console.error("featviz chart:", e);
        this.note.textContent = "⚠ " + (e && e.message ? e.message : e);
      }
    }
    this.busy = false;
  }

  async show(text) {
    const { opts, figure } = JSON.parse(text);
    if (opts.patch) return this.applyPatch(opts, figure);
    return this.draw(opts, figure);
  }

  // A live patch: the current state of a training run in place of the last frame's neuron
  // traces and slider line. Restyled in place (a full Plotly.react of the figure, 3-D scene
  // included, costs the browser far more); the stored figure's last frame follows, so the next
  // full draw or a trail starts from it.
  async applyPatch(opts, patch) {
    const fig = this.lastFigure;
    const frames = fig?.frames || [];
    const gd = this.div;
    if (!frames.length || !gd.data) return;
    const last = frames[frames.length - 1];
    const frame = { ...last, data: last.data.slice() };
    const restyles = [];
    for (const [name, d] of Object.entries(patch.traces || {})) {
      const j = (last.traces || []).indexOf(fig.data.findIndex((t) => t.name === name));
      if (j >= 0) frame.data[j] = merge(last.data[j], d);
      const idx = gd.data.findIndex((t) => t.name === name);
      if (idx < 0) continue;
      const up = { x: [d.x], y: [d.y], customdata: [d.customdata] };
      if (d.z) up.z = [d.z];
      for (const k of ["color", "symbol", "size"]) if (d.marker?.[k] !== undefined) up["marker." + k] = [d.marker[k]];
      restyles.push([up, [idx]]);
    }
    fig.frames = frames.slice(0, -1).concat([frame]);
    const atLast = (gd._fullLayout?.sliders?.[0]?.active ?? frames.length - 1) === frames.length - 1;
    if (!atLast || (opts.trails ?? this.opts?.trails)) {
      // Not showing the last frame (the user moved the slider), or trails: draw it all again.
      const { patch: _, ...rest } = opts;
      return this.draw({ ...this.opts, ...rest, live: true }, fig);
    }
    note(this, "patch", { frames: frames.length });
    for (const [up, idx] of restyles) await this.Plotly.restyle(gd, up, idx);
    const steps = gd.layout.sliders?.[0]?.steps;
    if (steps?.length && patch.label) await this.Plotly.relayout(gd, { [`sliders[0].steps[${steps.length - 1}].label`]: patch.label });
    this.draws += 1;
    gd.dataset.featvizDraws = String(this.draws);
    gd.dataset.featvizPatches = String(Number(gd.dataset.featvizPatches || 0) + 1);
  }

  async draw(opts, figure) {
    this.opts = opts;
    this.lastFigure = figure;
    let layout = { ...(figure.layout || {}) };
    if (opts.height) layout.height = opts.height;
    let hidden = null;
    if (opts.present) {
      const font = opts.present_font || 24;
      ({ layout, hidden } = presentLayout(layout, font, figure.data || [], opts.path_traces[0], this.root.clientWidth));
    }
    this.div.classList.toggle("featviz-present", !!opts.present);
    this.note.style.fontSize = opts.present ? (opts.present_font || 24) + "px" : "0.85rem";
    if (layout.uirevision === undefined) layout.uirevision = opts.key; // zoom and camera survive updates
    if (!this.draws && layout.height) this.div.style.minHeight = layout.height + "px";
    const Plotly = await loadPlotly(opts.plotly_url, opts.plotly_version);
    if (!this.Plotly) note(this, "plotly ready");
    this.Plotly = Plotly;
    const base = figure.data || [];
    let frames = figure.frames || [];
    this.frames = frames;
    this.baseData = base;
    this.pathIdx = base.map((t, i) => (opts.path_traces.includes(t.name) ? i : -1)).filter((i) => i >= 0);
    this.labels = new Map();
    for (const s of layout.sliders?.[0]?.steps || []) this.labels.set(String(s.args?.[0]?.[0]), s.label);
    if (this.selected && !(this.selected.neuron < this.pointCount())) this.selected = null;

    let data = base.slice();
    if (opts.trails && frames.length) [data, frames] = this.withTrails(data, frames, opts.trail_frames);
    this.nBase = data.length;
    if (opts.live && frames.length) {
      // Show the latest snapshot at once: its frame's traces as the data, the slider on it.
      const last = frames[frames.length - 1];
      (last.traces || []).forEach((t, j) => (data[t] = merge(data[t], last.data[j])));
      if (layout.sliders?.length) layout.sliders = [{ ...layout.sliders[0], active: frames.length - 1 }, ...layout.sliders.slice(1)];
    }
    data = data.concat(this.pathTraces());
    if (hidden) data = data.map((t) => (onHidden(t, hidden) ? { ...t, visible: false } : t));
    note(this, "draw", { width: opts.width, live: !!opts.live, frames: frames.length, active: layout.sliders?.[0]?.active });
    await Plotly.react(this.div, { data, layout, frames, config: opts.config || {} });
    // The figure's own height holds the chart's place in the page: after a redraw plotly's
    // container was sometimes measured 0 px tall, and what follows the chart covered it.
    this.div.style.minHeight = layout.height ? layout.height + "px" : "";
    this.listen();
    if (opts.present) {
      this.listenKeys();
      // The chart alone on screen, after every draw: the page above it is still growing while the
      // first ones land (a 1280x800 window showed the page's header and half the chart).
      requestAnimationFrame(() => this.root.scrollIntoView({ block: "start" }));
    }
    this.current = layout.sliders?.[0]?.active || 0;
    this.div.dataset.featvizFrame = String(this.current);
    this.draws += 1;
    this.div.dataset.featvizDraws = String(this.draws);
    this.writeNote();
  }

  pointCount() {
    const f = this.frames?.[0];
    if (!f) return 0;
    const j = (f.traces || []).indexOf(this.pathIdx[0]);
    return j < 0 ? 0 : decode(f.data[j].x).length;
  }

  // Trails: for each neuron view, one trace per age (markers, fading) and one line through the
  // last few positions; every frame carries their data, so Play and the slider move them too.
  withTrails(data, frames, n) {
    const views = this.pathIdx.filter((i) => (frames[0].traces || []).includes(i));
    const extra = [];
    const framesOut = frames.map((f) => ({ ...f, traces: [...(f.traces || [])], data: [...f.data] }));
    for (const vi of views) {
      const tr = data[vi];
      const is3d = tr.type === "scatter3d";
      const ref = is3d ? { scene: tr.scene || "scene" } : { xaxis: tr.xaxis || "x", yaxis: tr.yaxis || "y" };
      const mk = tr.marker || {};
      const scale = { colorscale: mk.colorscale, cmin: mk.cmin, cmax: mk.cmax, showscale: false };
      const lineIdx = data.length + extra.length;
      extra.push({ type: tr.type, mode: "lines", ...ref, name: "trail", showlegend: false, hoverinfo: "skip",
        line: { color: "#888888", width: is3d ? 2 : 1 }, opacity: 0.45, x: [], y: [], ...(is3d ? { z: [] } : {}) });
      const ageIdx = [];
      for (let a = 1; a <= n; a++) {
        ageIdx.push(data.length + extra.length);
        extra.push({ type: tr.type, mode: "markers", ...ref, name: "trail", showlegend: false, hoverinfo: "skip",
          opacity: 0.55 * (1 - (a - 1) / n), marker: { ...scale, size: is3d ? 2.5 : 4, symbol: "circle" },
          x: [], y: [], ...(is3d ? { z: [] } : {}) });
      }
      const pos = frames.map((f) => {
        const j = (f.traces || []).indexOf(vi);
        const d = f.data[j] || {};
        return { x: decode(d.x), y: decode(d.y), z: is3d ? decode(d.z) : null, c: decode(d.marker?.color) };
      });
      framesOut.forEach((f, fi) => {
        const line = { x: [], y: [], z: [] };
        const m = pos[fi].x ? pos[fi].x.length : 0;
        const lo = Math.max(0, fi - n);
        for (let j = 0; j < m; j++) {
          for (let g = lo; g <= fi; g++) {
            line.x.push(pos[g].x.at(j));
            line.y.push(pos[g].y.at(j));
            if (is3d) line.z.push(pos[g].z.at(j));
          }
          line.x.push(null); line.y.push(null); if (is3d) line.z.push(null);
        }
        f.traces.push(lineIdx);
        f.data.push(is3d ? line : { x: line.x, y: line.y });
        ageIdx.forEach((ti, a0) => {
          const g = fi - (a0 + 1);
          const p = g >= 0 ? pos[g] : null;
          const pts = { x: p ? Array.from(p.x.flat) : [], y: p ? Array.from(p.y.flat) : [] };
          if (is3d) pts.z = p ? Array.from(p.z.flat) : [];
          pts.marker = { color: p && p.c ? Array.from(p.c.flat) : [] };
          f.traces.push(ti);
          f.data.push(pts);
        });
      });
    }
    // The first frame's trail data as the traces' initial data.
    const first = framesOut[0];
    extra.forEach((t, k) => {
      const j = first.traces.indexOf(data.length + k);
      if (j >= 0) extra[k] = merge(t, first.data[j]);
    });
    return [data.concat(extra), framesOut];
  }

  // The selected neuron's whole path over the frames, in every neuron view.
  pathTraces() {
    if (!this.selected) return [];
    const j = this.selected.neuron;
    const out = [];
    const summary = [];
    for (const vi of this.pathIdx) {
      const tr = this.baseData[vi];
      const is3d = tr.type === "scatter3d";
      const xs = [], ys = [], zs = [], text = [];
      let last = null;
      for (const f of this.frames) {
        const k = (f.traces || []).indexOf(vi);
        if (k < 0) continue;
        const d = f.data[k];
        const x = decode(d.x), y = decode(d.y), z = is3d ? decode(d.z) : null, cd = decode(d.customdata);
        if (!x || j >= x.length) continue;
        const sym = d.marker?.symbol?.[j];
        const info = {
          frame: this.labels.get(String(f.name)) ?? `frame ${f.name}`,
          fate: FATES[sym] || "undecided",
          angle: cd ? cd.at(j, 0) : NaN,
          mass: cd ? cd.at(j, 1) : NaN,
          teacher: cd ? cd.at(j, 4) : NaN,
          code: decode(d.marker?.color)?.at(j),
        };
        xs.push(x.at(j)); ys.push(y.at(j)); if (is3d) zs.push(z.at(j));
        text.push(`neuron ${j} · ${info.fate}<br>mass ${info.mass.toPrecision(3)} · angle ${info.angle.toFixed(2)}°<br>${info.frame}`);
        last = info;
      }
      if (!xs.length) continue;
      const scale = tr.marker?.colorscale;
      const color = scale && last.code != null ? scale[Math.round(last.code)]?.[1] || "#000000" : "#000000";
      const ref = is3d ? { scene: tr.scene || "scene" } : { xaxis: tr.xaxis || "x", yaxis: tr.yaxis || "y" };
      out.push({
        type: tr.type, mode: "lines+markers", ...ref, name: `path of neuron ${j}`, showlegend: false,
        x: xs, y: ys, ...(is3d ? { z: zs } : {}), text, hovertemplate: "%{text}<extra></extra>",
        line: { color, width: is3d ? 5 : 2.5 }, marker: { color, size: is3d ? 2.5 : 4, line: { width: 0 } },
      });
      summary.push(last);
    }
    this.pathInfo = summary[0] || null;
    return out;
  }

  writeNote() {
    const p = this.pathInfo;
    if (!this.selected || !p) {
      this.note.textContent = "Click a neuron to draw its path over all frames.";
      return;
    }
    const fate = p.fate === "aligned" ? `aligned to ±w*${Math.round(p.teacher)}` : p.fate;
    this.note.textContent =
      `neuron ${this.selected.neuron}: ${fate} at the last frame, mass ${p.mass.toPrecision(3)}, ` +
      `angle ${p.angle.toFixed(2)}° to the nearest teacher line. Click empty space to clear.`;
  }

  async select(sel) {
    this.selected = sel;
    const gd = this.div;
    const n = gd.data.length;
    if (n > this.nBase) await this.Plotly.deleteTraces(gd, Array.from({ length: n - this.nBase }, (_, i) => this.nBase + i));
    const paths = this.pathTraces();
    if (paths.length) await this.Plotly.addTraces(gd, paths);
    this.writeNote();
    gd.dataset.featvizSelected = sel ? String(sel.neuron) : "";
    if (this.opts.report_clicks && this.setTriggerValue) {
      this.setTriggerValue("neuron", sel ? { neuron: sel.neuron, trace: sel.trace } : null);
    }
  }

  listen() {
    if (this.listening) return;
    this.listening = true;
    const gd = this.div;
    gd.on("plotly_buttonclicked", (ev) => note(this, "button", { label: ev?.button?.label }));
    gd.on("plotly_animated", () => note(this, "animated"));
    gd.on("plotly_animationinterrupted", () => note(this, "interrupted"));
    gd.on("plotly_click", (ev) => {
      const p = ev?.points?.[0];
      if (!p || !this.pathIdx.includes(p.curveNumber)) return;
      this.hitAt = performance.now();
      this.select({ neuron: p.pointNumber, trace: p.data.name });
    });
    // A click on the plot area that hit no neuron clears the path.
    gd.addEventListener("click", (ev) => {
      const t = ev.target;
      const onArea = t?.classList?.contains("nsewdrag") || t?.closest?.(".gl-container");
      if (!onArea || !this.selected) return;
      // Plotly hit-tests by hover: a click with a point under the cursor is a neuron's click
      // (plotly_click), whatever the order of the events.
      if (gd._hoverdata && gd._hoverdata.length) return;
      setTimeout(() => {
        if (this.hitAt && performance.now() - this.hitAt < 400) return;
        this.select(null);
      }, 50);
    });
  }

  // The presentation view's keys: space plays/pauses, ←/→ step a frame, Home/End jump.
  listenKeys() {
    if (this.onKey) return;
    const gd = this.div;
    const track = (name) => {
      const i = (this.frames || []).findIndex((f) => String(f.name) === String(name));
      if (i >= 0) {
        this.current = i;
        gd.dataset.featvizFrame = String(i);
      }
    };
    gd.on("plotly_animatingframe", (ev) => track(ev?.name));
    gd.on("plotly_sliderchange", (ev) => track(ev?.step?.args?.[0]?.[0]));
    gd.on("plotly_animated", () => (this.playing = false));
    gd.on("plotly_animationinterrupted", () => (this.playing = false));
    this.onKey = (ev) => {
      if (!this.opts?.present || !this.frames?.length || !document.body.contains(gd)) return;
      const t = ev.target;
      if (t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT", "BUTTON"].includes(t.tagName))) return;
      const last = this.frames.length - 1;
      const menu = gd.layout.updatemenus?.[0]?.buttons || [];
      const stepArgs = gd.layout.sliders?.[0]?.steps?.[0]?.args?.[1] || { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } };
      const go = (i) => {
        i = Math.max(0, Math.min(last, i));
        this.playing = false;
        this.current = i;
        gd.dataset.featvizFrame = String(i);
        this.Plotly.animate(gd, [this.frames[i].name], stepArgs).catch(() => {});
      };
      if (ev.key === " " || ev.code === "Space") {
        if (this.playing) {
          const pause = menu[1]?.args || [[null], { mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 } }];
          this.playing = false;
          this.Plotly.animate(gd, pause[0], pause[1]).catch(() => {});
        } else if (menu[0]) {
          if (this.current >= last) go(0);
          this.playing = true;
          this.Plotly.animate(gd, menu[0].args[0], { ...menu[0].args[1], fromcurrent: true }).catch(() => {});
        }
      } else if (ev.key === "ArrowRight") go(this.current + 1);
      else if (ev.key === "ArrowLeft") go(this.current - 1);
      else if (ev.key === "Home") go(0);
      else if (ev.key === "End") go(last);
      else return;
      ev.preventDefault();
    };
    document.addEventListener("keydown", this.onKey);
  }

  destroy() {
    if (this.onKey) document.removeEventListener("keydown", this.onKey);
    this.resizer.disconnect();
    if (this.Plotly) this.Plotly.purge(this.div);
    this.div.remove();
    this.note.remove();
  }
}

export default function ({ data, parentElement, setTriggerValue, setStateValue }) {
  const text = new TextDecoder().decode(data);
  let chart = parentElement.__featvizChart;
  if (!chart) {
    const key = JSON.parse(text.slice(0, text.indexOf(',"figure":')) + "}").opts.key;
    chart = parentElement.__featvizChart = new Chart(parentElement, key);
    note(chart, "mount");
    chart.unwatchWidth = watchWidth(chart, () => chart.setStateValue);
    REGISTRY.set(key, chart);
  }
  chart.setTriggerValue = setTriggerValue;
  chart.setStateValue = setStateValue;
  chart.push(text);
  const early = PENDING.get(chart.key);
  if (early) {
    PENDING.delete(chart.key);
    chart.push(early);
  }
  return () => {
    if (REGISTRY.get(chart.key) === chart) REGISTRY.delete(chart.key);
    chart.unwatchWidth?.();
    chart.destroy();
    delete parentElement.__featvizChart;
  };
}
