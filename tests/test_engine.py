"""Training engine: what a run ends with for the regimes the app shows, and the recording."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from featviz import engine, exact, torch_state
from featviz.config import Config
from featviz.engine import LIVE_FRAMES, train
from featviz.kernel import KernelState
from featviz.metrics import ALIGNED, DEAD, UNDECIDED
from featviz.run import STAGE_1, STAGE_2, STAGE_3, STAGE_GD, STAGE_INIT

FLOAT_FIELDS = ("teacher_w", "teacher_a", "basis", "lam", "mse", "train_loss", "objective", "w", "a", "alpha", "beta")


@pytest.fixture(scope="module")
def default_run():
    return engine.train(Config())


def all_finite(run) -> bool:
    return all(np.isfinite(getattr(run, name)).all() for name in FLOAT_FIELDS)


def centred_teacher_residual(tw, ta) -> float:
    """E[f*^2] - (E f*)^2 - |E[x f*]|^2: the part of the teacher no alpha + beta.x can fit."""
    e_f2 = ta @ exact.kernel(tw) @ ta
    e_f = ta.sum() / math.sqrt(2 * math.pi)  # unit teachers: E relu(w*.x) = 1/sqrt(2 pi)
    e_xf = (ta[:, None] * tw).sum(0) / 2
    return float(e_f2 - e_f**2 - e_xf @ e_xf)


# ---- (a) the default run recovers the teacher ------------------------------------------


def test_default_run_recovers_every_teacher(default_run):
    run, cfg = default_run, Config()
    met = run.metrics
    assert run.status == "ok" and run.step[-1] == cfg.total_steps
    mass, angle = met.mass[-1], met.line_angle_deg[-1]
    # Every neuron that carries mass sits on a teacher line (measured: max 0.5 degrees).
    assert angle[mass > 1e-3].max() < 2.0
    assert set(np.unique(met.fate[-1])) <= {ALIGNED, DEAD}
    # Each teacher's captured signed mass approaches a*_i (measured: off by 0.002).
    np.testing.assert_allclose(met.captured[-1], cfg.a_star, atol=0.01)
    # Every teacher line is used, the loss is small and far mass is gone.
    assert set(met.nearest[-1][met.fate[-1] == ALIGNED]) == set(range(cfg.k))
    assert run.mse[-1] < 1e-5 < 1e-2 * run.mse[0]
    assert met.far_mass[-1] < 1e-3 * met.far_mass[0]


def test_recorded_mse_is_the_exact_loss_of_the_recorded_state(default_run):
    run = default_run
    for i in (0, run.n_frames // 2, run.n_frames - 1):
        value = exact.population_mse(run.w[i], run.a[i], run.alpha[i], run.beta[i], run.teacher_w, run.teacher_a)
        assert run.mse[i] == pytest.approx(value, rel=1e-12, abs=1e-15)
        reg = 0.5 * run.lam[i] * ((run.a[i] ** 2).sum() + (run.w[i] ** 2).sum())
        assert run.objective[i] == pytest.approx(run.train_loss[i] + reg, rel=1e-12)
    np.testing.assert_array_equal(run.train_loss, run.mse)  # population: one and the same


# ---- (b) no weight decay: the loss drops but neurons stay scattered ----------------------


def test_lam_zero_fits_without_learning_features():
    cfg = Config(lam=0, init=1.0, m=40, epochs=2, steps=1000, lr=0.05)
    run = engine.train(cfg)
    met = run.metrics
    assert run.status == "ok"
    # The loss goes down by four orders of magnitude (measured 11.2 -> 6.5e-4) ...
    assert run.mse[-1] < 1e-3 * run.mse[0]
    # ... but most neurons sit far from every teacher line, with mass that cancels
    # (measured: 37 of 40 undecided, far mass 28, undecided mass 22 summing to 0.05).
    undecided = met.fate[-1] == UNDECIDED
    assert undecided.sum() >= cfg.m // 2
    assert met.far_mass[-1] > 5.0
    signed = run.a[-1] * np.linalg.norm(run.w[-1], axis=1)
    assert met.mass[-1][undecided].sum() > 10.0
    assert abs(signed[undecided].sum()) < 0.05 * met.mass[-1][undecided].sum()


# ---- (c) too much weight decay: every neuron dies ----------------------------------------


def test_huge_lam_kills_every_neuron_and_leaves_the_nonlinear_part():
    cfg = Config(lam=10, lr=0.05, epochs=1, steps=300)
    run = engine.train(cfg)
    met = run.metrics
    assert run.status == "ok" and all_finite(run)
    assert (met.fate[-1] == DEAD).all()
    assert met.mass[-1].max() < 1e-20
    # The mse stalls at what alpha + beta.x cannot fit (measured: equal to 1e-12).
    floor = centred_teacher_residual(run.teacher_w, run.teacher_a)
    assert 0.1 < floor < run.mse[0]
    assert run.mse[-1] == pytest.approx(floor, rel=1e-8)
    np.testing.assert_allclose(run.mse[-5:], floor, rtol=1e-6)  # stalled, not still falling
    # alpha and beta are the teacher's mean and linear part.
    assert run.alpha[-1] == pytest.approx(run.teacher_a.sum() / math.sqrt(2 * math.pi), rel=1e-8)
    np.testing.assert_allclose(run.beta[-1], (run.teacher_a[:, None] * run.teacher_w).sum(0) / 2, atol=1e-8)


def test_dead_neurons_stay_dead_below_float_underflow():
    """|w| shrinks by (1 - lr lam) a step; once its squared norm underflows the neuron must
    not come back (a floor under the norm once turned it into a huge 'unit' vector)."""
    run = engine.train(Config(lam=10, lr=0.05, epochs=1, steps=1000, frames=30))
    largest = np.abs(run.w).max(axis=(1, 2))
    assert np.all(np.diff(largest) <= 0), largest
    assert largest[-1] < 1e-250
    assert run.mse[-1] == pytest.approx(centred_teacher_residual(run.teacher_w, run.teacher_a), rel=1e-10)


# ---- (d) the paper's three stages ------------------------------------------------------


def test_paper_algorithm_stages_span_projection_and_recovery():
    cfg = Config(algo="paper")
    run = engine.train(cfg)
    met = run.metrics
    assert run.status == "ok"
    np.testing.assert_array_equal(run.stage[:4], [STAGE_INIT, STAGE_1, STAGE_2, STAGE_3])
    np.testing.assert_array_equal(run.step[:3], [0, 1, 2])
    assert (run.stage[3:] == STAGE_3).all()
    assert [run.stage_name(i) for i in range(4)] == ["init", "stage 1", "stage 2", "stage 3"]
    # Symmetric init: the student starts at f = 0, so the mse is E[f*^2].
    assert run.mse[0] == pytest.approx(run.teacher_a @ exact.kernel(run.teacher_w) @ run.teacher_a, rel=1e-12)
    # Stage 1 moves neurons into the teacher span (measured: orth/norm median 0.13, max 0.26;
    # at init median 0.90). Stage 2 leaves W alone.
    ratio = met.orth_norm / np.linalg.norm(run.w, axis=-1)
    assert np.median(ratio[0]) > 0.7
    assert np.median(ratio[1]) < 0.2 and ratio[1].max() < 0.4
    np.testing.assert_array_equal(run.w[2], run.w[1])
    assert run.lam[1] == pytest.approx(cfg.init / cfg.eta1)  # weight decay 1/step in stage 1
    # Stage 2 (ridge fit of a) lowers the loss; stage 3 then recovers the teachers.
    assert run.mse[2] < run.mse[1] < run.mse[0]
    assert set(np.unique(met.fate[-1])) <= {ALIGNED, DEAD}
    np.testing.assert_allclose(met.captured[-1], cfg.a_star, atol=0.01)
    assert run.mse[-1] < 1e-5


# ---- (e) empirical loss on samples -------------------------------------------------------


def test_samples_report_train_loss_and_exact_mse():
    cfg = Config(data="samples", n=500, epochs=3, steps=300)
    run = engine.train(cfg)
    assert run.status == "ok"
    assert not np.array_equal(run.train_loss, run.mse)
    # Recompute the final training loss from the recorded state on the same points.
    rng = np.random.default_rng(cfg.seed)
    engine.make_teachers(cfg, rng)
    engine.init_student(cfg, rng)
    X = rng.standard_normal((cfg.n, cfg.d))
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    y = relu(X @ run.teacher_w.T) @ run.teacher_a
    pred = relu(X @ run.w[-1].T) @ run.a[-1] + X @ run.beta[-1] + run.alpha[-1]
    assert run.train_loss[-1] == pytest.approx(((pred - y) ** 2).mean(), rel=1e-10)
    final = exact.population_mse(run.w[-1], run.a[-1], run.alpha[-1], run.beta[-1], run.teacher_w, run.teacher_a)
    assert run.mse[-1] == pytest.approx(final, rel=1e-12)
    # Training fits the sample at least as well as the population (measured 1.6e-3 vs 2.3e-3).
    assert run.mse[-1] < 1e-2 * run.mse[0]
    assert run.train_loss[-1] <= 1.05 * run.mse[-1]


# ---- (f) divergence ----------------------------------------------------------------------


def test_divergence_is_reported_not_raised():
    run = engine.train(Config(lr=50))
    assert run.status == "diverged"
    assert run.diverged_step > 0
    assert run.step[-1] < run.diverged_step
    assert "smaller learning rate" in run.message and "lr = 5" in run.message
    assert all_finite(run)
    run.check()
    assert len(run.step) >= 1 and run.step[0] == 0


@pytest.mark.parametrize("kind", [KernelState, torch_state.PopulationState], ids=["kernel", "torch"])
@pytest.mark.parametrize("where", ["W", "a", "alpha", "beta"])
def test_divergence_check_sees_nan_in_any_parameter(where, kind):
    cfg = Config().replace(m=4, d=3, k=2)
    rng = np.random.default_rng(0)
    tw, ta, basis = engine.make_teachers(cfg, rng)
    w, a = engine.init_student(cfg, rng)
    state = kind(w, a, tw, ta)
    recorder = engine._Recorder(state, cfg, basis)
    assert recorder.problem() == ""
    if where == "W":
        state.W[1, 2] = math.nan
    elif where == "a":
        state.a[3] = math.nan
    elif where == "alpha":
        state.alpha = math.nan
    else:
        state.beta[0] = math.inf
    assert "NaN or infinite" in recorder.problem()
    state.set_params(w=w, a=a, alpha=0.0, beta=np.zeros(cfg.d))
    state.a[0] = 2 * engine.BLOWUP
    assert "blew up" in recorder.problem()


# ---- (g) determinism ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [
        Config(epochs=2, steps=100),
        Config(teachers="random", algo="paper", epochs=1, steps=100),
        Config(teachers="planar", data="samples", n=200, epochs=1, steps=100),
    ],
    ids=["gd", "paper-random", "planar-samples"],
)
def test_same_config_gives_identical_arrays(cfg):
    one, two = engine.train(cfg), engine.train(cfg)
    for name in ("step", "stage", *FLOAT_FIELDS):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
    other = engine.train(cfg.replace(seed=1))
    assert not np.array_equal(other.w[0], one.w[0])


# ---- (h) snapshot grid and lam schedule ----------------------------------------------------


@given(first=st.integers(0, 5), length=st.integers(0, 10**6), frames=st.integers(2, 400))
def test_snapshot_steps_cover_both_ends_increasing(first, length, frames):
    last = first + length
    steps = engine.snapshot_steps(first, last, frames)
    assert steps[0] == first and steps[-1] == last
    assert np.all(np.diff(steps) > 0)
    assert len(steps) == (min(frames, length + 1) if length else 1)
    # Log-spaced: each gap at least as long as the one before, up to rounding.
    gaps = np.diff(steps)
    assert np.all(gaps[1:] >= gaps[:-1] - 1)


def test_run_steps_and_lam_schedule():
    cfg = Config(lam=0.3, lam_decay=0.5, epochs=4, steps=50, frames=40)
    run = engine.train(cfg)
    assert run.step[0] == 0 and run.step[-1] == cfg.total_steps
    assert np.all(np.diff(run.step) > 0)
    assert run.n_frames == cfg.frames  # "frames kept" is what the run keeps
    assert (run.stage[1:] == STAGE_GD).all()
    epoch = np.maximum(run.step - 1, 0) // cfg.steps
    np.testing.assert_allclose(run.lam, cfg.lam * cfg.lam_decay**epoch, rtol=1e-15)
    assert set(epoch) == {0, 1, 2, 3}  # every epoch has a frame
    assert engine.lam_at(cfg, 50) == 0.3 and engine.lam_at(cfg, 51) == 0.15


@pytest.mark.parametrize("frames", [2, 3, 4, 17, 60])
def test_paper_runs_keep_exactly_frames_snapshots(frames):
    """Init, stage 1, stage 2 and the last step always: at least 4."""
    cfg = Config(algo="paper", m=10, epochs=2, steps=100, frames=frames)
    run = engine.train(cfg)
    assert run.n_frames == max(frames, 4) and run.step[-1] == 2 + cfg.total_steps
    assert np.all(np.diff(run.step) > 0)


def test_progress_and_cancel():
    cfg = Config(epochs=1, steps=200)
    seen = []
    run = engine.train(cfg, progress=lambda s, total, mse: seen.append((s, total, mse)), progress_every=0.0)
    assert seen[-1] == (cfg.total_steps, cfg.total_steps, run.mse[-1])
    assert [s for s, _, _ in seen] == sorted(s for s, _, _ in seen)
    assert all(total == cfg.total_steps and math.isfinite(mse) for _, total, mse in seen)
    with pytest.raises(engine.Cancelled):
        engine.train(cfg, should_stop=lambda: True, progress_every=0.0)


def test_teachers_follow_the_config(rng):
    base = Config().replace(d=6, k=4)
    for cfg in (base, base.replace(teachers="random", sep=25), base.replace(k=3, teachers="planar")):
        tw, ta, basis = engine.make_teachers(cfg, rng)
        assert tw.shape == (cfg.k, cfg.d)
        np.testing.assert_allclose(np.linalg.norm(tw, axis=1), 1.0)
        np.testing.assert_array_equal(ta, cfg.a_star)
        np.testing.assert_allclose(basis @ basis.T, np.eye(basis.shape[0]), atol=1e-12)
        np.testing.assert_allclose(tw - (tw @ basis.T) @ basis, 0.0, atol=1e-12)  # basis spans the teachers
        cos = np.abs(tw @ tw.T)[np.triu_indices(cfg.k, 1)]
        if cfg.teachers == "orthonormal":
            np.testing.assert_allclose(cos, 0.0, atol=1e-12)
        elif cfg.teachers == "random":
            assert cos.max() <= math.cos(math.radians(25)) + 1e-12
        else:
            assert basis.shape == (2, cfg.d)
            np.testing.assert_allclose(np.degrees(np.arccos(np.clip(tw[0] @ tw[1], -1, 1))), 60.0)


@pytest.mark.parametrize("d", [2, 3, 4, 6, 12, 50, 200])
def test_random_teachers_reach_the_documented_separation(d):
    from featviz.config import max_random_sep

    for k in range(2, min(8, d) + 1):
        sep = max_random_sep(d, k)
        tw = engine._random_lines(d, k, sep, np.random.default_rng(k))
        cos = np.abs(tw @ tw.T)[np.triu_indices(k, 1)]
        assert np.degrees(np.arccos(cos.max())) >= sep - 1e-9


@pytest.mark.parametrize(
    ("base", "change"),
    [
        (Config(teachers="planar"), {"sep": 10.0}),
        (Config(), {"angles": (5.0, 50.0, 100.0)}),
        (Config(), {"n": 5000}),
        (Config(), {"eta1": 7.0}),
        (Config(algo="paper"), {"symmetric": "no"}),
        (Config(lam=0.0), {"lam_decay": 0.9}),
        (Config(lam=0.0, algo="paper"), {"lam_decay": 0.9}),
    ],
)
def test_parameters_the_cache_key_ignores_do_not_change_the_run(base, change):
    """Config.key() merges these configs, so one cached run serves both: it must be the same run."""
    base = base.replace(m=10, epochs=3, steps=50)
    other = base.replace(**change)
    assert other.key() == base.key()
    a, b = engine.train(base), engine.train(other)
    for field in ("step", "lam", "mse", "w", "a", "alpha", "beta"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


# ---- which state trains a config -----------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("m", "data", "kind"),
    [(20, "population", "KernelState"), (500, "population", "KernelState"), (20, "samples", "SampleState")],
)
def test_population_problems_use_the_kernel_and_samples_torch(rng, m, data, kind):
    cfg = Config(m=m, data=data, n=200)
    assert engine.needs_torch(cfg) == (data == "samples")
    tw, ta, _ = engine.make_teachers(cfg, rng)
    w, a = engine.init_student(cfg, rng)
    assert type(engine.new_state(cfg, w, a, tw, ta, rng)).__name__ == kind


def test_a_population_run_never_imports_torch():
    """A fresh interpreter trains the default config (and the paper's algorithm) without torch."""
    code = (
        "import sys; from featviz.config import Config; from featviz.engine import train; "
        "runs = [train(Config()), train(Config(algo='paper'))]; "
        "print(all(r.status == 'ok' for r in runs), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "False"], out.stdout + out.stderr


@pytest.mark.parametrize(
    "cfg",
    [Config(epochs=2, steps=200), Config(m=80, d=80, epochs=1, steps=150)],  # the inline, then the blas kernel
    ids=["inline", "blas"],
)
def test_watch_sees_partial_runs_and_changes_nothing(cfg):
    partials = []
    watched = train(cfg, watch=partials.append, progress_every=0.0)
    plain = train(cfg)
    for name, arr in plain.arrays().items():
        np.testing.assert_array_equal(getattr(watched, name), arr, err_msg=name)
    assert len(partials) >= 10
    for p in partials:
        assert p.n_frames <= LIVE_FRAMES + 1 and np.all(np.diff(p.step) > 0)
        # The partial's last frame is the state at its step: a recorded frame has the same values.
        hit = np.flatnonzero(plain.step == p.step[-1])
        if hit.size:
            np.testing.assert_array_equal(p.w[-1], plain.w[hit[0]])
    steps = [int(p.step[-1]) for p in partials]
    assert steps == sorted(steps) and len(set(steps)) > 5  # the current state moves on between reports
