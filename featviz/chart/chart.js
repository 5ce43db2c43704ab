// featviz animation chart: one Plotly chart per element, kept across reruns and updated in place.
//
// Streamlit (st.components.v2) calls the default export again, with the same parentElement,
// whenever the element's data changes; the chart lives on that element, so a new figure is a
// Plotly.react on the same <div>, never a new chart. Payload (UTF-8 bytes):
//   {"opts": {key, live, trails, trail_frames, path_traces, report_clicks, plotly_url, config,
//             height?, present, present_font}, "figure": {data, layout, frames}}
// present: the presentation view (the chart fills the window, text of at least present_font px,
// large controls; keys: space plays/pauses, ←/→ step a frame, Home/End jump).

const REGISTRY = (window.__featvizCharts ||= new Map()); // key -> Chart (the feed element finds it here)
const PENDING = (window.__featvizPending ||= new Map()); // key -> payload text pushed before the chart existed
const EVENTS = (window.__featvizEvents ||= []); // the charts' last draws and animation events, for a failing test to print

function note(chart, what, extra = {}) {
  EVENTS.push({ t: Math.round(performance.now()), key: chart.key, what, ...extra });
  if (EVENTS.length > 200) EVENTS.splice(0, EVENTS.length - 200);
}

// The chart's own plotly.js, kept apart from window.Plotly: Streamlit's st.plotly_chart loads its
// bundled plotly.js (another version) and sets window.Plotly to it, and that version's
// Plotly.react on a chart drawn by ours dropped the figure's frames (Play then found no frame).
function loadPlotly(url, version) {
  const own = window.__featvizPlotlyLib;
  if (own) return Promise.resolve(own);
  if (!window.__featvizPlotly) {
    // One <script> per page, whatever the number of charts and reruns.
    window.__featvizPlotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = url;
      s.async = true;
      s.onload = () => {
        // The script's last statement set window.Plotly to the library it defined.
        const P = window.Plotly;
        if (!P || (version && P.version !== version)) {
          window.__featvizPlotly = null;
          reject(new Error(`plotly.js ${version} from ${url} did not load (window.Plotly is ${P && P.version})`));
          return;
        }
        window.__featvizPlotlyLib = P;
        resolve(P);
      };
      s.onerror = () => {
        window.__featvizPlotly = null;
        reject(new Error("could not load plotly.js from " + url));
      };
      document.head.appendChild(s);
    });
  }
  return window.__featvizPlotly;
}

// ---- plotly JSON helpers -------------------------------------------------------------------

const DTYPES = {
  f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array, u1c: Uint8ClampedArray,
  i2: Int16Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array,
};

// A plotly array: a plain array, or a base64 typed array {dtype, bdata, shape?} -> {flat, cols}.
function decode(v) {
  if (v == null) return null;
  if (v.__decoded) return v.__decoded;
  let flat = v, cols = 1;
  if (typeof v === "object" && !Array.isArray(v) && v.bdata !== undefined) {
    const bin = atob(v.bdata);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    flat = new DTYPES[v.dtype](bytes.buffer);
    if (v.shape) cols = Number(String(v.shape).split(",")[1] || 1);
  } else if (Array.isArray(v) && Array.isArray(v[0])) {
    cols = v[0].length;
    flat = v.flat();
  }
  const out = { flat, cols, at: (j, c = 0) => flat[j * cols + c], length: flat.length / cols };
  if (typeof v === "object") Object.defineProperty(v, "__decoded", { value: out, enumerable: false });
  return out;
}

const isObj = (v) => v && typeof v === "object" && !Array.isArray(v) && v.bdata === undefined;

function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(base[k]) ? merge(base[k], v) : v;
  return out;
}

const FATES = { circle: "aligned", x: "dead", diamond: "undecided" };

// Every font of a layout (template included) at least `px`; annotations (subplot titles) too.
function enlargeFonts(node, px, depth = 0) {
  if (!node || typeof node !== "object" || depth > 8) return;
  if (Array.isArray(node)) {
    node.forEach((v) => enlargeFonts(v, px, depth + 1));
    return;
  }
  for (const [k, v] of Object.entries(node)) {
    if ((k === "font" || k.endsWith("font")) && v && typeof v === "object" && !Array.isArray(v)) {
      v.size = Math.max(Number(v.size) || 0, px);
    } else if (v && typeof v === "object" && k !== "steps") {
      enlargeFonts(v, px, depth + 1);
    }
  }
}

