"""The theorem figures: the bound on a run, the λ² law and the stage losses, and the views they draw."""

import numpy as np
import pytest
from figures_support import _finite_json

from featviz import figures as F
from featviz.bounds import lam2_law_mse, mass_objective, orthonormal_optimum
from featviz.certificate import certificate_for_config
from featviz.config import Config
from featviz.engine import train
from featviz.lessons import BY_SLUG
from featviz.run import STAGE_1, STAGE_2
from featviz.theorem_views import BoundOnRun, Lam2Law, StageLosses, bound_frames

SHORT = Config(epochs=4, steps=300)


@pytest.fixture(scope="module")
def run():
    return train(SHORT)


@pytest.fixture(scope="module")
def cert():
    return certificate_for_config(SHORT)


def _exact(run):
    return lambda lam: orthonormal_optimum(run.teacher_a, lam)["objective"]


def test_bound_view_is_the_gap_over_lam_rho(run, cert):
    b = BoundOnRun.from_run(run, cert.rho, _exact(run), norm2=cert.norm2, reference="exact")
    assert b.step.size == run.n_frames  # gd with λ > 0: every frame
    ref = np.array([orthonormal_optimum(run.teacher_a, x)["objective"] for x in run.lam])
    np.testing.assert_allclose(b.paper_bound, (mass_objective(run) - ref) / (run.lam * cert.rho))
    np.testing.assert_allclose(b.safe_bound - b.paper_bound, run.lam * cert.norm2 / (4 * cert.rho))
    np.testing.assert_allclose(b.far_mass, run.metrics.far_mass)
    assert b.n_violated == 0 and b.paper_bound[0] > 10 * b.far_mass[0]  # loose at the start
    assert "loose" in b.note() and f"{b.far_mass[-1]:.3g}" in b.note()


def test_bound_figure_draws_far_mass_bounds_and_the_note(run, cert):
    b = BoundOnRun.from_run(run, cert.rho, _exact(run), norm2=cert.norm2, reference="exact")
    fig = F.bound_figure(b)
    names = [t.name for t in fig.data]
    assert names[:3] == ["far mass Σ|a||w|δ²", "bound (L_λ − L_λ*)/(λρ)", "safe bound (+ λ|g|²/(4ρ))"]
    np.testing.assert_allclose(fig.data[0].y, b.far_mass, rtol=1e-6)
    np.testing.assert_allclose(fig.data[1].y, b.paper_bound, rtol=1e-6)
    np.testing.assert_allclose(fig.data[0].x, b.step + 1.0)
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.type == "log"
    lo, hi = fig.layout.yaxis.range
    assert 10**lo <= b.far_mass.min() and 10**hi >= b.safe_bound.max()
    assert any("loose" in (a.text or "") for a in fig.layout.annotations)
    assert "ρ = " in fig.layout.title.subtitle.text
    assert _finite_json(fig)


def test_a_violated_frame_is_marked_not_hidden(run, cert):
    # An L_λ* estimate far too high makes the gap, hence the bound, too small: the figure must say so.
    b = BoundOnRun.from_run(run, cert.rho, lambda lam: _exact(run)(lam) + 0.5, reference="too high")
    assert b.n_violated > 0
    fig = F.bound_figure(b)
    (marks,) = [t for t in fig.data if (t.name or "").startswith("far mass above the bound")]
    assert len(marks.x) == b.n_violated
    np.testing.assert_allclose(marks.y, np.maximum(b.far_mass[b.violated], 1e-12), rtol=1e-6)
    assert any("exceeds the bound" in (a.text or "") for a in fig.layout.annotations)


def test_lam2_law_on_the_default_schedule(run):
    law = Lam2Law.from_run(run)
    np.testing.assert_allclose(law.lam, 0.05 * 0.5 ** np.arange(4))
    assert law.slope == pytest.approx(2.0, abs=0.05)
    np.testing.assert_allclose(law.exact_at_points, lam2_law_mse(3, law.lam), rtol=1e-3)
    assert law.max_relative_error < 0.05
    fig = F.lam2_figure(law)
    pts, exact = fig.data
    np.testing.assert_allclose(pts.x, law.lam)
    np.testing.assert_allclose(pts.y, law.mse)
    assert exact.name == "exact: k λ²/(4 K̃(1))"
    np.testing.assert_allclose(exact.y, lam2_law_mse(3, np.asarray(exact.x)), rtol=1e-9)
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"
    assert "fitted slope 2.0" in fig.layout.title.subtitle.text


