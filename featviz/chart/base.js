// featviz chart, part 1 of 4 (see chart/__init__.py): the page-wide registries, the event log,
// loading the chart's own plotly.js, plotly JSON helpers.

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
