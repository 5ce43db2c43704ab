"""The certificate figure's data: δ, ρδ² and the margin 1 − |η| against hand-derived values."""

import math

import numpy as np

from featviz.certificate import planar_certificate
from featviz.certificate_curves import CertificateCurves


def test_delta_need_and_margin_by_hand():
    phi = [0.0, 30.0, 45.0, 90.0, 135.0, 170.0]
    eta = [1.0, 0.5, -0.2, -1.0, 0.0, 0.9]
    c = CertificateCurves.from_values(
        phi, eta, teacher_angles_deg=[0.0, 270.0], signs=[3.0, -0.5], rho=0.5, max_abs_eta=1.0
    )
    np.testing.assert_allclose(c.teacher_deg, [0.0, 90.0])  # a line: 270 degrees is 90
    np.testing.assert_array_equal(c.signs, [1.0, -1.0])
    np.testing.assert_allclose(c.delta, np.radians([0.0, 30.0, 45.0, 0.0, 45.0, 10.0]), atol=1e-12)
    np.testing.assert_allclose(c.need, 0.5 * np.radians([0.0, 30.0, 45.0, 0.0, 45.0, 10.0]) ** 2, atol=1e-12)
    np.testing.assert_allclose(c.margin, [0.0, 0.5, 0.8, 0.0, 1.0, 0.1], atol=1e-12)
    assert c.has_rho


def test_without_rho_and_with_non_finite_values():
    c = CertificateCurves.from_values(
        [0.0, 90.0], [np.nan, np.inf], teacher_angles_deg=[0.0], signs=[1.0], rho=float("nan"), max_abs_eta=1.0
    )
    assert not c.has_rho
    assert np.isfinite(c.eta).all() and c.eta[0] == 0.0


def test_from_certificate_matches_the_certificate():
    cert = planar_certificate((0.0, 60.0, 120.0), (1.0, -1.0, 1.0))
    c = CertificateCurves.from_certificate(cert)
    np.testing.assert_allclose(c.phi_deg, np.degrees(cert.phi))
    np.testing.assert_allclose(c.teacher_deg, [0.0, 60.0, 120.0], atol=1e-12)
    np.testing.assert_allclose(c.delta, cert.delta, atol=1e-12)
    assert c.rho == cert.rho and math.isclose(c.max_abs_eta, cert.max_abs_eta)
    # a valid certificate: the margin stays above rho delta^2 (PAPER.md section 6)
    assert np.all(c.margin >= c.need - 1e-9)
