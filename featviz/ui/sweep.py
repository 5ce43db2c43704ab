"""The Sweep page's logic: the sweep in its link, the presets, and sweeps trained in the background.

A sweep's link is its base config's parameters plus ``sweep.x`` (and optionally ``sweep.y``),
each a grid axis as featviz.sweep reads it (``lam=log:1e-3:1e-1:5``, ``m=5,10,20,40``), and
``sweep.color``, the outcome the heatmap shows. Sweeps train in a background thread shared by
every session of the server (like single runs in featviz.jobs); pages poll it with a progress
bar and a Cancel button. Cells land in the disk cache one chunk at a time, so a cancelled sweep
keeps its finished cells and a repeated one starts from them. With FEATVIZ_RAY_ADDRESS set,
chunks go to that Ray cluster (featviz.ray_backend) instead of this process.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import streamlit as st

from featviz import sweep
from featviz.budget import BudgetError
from featviz.config import PARAMS, Config, ConfigError, parse_lenient, reason
from featviz.engine import Cancelled
from featviz.figures import OUTCOME_LABELS
from featviz.figures.sweep import value_text

X, Y, COLOR = "sweep.x", "sweep.y", "sweep.color"
SWEEP_KEYS = (X, Y, COLOR)
COLORS = tuple(OUTCOME_LABELS)  # the outcomes a heatmap can show
DEFAULT_X = "lam=0,0.001,0.003,0.01,0.03,0.1"
DEFAULT_COLOR = "aligned_mass"
PAGE_CHUNK = 16  # cells per batch on the page: progress and Cancel answer within a chunk
RAY_ENV = "FEATVIZ_RAY_ADDRESS"  # a Ray cluster's address: the page's sweeps run there
AXIS_HELP = (
    "A parameter and its values: a list `lam=0,0.01,0.03`, or a range with both ends included, "
    "linear `init=lin:0.1:1:4` or log-spaced `lam=log:0.001:0.1:5`. Any numeric parameter: "
    + ", ".join(sweep.NUMERIC_PARAMS)
    + f". At most {sweep.MAX_CELLS} cells."
)


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep link holds: the base config, one or two axes as written, the colour outcome."""

    base: Config
    x: str
    y: str = ""
    color: str = DEFAULT_COLOR

    @property
    def axes(self) -> list[str]:
        return [t.strip() for t in (self.x, self.y) if t.strip()]

    def link(self) -> dict[str, str]:
        axes = dict(zip((X, Y), self.axes, strict=False))
        return self.base.to_mapping() | axes | {COLOR: self.color}


@dataclass(frozen=True)
class Preset:
    title: str
    spec: SweepSpec
    explanation: str


# Small grids (25-42 cells, a few seconds here once numba has compiled) whose pictures show the
# paper's regimes; constant λ (lam_decay=1) so λ is the one in force at the end.
_CONSTANT_LAM = Config(lam_decay=1.0, epochs=4, steps=500, lr=0.1)
PRESETS: dict[str, Preset] = {
    "recovery": Preset(
        "λ × width: the recovery region",
        SweepSpec(
            _CONSTANT_LAM.replace(init=0.5),
            "lam=0,0.001,0.003,0.01,0.03,0.1,0.3",
            "m=2,3,5,10,20,40",
            "captured_error",
        ),
        "Each cell trains a student of width m on k = 3 teachers with weight decay λ; the colour is the "
        "worst error of the mass captured on a teacher line. Recovery needs a wide enough student (m ≥ k: "
        "the m = 2 row misses a teacher whatever λ), a λ that is not too large (from λ = 0.3 every neuron "
        "dies and nothing is captured) and, for wide students, a λ that is not zero: without it the extra "
        "neurons keep mass off the teacher lines (at λ = 0 the error jumps from about 0 at m = 3 to 0.1–0.2 "
        "from m = 10 on). In between, the error is mostly the shrinkage that weight decay itself causes, "
        "growing with λ.",
    ),
    "lazy": Preset(
        "λ × init: lazy training against feature learning",
        SweepSpec(
            _CONSTANT_LAM.replace(lr=0.05),
            "lam=0,0.001,0.003,0.01,0.03,0.1",
            "init=log:0.01:1:5",
            "aligned_mass",
        ),
        "The colour is the fraction of the student's mass within 5° of a teacher line. From a small "
        "initialisation the neurons move far and align with the teachers (feature learning) even without "
        "weight decay. From a large one they barely move relative to their size and the mass stays spread "
        "over random directions (the lazy regime, close to a fixed random-feature model): at init = 1 and "
        "λ = 0 only a small fraction is aligned. Weight decay pulls the student out of the lazy regime: "
        "along each row the aligned fraction grows with λ.",
    ),
    "lam2": Preset(
        "The λ² law: final mse against λ",
        SweepSpec(_CONSTANT_LAM.replace(steps=1000), "lam=log:0.004:0.1:6", "", "mse"),
        "With weight decay λ the student settles at the regularised optimum, not at the teacher: each "
        "captured mass is shrunk by an amount proportional to λ, so the population mse at the end grows "
        "as λ². On log–log axes the final mse is a straight line of slope 2 (the fitted slope is in the "
        "mse panel's title) and mse/λ² is flat. At very small λ a run of fixed length has not converged "
        "yet, and mse/λ² rises.",
    ),
}


