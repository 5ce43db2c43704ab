// featviz animation chart feed: hands a figure pushed within a script run to the chart of its key.
// (Streamlit allows one element per key and run; this keyless element carries the later ones.)
export default function ({ data }) {
  const text = new TextDecoder().decode(data);
  const key = JSON.parse(text.slice(0, text.indexOf(',"figure":')) + "}").opts.key;
  const chart = (window.__featvizCharts ||= new Map()).get(key);
  if (chart) chart.push(text);
  else (window.__featvizPending ||= new Map()).set(key, text);
}
