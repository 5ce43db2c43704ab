"""The bound on a run's far mass and the lambda^2 law, checked on converged runs."""

import numpy as np
import pytest

from featviz.bounds import (
    epoch_end_points,
    far_mass_bound,
    lam2_law_mse,
    mass_objective,
    orthonormal_optimum,
    reference_config,
)
from featviz.certificate import K_ONE, certificate_for_config
from featviz.config import Config
from featviz.engine import train


@pytest.fixture(scope="module")
def default_run():
    return train(Config())


def test_converged_run_reaches_the_exact_orthonormal_optimum():
    lam = 0.05
    cfg = reference_config(Config(), lam, steps=6000)
    run = train(cfg)
    opt = orthonormal_optimum(cfg.a_star, lam)
    np.testing.assert_allclose(run.metrics.captured[-1], opt["captured"], atol=1e-6)
    np.testing.assert_allclose(opt["captured"], np.array(cfg.a_star) * (1 - lam / (2 * K_ONE)))
    assert run.mse[-1] == pytest.approx(3 * lam**2 / (4 * K_ONE), rel=1e-6)
    assert mass_objective(run)[-1] == pytest.approx(opt["objective"], rel=1e-6)


def test_epoch_ends_follow_the_lam2_law(default_run):
    pts = epoch_end_points(default_run)
    assert pts["lam"].size == 8
    np.testing.assert_allclose(pts["mse"], lam2_law_mse(3, pts["lam"]), rtol=0.02)
    assert (pts["step"] <= pts["epoch_end"]).all()


def test_default_run_keeps_within_the_bound(default_run):
    cert = certificate_for_config(Config())
    out = far_mass_bound(
        default_run, cert.rho, lambda lam: orthonormal_optimum(default_run.teacher_a, lam)["objective"], cert.norm2
    )
    assert not out["violated"].any()
    assert (out["safe_bound"] >= out["paper_bound"]).all()
    assert out["far_mass"][-1] < 1e-4 and out["paper_bound"][-1] < 1e-3  # tight at the end