def preset_of(spec: SweepSpec) -> str | None:
    """The preset whose sweep this is, if any."""
    return next((slug for slug, p in PRESETS.items() if p.spec == spec), None)


def default_spec(base: Config) -> SweepSpec:
    return SweepSpec(base, DEFAULT_X)


def spec_from_link(link: Mapping[str, str], fallback: Config) -> tuple[SweepSpec, list[str]]:
    """(spec, messages) from a link: never raises. The base is the link's parameters (else
    fallback); a missing axis gives the default axis; a bad colour the default colour."""
    messages = []
    for key in sorted(link):
        if key not in PARAMS and key not in SWEEP_KEYS:
            messages.append(
                f"Link parameter `{key}` is not known (a config parameter or {', '.join(SWEEP_KEYS)}); ignored."
            )
    known = {k: v for k, v in link.items() if k in PARAMS}
    base, base_messages = parse_lenient(known) if known else (fallback, [])
    color = link.get(COLOR, DEFAULT_COLOR)
    if color not in COLORS:
        messages.append(
            f"`{COLOR}`: {color[:40]!r} is not an outcome (one of {', '.join(COLORS)}); showing {DEFAULT_COLOR}."
        )
        color = DEFAULT_COLOR
    x = link.get(X, "").strip()
    y = link.get(Y, "").strip()
    if not x and y:
        x, y = y, ""
    return SweepSpec(base, x or DEFAULT_X, y, color), base_messages + messages


def make_grid(spec: SweepSpec) -> tuple[sweep.Grid | None, str]:
    """(grid, '') or (None, a message naming what is wrong and what to change)."""
    try:
        return sweep.make_grid(spec.base, spec.axes), ""
    except ConfigError as e:
        what = "the grid" if e.param == "grid" else f"`{e.param}`"
        return None, f"This sweep cannot run: in {what}, {reason(e)}."
    except BudgetError as e:
        return None, str(e)


def playground_link(cfg: Config) -> str:
    """The cell's ordinary Playground link (the app's root page)."""
    from urllib.parse import urlencode

    url = (st.context.url or "http://localhost:8501/").split("?")[0]
    root = url[: -len("sweep")] if url.endswith("/sweep") else url
    return root + "?" + urlencode(cfg.to_mapping())


# ---- sweeps in the background -----------------------------------------------------------

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"