// The presentation view's layout: the whole window, big text, big Play/Pause and slider, and the
// neuron view large: it takes most of the plot area, the two side panels a strip on its right,
// the training curves hidden (returned in `hidden`: the axes whose traces are hidden too).
const PRESENT_HERO_X = [0, 0.72];
const PRESENT_SIDE_X = [0.8, 1];
const PRESENT_TOP_SCALE = 1.25; // the top band (title, frame line, Play/Pause, slider) grows with its text
const PRESENT_BOTTOM_PX = 100; // the neuron view's tick labels and axis title
const PRESENT_LIFT_PX = 44; // the frame line, Play/Pause and slider move up into the subtitle's room
const PRESENT_TICK_DROP_PX = 30; // the slider's tick labels sit this much lower: below its 12 px ticks

function presentLayout(layout, px, data, heroName, widthPx) {
  const out = JSON.parse(JSON.stringify(layout));
  out.font = { ...(out.font || {}), size: Math.max(out.font?.size || 0, px) };
  for (const a of out.annotations || []) a.font = { ...(a.font || {}), size: Math.max(a.font?.size || 0, px) };
  for (const ax of Object.keys(out).filter((k) => /^(x|y)axis\d*$/.test(k))) {
    out[ax].tickfont = { ...(out[ax].tickfont || {}), size: Math.max(out[ax].tickfont?.size || 0, px) };
    if (out[ax].title && typeof out[ax].title === "object") out[ax].title.font = { ...(out[ax].title.font || {}), size: px };
  }
  enlargeFonts(out, px);
  if (out.title && typeof out.title === "object") {
    out.title.font = { ...(out.title.font || {}), size: Math.round(px * 1.3) };
    delete out.title.subtitle; // the slider's line says what is shown; room for the panels' titles
  }
  // Paper y keeps the top band's px when the plot's height changes: y > 1 is (y - 1) * plot px above it.
  const m0 = out.margin || {};
  const oldPlot = Math.max(1, (layout.height || 800) - (m0.t || 0) - (m0.b || 0));
  const top = Math.round((m0.t || 0) * PRESENT_TOP_SCALE);
  out.height = Math.max(600, window.innerHeight - 40); // the chart alone on screen (scrolled to it)
  const plot = Math.max(200, out.height - top - PRESENT_BOTTOM_PX);
  const rescale = (y) =>
    typeof y === "number" && y > 1 ? 1 + ((y - 1) * oldPlot * PRESENT_TOP_SCALE + PRESENT_LIFT_PX) / plot : y;
  out.width = undefined;
  out.autosize = true;
  out.margin = { ...m0, t: top, b: PRESENT_BOTTOM_PX };
  out.showlegend = false; // the fates panel and the hover say what the markers mean

  // The panels: the neuron view (its trace's axes or scene), the side ones, the curves.
  const hero = data.find((t) => t.name === heroName) || {};
  const heroRef = hero.type === "scatter3d" ? hero.scene || "scene" : hero.xaxis || "x";
  const key = (ref, axis) => (ref.startsWith("scene") ? ref : axis + "axis" + ref.slice(1));
  const titles = (out.annotations || []).filter((a) => a.yanchor === "bottom" && (a.xref ?? "paper") === "paper");
  const moveTitle = (x0, y0, x1, y1) => {
    const a = titles.find((t) => Math.abs(t.x - (x0[0] + x0[1]) / 2) < 0.01 && Math.abs(t.y - y0[1]) < 0.01);
    if (!a) return null;
    if (x1) Object.assign(a, { x: (x1[0] + x1[1]) / 2, y: y1[1] });
    return a;
  };
  const hidden = new Set();
  const heroY = heroRef.startsWith("scene") ? out[heroRef]?.domain?.y : out[key(hero.yaxis || "y", "y")]?.domain;
  const h0 = heroY?.[0] ?? 0; // the neuron view's bottom: panels above it are beside it, below it the curves
  // The side panels' places in the strip: stretched to the neuron view's height, each one's bottom
  // raised where needed so that its tick labels and axis title clear the title of the panel below.
  const boxOf = (k) => {
    const isScene = k.startsWith("scene");
    const xa = out[k];
    const ya = isScene ? null : out[(xa.anchor || "y").replace(/^y/, "yaxis")];
    return { xd: (isScene ? xa.domain?.x : xa.domain) || [0, 1], yd: (isScene ? xa.domain?.y : ya?.domain) || [0, 1] };
  };
  const panelKeys = Object.keys(out).filter((k) => /^xaxis\d*$/.test(k) || /^scene\d*$/.test(k));
  const refOf = (k) => (k.startsWith("scene") ? k : "x" + k.slice(5));
  const sideY = new Map();
  for (const k of panelKeys) {
    const { yd } = boxOf(k);
    if (refOf(k) !== heroRef && yd[1] > h0 + 1e-6) sideY.set(k, yd.map((v) => Math.max(0, (v - h0) / (1 - h0))));
  }
  const sideGap = (PRESENT_SIDE_GAP_EM * px + PRESENT_SIDE_GAP_PX) / plot;
  for (const [k, y] of sideY) {
    const below = [...sideY.values()].filter((o) => o !== y && o[1] <= y[0] + 1e-6).map((o) => o[1]);
    if (!below.length) continue;
    const need = Math.max(...below) + sideGap;
    if (y[0] < need) sideY.set(k, [Math.min(need, y[1] - 0.08), y[1]]);
  }
  for (const k of panelKeys) {
    const isScene = k.startsWith("scene");
    const ref = refOf(k);
    const xa = out[k];
    const ya = isScene ? null : out[(xa.anchor || "y").replace(/^y/, "yaxis")];
    const { xd, yd } = boxOf(k);
    const set = (x, y) => {
      if (isScene) out[k].domain = { x, y };
      else {
        xa.domain = x;
        if (ya) ya.domain = y;
        for (const [yk, yv] of Object.entries(out)) if (/^yaxis\d*$/.test(yk) && yv.overlaying && ya && yv.overlaying === xa.anchor) yv.domain = y;
      }
    };
    if (ref === heroRef) {
      moveTitle(xd, yd, PRESENT_HERO_X, [0, 1]);
      set(PRESENT_HERO_X, [0, 1]);
    } else if (yd[1] > h0 + 1e-6) {
      // A side panel beside the neuron view: the same place in the strip, stretched to its height.
      const y = sideY.get(k);
      moveTitle(xd, yd, PRESENT_SIDE_X, y);
      set(PRESENT_SIDE_X, y);
    } else {
      const a = moveTitle(xd, yd);
      if (a) a.visible = false;
      hidden.add(ref);
      // Out of the way: a hidden panel still paints its background over the panels it overlaps.
      set([0, 0.001], [0, 0.001]);
      if (!isScene) {
        xa.visible = false;
        if (ya) ya.visible = false;
        for (const [yk, yv] of Object.entries(out)) {
          if (/^yaxis\d*$/.test(yk) && yv.overlaying && ya && yv.overlaying === xa.anchor) {
            yv.visible = false;
            hidden.add("y" + yk.slice(5));
          }
        }
      }
    }
  }
  for (const a of out.annotations || []) if (!titles.includes(a)) a.y = rescale(a.y);
  // A 3-D neuron view's u₂ axis is labelled at 0 only: at this size its end labels run into u₁'s
  // and u₃'s where the axes meet (the camera looks from +u₁, +u₂, +u₃).
  if (out[heroRef]?.yaxis) out[heroRef].yaxis = { ...out[heroRef].yaxis, tickvals: [0], ticktext: ["0"] };
  // A short window (800 px) leaves the 3-D view less height than width: seen from further out, its
  // bottom tick labels stay whole.
  const eye = out[heroRef]?.camera?.eye;
  if (heroRef.startsWith("scene") && eye && plot < PRESENT_SHORT_PLOT_PX) {
    const f = PRESENT_SHORT_EYE_SCALE;
    out[heroRef].camera = { ...out[heroRef].camera, eye: { x: eye.x * f, y: eye.y * f, z: eye.z * f } };
  }
  // The slider starts right of Play and Pause, whose text grows with px (a 1280 px window has less room).
  const plotW = Math.max(300, (widthPx || window.innerWidth) - (m0.l || 0) - (m0.r || 0));
  const buttonsPx = PRESENT_BUTTON_CHARS * 0.62 * Math.round(px * 1.25) + PRESENT_BUTTON_PAD_PX;
  const sliderX = Math.min(0.5, Math.max(PRESENT_SLIDER_X, buttonsPx / plotW));
  const sliderLen = 1 - sliderX;
  moveSliderTicks(out, sliderX, sliderLen, px);
  out.sliders = (out.sliders || []).map((s) => ({
    ...s, y: rescale(s.y), font: { ...(s.font || {}), size: px }, len: sliderLen, x: sliderX, pad: { ...(s.pad || {}), t: 10 },
    ticklen: 12, minorticklen: 6, tickwidth: 2,
    currentvalue: { ...(s.currentvalue || {}), font: { ...(s.currentvalue?.font || {}), size: px + 2 } },
  }));
  out.updatemenus = (out.updatemenus || []).map((m) => ({
    ...m, y: rescale(m.y), font: { ...(m.font || {}), size: Math.round(px * 1.25) }, pad: { r: 24, t: 0, b: 12, l: 12 },
  }));
  return { layout: out, hidden };
}

