"""Training engine: teacher, student init, exact (or sampled) gradient descent, recorded runs.

``train(cfg)`` is a pure function of the config: explicit seeded generators, no globals,
no printing. Progress goes through a callback; cancellation through a callable.
The population objective uses the closed form of ``featviz.exact`` in float64, stepped by the
compiled kernel of ``featviz.kernel`` (``KernelState``): the same kernel as a sweep's batched
cells (``featviz.batch``), so a run and its sweep cell are equal bit for bit. Sampled data
trains in torch (``featviz.torch_state``, imported only then: importing torch takes about 2 s)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from featviz.config import Config, ConfigError, max_random_sep
from featviz.run import PER_FRAME, STAGE_1, STAGE_2, STAGE_3, STAGE_GD, STAGE_INIT, Run
from featviz.state import State

BLOWUP = 1e6  # a parameter this large means gradient descent diverged
CHECK_EVERY = 25  # steps between divergence checks (a check costs a few ops)

Progress = Callable[[int, int, float], None]  # (step, total steps, current exact mse)
Watch = Callable[["Run"], None]  # a partial run: some recorded snapshots and the current state last
LIVE_FRAMES = 16  # recorded snapshots (evenly picked, last included) in a partial run for watch


@dataclass(frozen=True)
class _Report:
    """What train() tells its caller while it runs: progress, the stop check, the live view."""

    progress: Progress | None
    should_stop: Callable[[], bool] | None
    every: float  # seconds between reports
    watch: Watch | None


class Cancelled(Exception):
    """Raised by train() when its should_stop callable returns True."""


@dataclass(frozen=True)
class Start:
    """A recorded state to continue gradient descent from (a fork, featviz.fork): the global
    step of the snapshot, its parameters, and the stage and λ it was recorded with."""

    step: int
    w: np.ndarray  # (m,d)
    a: np.ndarray  # (m,)
    alpha: float
    beta: np.ndarray  # (d,)
    stage: int
    lam: float


# ---- teacher and initial student ------------------------------------------------------


def make_teachers(cfg: Config, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit teacher directions (k,d), output weights (k,), orthonormal span basis (r,d)."""
    d, k = cfg.d, cfg.k
    if cfg.teachers == "orthonormal":
        q, _ = np.linalg.qr(rng.standard_normal((d, k)))
        w = q.T.copy()
        basis = w.copy()
    elif cfg.teachers == "planar":
        q, _ = np.linalg.qr(rng.standard_normal((d, 2)))
        phi = np.radians(np.array(cfg.angles))
        w = np.cos(phi)[:, None] * q[:, 0] + np.sin(phi)[:, None] * q[:, 1]
        basis = q.T.copy()
    else:
        w = _random_lines(d, k, cfg.sep, rng)
        q, r = np.linalg.qr(w.T)
        basis = (q * np.sign(np.diag(r))).T.copy()  # first basis vector along w*_1
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    return w, np.array(cfg.a_star, dtype=float), basis


def _random_lines(
    d: int, k: int, sep_deg: float, rng: np.random.Generator, restarts: int = 400, tries: int = 100
) -> np.ndarray:
    """k random unit vectors whose lines are pairwise at least sep_deg apart: rejection
    sampling, restarted from scratch when the lines drawn so far leave no room."""
    max_cos = math.cos(math.radians(sep_deg))
    for _ in range(restarts):
        out: list[np.ndarray] = []
        for _ in range(tries * k):
            v = rng.standard_normal(d)
            v /= np.linalg.norm(v)
            if all(abs(v @ u) <= max_cos for u in out):
                out.append(v)
                if len(out) == k:
                    return np.stack(out)
    raise ConfigError(
        "sep", f"a number in [0, {max_random_sep(d, k):g}] (no {k} lines that far apart were found)", sep_deg
    )


