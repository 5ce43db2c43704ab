// featviz chart, part 2 of 4: the presentation view's layout.

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