const PRESENT_SLIDER_X = 0.24; // at least: paper x where the slider (and the frame line above it) starts
const PRESENT_BUTTON_CHARS = 14; // "▶ Play" and "❚❚ Pause"
const PRESENT_BUTTON_PAD_PX = 110; // the buttons' padding and borders, and a gap before the frame line
const PRESENT_SIDE_GAP_EM = 4.8; // a side panel's tick labels, axis title and the next panel's title, in px of text
const PRESENT_SIDE_GAP_PX = 24;
const PRESENT_SHORT_PLOT_PX = 640;
const PRESENT_SHORT_EYE_SCALE = 1.15;

// The slider's tick labels (annotations named "slider tick") follow the slider to x0, len, and
// sit below its larger current-value text and ticks.
function moveSliderTicks(layout, x0, len, px) {
  const s = layout.sliders?.[0];
  if (!s) return;
  const [ox, olen] = [s.x ?? 0, s.len ?? 1];
  // Two lines of bigger text above the rail, longer ticks, then the labels' taller text.
  const extra = 2 * (px + 2 - (s.currentvalue?.font?.size || 14)) + 16 + PRESENT_TICK_DROP_PX;
  for (const a of layout.annotations || []) {
    if (a.name !== "slider tick") continue;
    a.x = x0 + (len * (a.x - ox)) / olen;
    a.yshift = (a.yshift || 0) - extra;
  }
}