def init_student(cfg: Config, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random directions with norm init, a_j = +-init; with symmetric=yes (always for algo=paper)
    in pairs (a, w), (-a, w), so the student starts at f = 0."""
    m, d = cfg.m, cfg.d
    paired = cfg.algo == "paper" or cfg.symmetric == "yes"
    half = m // 2 if paired else m
    w = rng.standard_normal((half, d))
    w *= cfg.init / np.linalg.norm(w, axis=1, keepdims=True)
    a = cfg.init * rng.choice([-1.0, 1.0], size=half)
    if paired:
        w = np.concatenate([w, w])
        a = np.concatenate([a, -a])
    return w, a


def snapshot_steps(first: int, last: int, frames: int) -> np.ndarray:
    """min(frames, last - first + 1) integer steps in [first, last], both ends included: a
    log-spaced grid, where rounding would merge its first points, one step apart instead."""
    if last <= first or frames <= 1:
        return np.array(sorted({first, last}))
    n = last - first
    count = min(frames, n + 1)
    out = np.empty(count, dtype=int)
    prev = -1
    for i, x in enumerate(np.geomspace(1, n + 1, count) - 1):
        # After the previous point, and leaving one step for each point still to come.
        prev = out[i] = min(max(round(x), prev + 1), n - (count - 1 - i))
    return out + first


# ---- objectives -----------------------------------------------------------------------


def needs_torch(cfg: Config) -> bool:
    """True for sampled data, the only runs that train in torch."""
    return cfg.data == "samples"


def new_state(cfg: Config, w, a, teacher_w, teacher_a, rng: np.random.Generator) -> State:
    """The state train() uses for cfg: kernel.KernelState for the population loss, torch for samples."""
    if cfg.data == "samples":
        from featviz.torch_state import SampleState

        return SampleState(w, a, teacher_w, teacher_a, rng.standard_normal((cfg.n, cfg.d)))
    from featviz.kernel import KernelState  # numba: imported (about 0.5 s) when a run first needs it

    return KernelState(w, a, teacher_w, teacher_a)


# ---- training ------------------------------------------------------------------------


def lam_at(cfg: Config, gd_step: int) -> float:
    """Weight decay for the gd_step-th gradient step (1-based): lam * lam_decay^epoch."""
    epoch = (max(gd_step, 1) - 1) // cfg.steps
    return cfg.lam * cfg.lam_decay**epoch


def train(
    cfg: Config,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress_every: float = 0.2,
    start: Start | None = None,
    watch: Watch | None = None,
) -> Run:
    """Train per the config and record snapshots. Divergence ends the run early (status
    'diverged'); it never raises for it. Raises Cancelled if should_stop() turns True.

    start: continue gradient descent from this recorded state instead of the initial student
    (the teacher, and for data=samples the sample, are drawn from the seed as always); the run
    then records start's step and cfg.frames log-spaced snapshots after it, up to the end.

    watch (for a live view): called at every progress report with a partial Run, at most
    LIVE_FRAMES recorded snapshots and the current state as its last frame. It only reads the
    state, so a run with a watch is the same run, bit for bit."""

    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    teacher_w, teacher_a, basis = make_teachers(cfg, rng)
    w0, a0 = init_student(cfg, rng)
    state = new_state(cfg, w0, a0, teacher_w, teacher_a, rng)

    rec = _Recorder(state, cfg, basis)
    report = _Report(progress, should_stop, progress_every, watch)
    total_gd = cfg.total_steps
    offset = cfg.stage_steps  # the paper's stages 1 and 2 are steps 1 and 2
    # A diverging run overflows on its way to the blow-up check: that is reported, not warned.
    with state.running(), np.errstate(all="ignore"):
        if start is not None:
            return _continue(cfg, state, rec, start, t0, report)
        rec.snap(0, STAGE_INIT, cfg.lam)
        if cfg.algo == "paper":
            eta = cfg.eta1 / cfg.init
            # Stage 1: fit alpha, beta (the target's 0th and 1st order parts), then one step
            # on W with weight decay 1/eta: W <- W - eta (grad + W / eta) = -eta grad_W L.
            state.fit_linear()
            gW, _, _, _ = state.grads()
            state.set_params(w=-eta * gW)
            if not rec.finite():
                return rec.finish(t0, 1, "stage 1 produced NaN or inf", diverged=True)
            rec.snap(1, STAGE_1, 1.0 / eta)
            # Stage 2: ridge regression of (alpha, beta, a) with W fixed, penalty lam/2 |a|^2.
            G, b = state.feature_moments()
            d = cfg.d
            pen = np.zeros(G.shape[0])
            pen[1 + d :] = cfg.lam / 2
            theta = np.linalg.lstsq(G + np.diag(pen), b, rcond=None)[0]
            state.set_params(alpha=theta[0], beta=theta[1 : 1 + d], a=theta[1 + d :])
            rec.snap(2, STAGE_2, cfg.lam)
        grid = set(snapshot_steps(offset, offset + total_gd, cfg.frames - offset).tolist())
        return _descend(cfg, state, rec, 1, grid, t0, report)


def _continue(cfg: Config, state: State, rec: _Recorder, start: Start, t0, report: _Report) -> Run:
    """train() from a recorded state: its snapshot again, then gradient descent to the end."""
    offset, total_gd = cfg.stage_steps, cfg.total_steps
    if not offset <= start.step < offset + total_gd:
        raise ConfigError(
            "step", f"a step in [{offset}, {offset + total_gd - 1}] of this run's gradient descent", start.step
        )
    state.set_params(w=start.w, a=start.a, alpha=start.alpha, beta=start.beta)
    rec.snap(start.step, start.stage, start.lam)
    grid = set(snapshot_steps(start.step, offset + total_gd, cfg.frames).tolist())
    return _descend(cfg, state, rec, start.step - offset + 1, grid, t0, report)


def _descend(cfg: Config, state: State, rec: _Recorder, first: int, grid: set, t0, report: _Report) -> Run:
    """Gradient steps first..total (1-based, after the stages), recording the steps in grid.
    Called inside train()'s state.running() and np.errstate."""
    offset, total_gd = cfg.stage_steps, cfg.total_steps
    gd_stage = STAGE_3 if cfg.algo == "paper" else STAGE_GD
    last_report = time.perf_counter()
    for s in range(first, total_gd + 1):
        lam = lam_at(cfg, s)
        state.step(cfg.lr, lam)
        g = offset + s
        if s % CHECK_EVERY == 0 or g in grid or s == total_gd:
            problem = rec.problem()
            if problem:
                return rec.finish(t0, g, problem, diverged=True)
            if g in grid:
                rec.snap(g, gd_stage, lam)
            now = time.perf_counter()
            if now - last_report >= report.every:
                last_report = now
                if report.should_stop is not None and report.should_stop():
                    raise Cancelled(f"cancelled at step {g}")
                if report.progress is not None:
                    report.progress(g, offset + total_gd, state.mse())
                if report.watch is not None:
                    report.watch(rec.partial(g, gd_stage, lam))
    run = rec.finish(t0, offset + total_gd, "", diverged=False)
    if report.progress is not None:
        report.progress(offset + total_gd, offset + total_gd, float(run.mse[-1]))
    return run


class _Recorder:
    """The snapshots of one run, a list per per-frame field of the Run schema."""

    def __init__(self, state: State, cfg: Config, basis: np.ndarray):
        self.state, self.cfg, self._basis = state, cfg, basis
        self.columns: dict[str, list] = {f.name: [] for f in PER_FRAME}

    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.state.sizes())

    def problem(self) -> str:
        sizes = self.state.sizes()
        # Checked one by one: max() silently drops a NaN that is not its first argument.
        if not all(math.isfinite(v) for v in sizes):
            return "the parameters became NaN or infinite"
        big = max(sizes)
        if big > BLOWUP:
            return f"the parameters blew up (a weight exceeded {BLOWUP:g})"
        return ""

    def snap(self, step: int, stage: int, lam: float) -> None:
        row = self._row(step, stage, lam)
        if row is None:
            return  # a state on its way to blowing up is not recorded
        for name, column in self.columns.items():
            column.append(row[name])

    def partial(self, step: int, stage: int, lam: float) -> Run:
        """The run so far, for a live view: up to LIVE_FRAMES recorded snapshots (evenly picked,
        the first and last included), then the current state unless it was just recorded."""
        n = len(self.columns["step"])  # the training thread appends; this runs on it too
        pick = sorted(set(np.round(np.linspace(0, n - 1, min(n, LIVE_FRAMES))).astype(int).tolist())) if n else []
        columns = {name: [column[i] for i in pick] for name, column in self.columns.items()}
        if not n or self.columns["step"][n - 1] != step:
            row = self._row(step, stage, lam)
            if row is not None:
                for name, column in columns.items():
                    column.append(row[name])
        return self._run(columns, 0.0, status="ok", message="", diverged_step=-1)

    def _row(self, step: int, stage: int, lam: float) -> dict | None:
        W, a, alpha, beta = self.state.params()
        mse = self.state.mse()
        train_loss = mse if self.cfg.data == "population" else self.state.train_loss()
        reg = 0.5 * lam * (float((a * a).sum()) + float((W * W).sum()))
        objective = train_loss + reg
        if not all(math.isfinite(v) for v in (mse, train_loss, objective)):
            return None
        return {
            "step": step,
            "stage": stage,
            "lam": lam,
            "mse": mse,
            "train_loss": train_loss,
            "objective": objective,
            "w": W,
            "a": a,
            "alpha": alpha,
            "beta": beta,
        }

    def finish(self, t0: float, step: int, reason: str, *, diverged: bool) -> Run:
        if diverged:
            last_lr = self.cfg.lr
            reason = (
                f"Training diverged at step {step}: {reason}. Frames up to step {self.columns['step'][-1]} are "
                f"shown. Try a smaller learning rate, e.g. lr = {last_lr / 10:.3g}."
            )
        return self._run(
            self.columns,
            time.perf_counter() - t0,
            status="diverged" if diverged else "ok",
            message=reason,
            diverged_step=step if diverged else -1,
        )

    def _run(self, columns: dict[str, list], seconds: float, *, status: str, message: str, diverged_step: int) -> Run:
        st = self.state
        return Run(
            config=self.cfg,
            teacher_w=st.teacher_w,
            teacher_a=st.teacher_a,
            basis=self._basis,
            **{f.name: np.array(columns[f.name], dtype=f.dtype) for f in PER_FRAME},
            status=status,
            message=message,
            diverged_step=diverged_step,
            train_seconds=seconds,
        )