@dataclass
class SweepJob:
    grid: sweep.Grid
    total: int
    done: int = 0
    cached: int = -1  # cells found in the cache, known at the first progress report
    state: str = RUNNING
    result: sweep.SweepResult | None = None
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    done_event: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float) -> bool:
        return self.done_event.wait(timeout)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / max(self.total, 1))

    def progress_text(self) -> str:
        elapsed = time.monotonic() - self.started
        text = f"Sweep: {self.done} of {self.total} cells"
        if self.cached > 0:
            text += f" ({self.cached} from the cache)"
        text += f" · {elapsed:.1f} s"
        trained = self.done - max(self.cached, 0)
        if trained > 0 and self.done < self.total:
            text += f" · about {elapsed / trained * (self.total - self.done):.0f} s left"
        return text

    def run(self) -> None:
        def progress(done: int, total: int) -> None:
            if self.cached < 0:
                self.cached = done
            self.done, self.total = done, total
            if self.cancel_event.is_set():
                raise Cancelled("sweep cancelled")

        try:
            address = os.environ.get(RAY_ENV, "").strip()
            executor = None
            if address:
                from featviz import ray_backend

                executor = ray_backend.executor(address)
            self.result = sweep.run_sweep(self.grid, chunk=PAGE_CHUNK, executor=executor, progress=progress)
            self.state = DONE
        except Cancelled:
            self.state = CANCELLED
        except Exception as e:  # noqa: BLE001 - a failed sweep reports; it never takes the server down
            self.error = f"{type(e).__name__}: {e}"
            self.state = FAILED
        finally:
            self.done_event.set()


class SweepJobs:
    """The server's sweeps by grid: shared by sessions; finished ones kept (LRU) for reopened links."""

    def __init__(self, keep: int = 16):
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, SweepJob] = OrderedDict()
        self._keep = keep

    def submit(self, grid: sweep.Grid) -> SweepJob:
        key = grid_key(grid)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state in (RUNNING, DONE):
                self._jobs.move_to_end(key)
                return job
            job = SweepJob(grid, total=len(grid.cells()))
            self._jobs[key] = job
            while len(self._jobs) > self._keep:
                oldest = next((k for k, j in self._jobs.items() if j.state != RUNNING), None)
                if oldest is None:
                    break
                del self._jobs[oldest]
        threading.Thread(target=job.run, daemon=True, name=f"featviz-sweep-{key[:8]}").start()
        return job

    def get(self, grid: sweep.Grid) -> SweepJob | None:
        with self._lock:
            return self._jobs.get(grid_key(grid))


def grid_key(grid: sweep.Grid) -> str:
    text = grid.base.key() + "|" + "|".join(f"{a.name}={a.values!r}" for a in grid.axes)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@st.cache_resource
def sweep_jobs() -> SweepJobs:
    """One per server process."""
    return SweepJobs()


def cancelled_note(job: SweepJob) -> str:
    return (
        f"The sweep was cancelled after {job.done} of {job.total} cells; the finished cells are cached, so "
        "**Run sweep** continues from them."
    )


def obtain_sweep(grid: sweep.Grid, *, area) -> sweep.SweepResult | None:
    """The sweep's result: at once when it is known, else trained in the background while `area`
    shows the progress and a Cancel button. None when it failed or was cancelled (said in `area`)."""
    jobs, key = sweep_jobs(), grid_key(grid)
    if st.session_state.get("sweep_cancel"):  # this run answers a click on Cancel
        job = jobs.get(grid)
        if job is not None:
            job.cancel_event.set()
            job.wait(30)
        st.session_state["sweep_cancelled"] = key
    if st.session_state.get("sweep_cancelled") == key:
        job = jobs.get(grid)
        area.info(cancelled_note(job) if job is not None else "The sweep was cancelled.")
        return None
    job = jobs.submit(grid)
    if not job.wait(0.5):
        # Poll in the script itself, as ui.progress.obtain_run does: a click ends this run.
        slot = area.empty()
        with slot.container():
            bar = st.progress(job.fraction, text=job.progress_text())
            st.button("Cancel sweep", key="sweep_cancel")
        while not job.wait(0.3):
            bar.progress(job.fraction, text=job.progress_text())
        slot.empty()
    if job.state == DONE:
        return job.result
    if job.state == FAILED:
        area.error(f"The sweep failed: {job.error}")
    else:
        st.session_state["sweep_cancelled"] = key
        area.info(cancelled_note(job))
    return None


def run_clicked() -> None:
    """Forget a cancellation: the user asked for the sweep again."""
    st.session_state.pop("sweep_cancelled", None)


# ---- the page's state: the spec, its widgets, the cell to open ---------------------------

W_PREFIX = "sw_"  # the base config's widgets


