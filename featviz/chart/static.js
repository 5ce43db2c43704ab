// featviz static chart: a plotly figure without frames (the theorem section's charts), drawn with
// the chart's own plotly.js (base.js), so a page with the animation loads one plotly.js, not two.
// Payload (UTF-8 bytes): {"opts": {key, plotly_url, plotly_version, config}, "figure": {data, layout}}

const whenIdle = (fn) =>
  window.requestIdleCallback ? window.requestIdleCallback(fn, { timeout: 3000 }) : setTimeout(fn, 50);

export default function ({ data, parentElement }) {
  const { opts, figure } = JSON.parse(new TextDecoder().decode(data));
  let div = parentElement.__featvizStatic;
  if (!div) {
    div = parentElement.__featvizStatic = document.createElement("div");
    div.className = "featviz-static";
    parentElement.appendChild(div);
    // The column's width changes without a window resize (the sidebar): follow it.
    div.__resizer = new ResizeObserver(() => {
      const P = window.__featvizPlotlyLib;
      if (P && div.__drawn) P.Plots.resize(div).catch(() => {});
    });
    div.__resizer.observe(parentElement);
  }
  const layout = { ...(figure.layout || {}) };
  delete layout.width; // the column's width
  layout.autosize = true;
  div.style.minHeight = (layout.height || 450) + "px";
  loadPlotly(opts.plotly_url, opts.plotly_version)
    // After the page's animation: the first idle moment once plotly.js is there (Safari has no
    // requestIdleCallback: 50 ms later).
    .then((P) => new Promise((resolve) => whenIdle(() => resolve(P))))
    .then((P) => P.react(div, { data: figure.data || [], layout, config: opts.config || {} }))
    .then(() => {
      div.__drawn = true;
      div.dataset.featvizDraws = String(Number(div.dataset.featvizDraws || 0) + 1);
    })
    .catch((e) => {
      console.error("featviz static chart:", e);
      div.textContent = "⚠ " + (e && e.message ? e.message : e);
    });
  return () => {
    div.__resizer.disconnect();
    window.__featvizPlotlyLib?.purge(div);
    div.remove();
    delete parentElement.__featvizStatic;
  };
}