// A trace drawn on a hidden panel of the presentation view.
function onHidden(t, hidden) {
  const ref = t.type === "scatter3d" ? t.scene || "scene" : t.xaxis || "x";
  return hidden.has(ref) || hidden.has(t.yaxis || "y");
}

// ---- the width the page gives the chart, reported to Python (the figure's layout follows it) ---

const WIDTH_STEP_PX = 100; // a smaller change keeps the figure as built for the last width
const WIDTH_DEBOUNCE_MS = 300;

// Report the chart's width when it differs from the one its figure was built for (opts.width)
// or last reported by more than WIDTH_STEP_PX; Python rebuilds the figure for it on the rerun.
function reportWidth(chart, setStateValue) {
  // Not drawn yet, or its figure was not built for a width (nothing would follow a report).
  if (chart.opts?.width == null) return;
  const w = Math.round(chart.root.clientWidth);
  const known = chart.reportedWidth ?? chart.opts.width;
  if (!w || !setStateValue || Math.abs(w - known) <= WIDTH_STEP_PX) return;
  chart.reportedWidth = w;
  chart.root.dataset.featvizWidth = String(w);
  note(chart, "report width", { width: w, built: chart.opts.width });
  setStateValue("width", w);
}

// Watch the chart's width (debounced); returns the function that stops watching.
function watchWidth(chart, getSetter) {
  let timer = null;
  const check = () => {
    clearTimeout(timer);
    timer = setTimeout(() => reportWidth(chart, getSetter()), WIDTH_DEBOUNCE_MS);
  };
  const obs = new ResizeObserver(check);
  obs.observe(chart.root);
  return () => {
    clearTimeout(timer);
    obs.disconnect();
  };
}

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