def load_spec(spec: SweepSpec) -> None:
    """Put a spec into the session and its widgets."""
    from featviz.ui.widgets import load_widgets

    st.session_state["sweep_spec"] = spec
    st.session_state["sweep_x_text"] = spec.x
    st.session_state["sweep_y_text"] = spec.y
    st.session_state["sweep_color"] = spec.color
    st.session_state["sweep_preset"] = preset_of(spec)
    load_widgets(spec.base, prefix=W_PREFIX)


def on_preset() -> None:
    slug = st.session_state.get("sweep_preset")
    if slug in PRESETS:
        run_clicked()
        load_spec(PRESETS[slug].spec)


def open_cell(index: int) -> None:
    """Ask the page to open this cell in the Playground (done by the page script)."""
    st.session_state["sweep_open"] = index


def on_chart_select() -> None:
    points = st.session_state["sweep_fig"].selection.points
    if points:
        p = points[0]
        index = p.get("customdata")
        if isinstance(index, list):
            index = index[0] if index else None
        if index is None:  # a trace without customdata in its events: its category labels
            index = _index_of_labels(p.get("x"), p.get("y"))
        if index is not None:
            open_cell(int(index))


def _index_of_labels(x, y) -> int | None:
    xl, yl = st.session_state.get("sweep_labels", ((), ()))
    try:
        return xl.index(str(x)) * (len(yl) or 1) + (yl.index(str(y)) if yl else 0)
    except ValueError:
        return None


def on_cell_choice() -> None:
    index = st.session_state.get("sweep_cell")
    if index is not None:
        open_cell(int(index))


def spec_for_page(url: Mapping[str, str]) -> tuple[SweepSpec, list[str]]:
    """The page's sweep and the messages of its link: a new link sets it; otherwise the
    session's sweep, moved onto the Playground's config when that changed since."""
    playground = st.session_state.get("cfg")
    if (url and dict(url) != st.session_state.get("sweep_url")) or "sweep_spec" not in st.session_state:
        spec, messages = spec_from_link(url, playground or Config())
        load_spec(spec)
        st.session_state["sweep_linked"], st.session_state["sweep_msgs"] = spec, messages
        st.session_state["sweep_from"] = playground
        return spec, messages
    spec = st.session_state["sweep_spec"]
    if playground is not None and playground != st.session_state.get("sweep_from"):
        spec = replace(spec, base=playground)
        load_spec(spec)
        st.session_state["sweep_from"] = playground
    return spec, st.session_state.get("sweep_msgs", [])


def spec_after_widgets(spec: SweepSpec, run: bool) -> tuple[SweepSpec, str]:
    """The colour applies at once; axes and base config when Run sweep is pressed. (spec, error)."""
    from featviz.ui.widgets import config_from_widgets

    spec = replace(spec, color=st.session_state.get("sweep_color") or spec.color)
    error = ""
    if run:
        run_clicked()
        base, error = config_from_widgets(spec.base, prefix=W_PREFIX, outcome="the last valid sweep is still shown")
        if base is not None:
            spec = SweepSpec(base, st.session_state["sweep_x_text"], st.session_state["sweep_y_text"], spec.color)
    st.session_state["sweep_spec"] = spec
    return spec, error


def edited(spec: SweepSpec) -> bool:
    """True when the widgets hold another sweep than the one shown."""
    from featviz.ui.widgets import config_from_widgets

    base, _ = config_from_widgets(spec.base, prefix=W_PREFIX)
    texts = (st.session_state.get("sweep_x_text", ""), st.session_state.get("sweep_y_text", ""))
    return base != spec.base or texts != (spec.x, spec.y)


def remember_labels(grid: sweep.Grid) -> None:
    """The heatmap's category labels, for reading a clicked cell back."""
    labels = [[value_text(v) for v in a.values] for a in grid.axes]
    st.session_state["sweep_labels"] = (*labels, [])[:2]


def cell_label(grid: sweep.Grid, index: int, row: Mapping, color: str) -> str:
    """A cell as a list reads it: its parameters and the colour outcome."""
    where = ", ".join(f"{a.name}={value_text(row[a.name])}" for a in grid.axes)
    value = f"step {row['diverged_step']}" if color == "diverged" and row["diverged"] else value_text(float(row[color]))
    if color == "diverged" and not row["diverged"]:
        value = "no"
    return f"{where} → {OUTCOME_LABELS[color]}: {value}"