def test_lam2_figure_fits_a_line_without_a_closed_form():
    planar = train(Config(d=6, k=2, teachers="planar", angles=(0.0, 75.0), a_star=(1.0, -1.0), m=24, epochs=3))
    law = Lam2Law.from_run(planar)
    assert law.exact_lam is None and np.isnan(law.max_relative_error)
    fig = F.lam2_figure(law)
    (fit,) = [t for t in fig.data if (t.name or "").startswith("fit: slope")]
    np.testing.assert_allclose(np.log10(fit.y), law.intercept + law.slope * np.log10(fit.x))


@pytest.fixture(scope="module")
def three_stages():
    return train(BY_SLUG["three-stages"].config)


def test_stage_losses_of_the_three_stage_lesson(three_stages):
    s = StageLosses.from_run(three_stages)
    assert s.names == ("init", "stage 1", "stage 2", "stage 3")
    assert s.share_of("stage 2") < 0.2 < s.share_of("stage 1")
    fig = F.stage_loss_figure(s)
    bars, floor, limit = fig.data
    np.testing.assert_allclose(bars.y, s.mse)
    ticks = list(fig.layout.xaxis.ticktext)
    assert [t.split("<br>")[0] for t in ticks] == [f"<b>{n}</b>" for n in s.names]
    assert f"({s.share_of('stage 2'):.1%} of the floor)" in ticks[2]
    assert floor.y[0] == pytest.approx(s.floor) and limit.y[0] == pytest.approx(0.2 * s.floor)
    assert bars.marker.color[2] != bars.marker.color[1]  # stage 2, the one the check is about, stands out
    assert f"{s.share_of('stage 2'):.1%}" in fig.layout.title.subtitle.text
    assert fig.layout.yaxis.type == "log"


def test_the_bound_leaves_out_stages_one_and_two(three_stages):
    keep = bound_frames(three_stages)
    assert not keep[np.isin(three_stages.stage, (STAGE_1, STAGE_2))].any()
    assert keep.sum() == three_stages.n_frames - 2


def test_the_browser_charts_plotly_bundle_draws_every_trace_of_these_figures(run, cert, three_stages):
    """featviz.chart serves a plotly.js with only some traces (vendor/, devtools/plotly_bundle/):
    every trace type of the figures it draws (the animation, the theorem section) must be in it,
    and the bundle's recipe must register exactly those."""
    import re

    from featviz.chart import BUNDLE_TRACES, PLOTLY_JS_BUNDLE, PLOTLY_JS_VERSION
    from featviz.figures import animation_figure

    b = BoundOnRun.from_run(run, cert.rho, _exact(run), norm2=cert.norm2, reference="exact")
    shown = [
        F.bound_figure(b),
        F.lam2_figure(Lam2Law.from_run(run)),
        F.stage_loss_figure(StageLosses.from_run(three_stages)),
        animation_figure(run),
        animation_figure(train(SHORT.replace(d=2, k=2, teachers="planar", angles=(0.0, 90.0)))),
    ]
    types = {t.type or "scatter" for fig in shown for t in fig.data}
    types |= {t.type or "scatter" for fig in shown for fr in fig.frames for t in fr.data}
    assert types <= set(BUNDLE_TRACES), types - set(BUNDLE_TRACES)
    recipe = (PLOTLY_JS_BUNDLE.parents[3] / "devtools" / "plotly_bundle" / "index-featviz.js").read_text()
    assert {"scatter", *re.findall(r"require\('\./(\w+)'\)", recipe)} - {"core"} == set(BUNDLE_TRACES)
    # The bundle is the plotly.js version plotly.py writes figures for.
    from plotly.offline import get_plotlyjs_version

    assert PLOTLY_JS_VERSION == get_plotlyjs_version()
    assert PLOTLY_JS_BUNDLE.read_text()[:200].startswith(f"/* plotly.js v{PLOTLY_JS_VERSION}, featviz bundle")
