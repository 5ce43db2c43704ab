"""The theory figures: the dual certificate and the descent direction, and the data they draw."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from figures_support import _finite_json

from featviz import figures as F
from featviz.certificate import planar_certificate
from featviz.descent import descent_targets
from featviz.metrics import ALIGNED


def test_certificate_figure_draws_eta_band_teachers_and_bound():
    cert = planar_certificate((0, 60, 120), (1, -1, 1))
    phi = np.degrees(cert.phi)
    fig = F.certificate_figure(
        phi, cert.eta, teacher_angles_deg=(0, 60, 120), signs=(1, -1, 1), rho=cert.rho, max_abs_eta=cert.max_abs_eta
    )
    (bound,) = [t for t in fig.data if (t.name or "").startswith("bound")]
    n = len(phi)
    upper = np.asarray(bound.y[:n], dtype=float)
    np.testing.assert_allclose(upper, 1 - cert.rho * cert.delta**2, atol=1e-9)
    (eta,) = [t for t in fig.data if t.name == "η(φ)"]
    np.testing.assert_allclose(eta.y, cert.eta, atol=1e-6)
    teachers = [t for t in fig.data if (t.name or "").startswith("w*")]
    assert len(teachers) == 3
    assert [t.y[0] for t in teachers] == [1, -1, 1]
    assert any(t.name == "|η| ≤ 1" for t in fig.data)
    # The magnified panel below: the margin 1 - |eta| stays above rho delta^2 (a valid certificate).
    (margin,) = [t for t in fig.data if t.name == "margin 1 − |η|"]
    (need,) = [t for t in fig.data if t.name == "needed: ρδ²"]
    assert margin.yaxis == need.yaxis == "y2" and margin.xaxis == "x2"
    np.testing.assert_allclose(margin.y, np.maximum(1 - np.abs(cert.eta), F.CERT_FLOOR), atol=1e-6)
    np.testing.assert_allclose(need.y, np.maximum(cert.rho * cert.delta**2, F.CERT_FLOOR), atol=1e-6)
    assert fig.layout.yaxis2.type == "log"
    assert np.all(np.asarray(margin.y) >= np.asarray(need.y) - 1e-6)
    assert _finite_json(fig)


def test_certificate_figure_without_rho_has_no_bound():
    phi = np.linspace(0, 180, 50, endpoint=False)
    fig = F.certificate_figure(
        phi, np.cos(np.radians(2 * phi)), teacher_angles_deg=(0,), signs=(1,), rho=float("nan"), max_abs_eta=1.0
    )
    assert not [t for t in fig.data if (t.name or "").startswith("bound")]
    assert not [t for t in fig.data if (t.name or "").startswith("margin")]
    assert _finite_json(fig)


@pytest.mark.parametrize("name", ["planar2", "line1"])
def test_descent_figure_2d_has_one_arrow_per_neuron(runs, name):
    run = runs[name]
    fig = F.descent_figure(run, run.n_frames // 2)
    arrows = [a for a in fig.layout.annotations if a.name == "descent"]
    assert len(arrows) == run.config.m
    assert all(a.showarrow and a.axref == a.xref for a in arrows)
    assert _finite_json(fig)


def test_descent_figure_3d_has_one_segment_per_neuron(runs):
    run = runs["orthonormal3"]
    fig = F.descent_figure(run, run.n_frames // 2)
    (seg,) = [t for t in fig.data if t.name == "descent"]
    assert isinstance(seg, go.Scatter3d)
    assert list(seg.x).count(None) == run.config.m
    assert _finite_json(fig)


def test_descent_targets_split_each_teacher_by_mass(runs):
    run = runs["planar2"]
    i = run.n_frames // 2
    target, near = descent_targets(run, i)
    met = run.metrics
    t = met.nearest[i]
    assert near.any()
    np.testing.assert_array_equal(target[~near], 0.0)
    for s in set(t[near].tolist()):
        sel = near & (t == s)
        assert (target[sel] ** 2).sum() == pytest.approx(abs(run.teacher_a[s]))
        # targets lie on the teacher line, on the neuron's own side
        cos = target[sel] @ run.teacher_w[s] / np.linalg.norm(target[sel], axis=1)
        np.testing.assert_allclose(np.abs(cos), 1.0, atol=1e-9)
        assert (np.einsum("md,md->m", target[sel], run.w[i][sel]) >= 0).all()


@pytest.mark.parametrize("name", ["planar2", "orthonormal3"])
def test_descent_targets_legend_entry_is_neutral_and_the_targets_keep_teacher_colours(runs, name):
    run = runs[name]
    fig = F.descent_figure(run, run.n_frames // 2)
    traces = [t for t in fig.data if t.legendgroup == "targets"]
    drawn = [t for t in traces if not t.showlegend]
    legend = [t for t in traces if t.showlegend]
    assert len(drawn) == 1 and len(legend) == 1
    assert legend[0].marker.color == F.FATE_COLORS[ALIGNED] and tuple(legend[0].x) == (None,)
    assert set(drawn[0].marker.color) <= set(F.TEACHER_COLORS) and len(drawn[0].x) > 0


def test_descent_figure_names_the_picture_by_what_it_shows(runs):
    """'The descent-direction picture', not a picture number the reader cannot look up."""
    run = runs["planar2"]
    fig = F.descent_figure(run, run.n_frames // 2)
    assert "Picture 1" not in fig.to_json() and "Picture 1" not in F.descent_figure.__doc__
    assert "descent-direction picture" in F.descent_figure.__doc__
