"""The dual certificate: planar on the circle, and on the whole sphere for planar, orthonormal and random teachers."""

import numpy as np
import pytest

from featviz.certificate import K_ONE, certificate_for_config, orthonormal_eta, planar_certificate, sphere_certificate
from featviz.config import Config


def planar_w(angles_deg, d=3):
    phi = np.radians(angles_deg)
    w = np.zeros((len(phi), d))
    w[:, 0], w[:, 1] = np.cos(phi), np.sin(phi)
    return w


def dense_rho(cert, teacher_w, n=1_000_000, seed=1, exclude_deg=0.5):
    """An independent minimum over uniformly random unit vectors of R^d."""
    v = np.random.default_rng(seed).standard_normal((n, teacher_w.shape[1]))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    delta = np.arccos(np.clip(np.abs(v @ teacher_w.T).max(1), 0.0, 1.0))
    keep = delta > np.radians(exclude_deg)
    eta = cert.eta(v[keep])
    return float(((1.0 - np.abs(eta)) / delta[keep] ** 2).min()), float(np.abs(eta).max())


def test_planar_certificate_on_the_circle():
    cert = planar_certificate((0, 75), (1, -1))
    assert cert.max_abs_eta == pytest.approx(1.0, abs=1e-9)
    assert cert.rho == pytest.approx(1.19, abs=0.01)


def test_sphere_rho_for_two_planar_teachers_matches_a_dense_sample():
    tw = planar_w((0, 75))
    cert = sphere_certificate(tw, (1, -1))
    rho_dense, max_dense = dense_rho(cert, tw)
    assert cert.valid and max_dense <= 1.0 + 1e-9
    assert cert.rho == pytest.approx(rho_dense, rel=0.05)
    assert cert.rho == pytest.approx(4 / np.pi**2, rel=1e-3)  # at the pole, where eta = 0 (sum c_i = 0)
    assert cert.rho_span == pytest.approx(planar_certificate((0, 75), (1, -1)).rho, rel=1e-3)  # in-plane 1.19


def test_sphere_certificate_restricted_to_the_plane_is_the_planar_one():
    cert = sphere_certificate(planar_w((0, 60, 120), d=5), (1, -1, 1))
    plane = planar_certificate((0, 60, 120), (1, -1, 1))
    phi = np.linspace(0, np.pi, 400)
    w = np.zeros((phi.size, 5))
    w[:, 0], w[:, 1] = np.cos(phi), np.sin(phi)
    np.testing.assert_allclose(cert.eta(w), plane(phi), atol=1e-10)


def test_orthonormal_certificate_is_the_closed_form():
    tw = np.eye(4)[:3]
    signs = np.array([1.0, -1.0, 1.0])
    cert = sphere_certificate(tw, signs)
    np.testing.assert_allclose(cert.coef_c, signs / K_ONE, rtol=1e-10)
    np.testing.assert_allclose(cert.coef_b, 0.0, atol=1e-10)
    v = np.random.default_rng(0).standard_normal((1000, 4))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    np.testing.assert_allclose(cert.eta(v), orthonormal_eta(v, tw, signs), atol=1e-12)
    rho_dense, _ = dense_rho(cert, tw, n=400_000)
    assert cert.valid and cert.rho <= rho_dense * 1.0001 and cert.rho == pytest.approx(rho_dense, rel=0.05)


def test_random_teachers_get_a_verified_certificate():
    cfg = Config(teachers="random", k=3, d=4, sep=30)
    cert = certificate_for_config(cfg)
    assert cert.valid, cert.reason
    tw = cert.teacher_w
    np.testing.assert_allclose(cert.eta(tw), np.sign(cfg.a_star), atol=1e-9)
    rho_dense, max_dense = dense_rho(cert, tw, n=600_000)
    assert max_dense <= 1.0 + 1e-9
    assert cert.rho == pytest.approx(rho_dense, rel=0.05)
