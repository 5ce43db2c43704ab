// featviz chart, part 3 of 4: the width the chart reports to Python.

// ---- the width the page gives the chart, reported to Python (the figure's layout follows it) ---

const WIDTH_STEP_PX = 100; // a smaller change keeps the figure as built for the last width
const WIDTH_DEBOUNCE_MS = 300;
const WIDTH_COOKIE = "featviz_chart_width"; // chart/__init__.py WIDTH_COOKIE: a new tab's first figure is built for it
const WIDTH_COOKIE_DAYS = 365;

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
  // The next page this browser opens builds its first figure for this width (the server reads
  // the cookie when the page connects): one draw instead of a draw, a report and a redraw. Not
  // the presentation view's: it fills the window only while it is on.
  if (!chart.opts.present) {
    document.cookie = `${WIDTH_COOKIE}=${w}; path=/; max-age=${WIDTH_COOKIE_DAYS * 86400}; SameSite=Lax`;
  }
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
