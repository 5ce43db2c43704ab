"""The curves the certificate figure draws: η, the angle δ to the nearest teacher line and the bound ρδ²."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from featviz.certificate import line_distance
from featviz.metrics import finite


@dataclass(frozen=True)
class CertificateCurves:
    """η on a grid of angles φ in [0, 180) degrees and what a valid certificate must keep (PAPER.md 6)."""

    phi_deg: np.ndarray  # (G,) grid angles, degrees
    eta: np.ndarray  # (G,)
    teacher_deg: np.ndarray  # (k,) teacher angles in [0, 180)
    signs: np.ndarray  # (k,) sign a*_i: the value of η at teacher i
    rho: float  # NaN when unknown
    max_abs_eta: float
    delta: np.ndarray  # (G,) angle to the nearest teacher line, radians

    @classmethod
    def from_values(
        cls, phi_deg, eta, *, teacher_angles_deg, signs, rho: float, max_abs_eta: float
    ) -> CertificateCurves:
        phi = finite(phi_deg)
        tdeg = np.mod(finite(teacher_angles_deg), 180.0)
        return cls(
            phi_deg=phi,
            eta=finite(eta),
            teacher_deg=tdeg,
            signs=np.sign(finite(signs)),
            rho=float(rho),
            max_abs_eta=float(max_abs_eta),
            delta=line_distance(np.radians(phi), np.radians(tdeg)),
        )

    @classmethod
    def from_certificate(cls, cert) -> CertificateCurves:
        """From featviz.certificate.planar_certificate's result (angles in radians)."""
        return cls.from_values(
            np.degrees(cert.phi),
            cert.eta,
            teacher_angles_deg=np.degrees(cert.teacher_phi),
            signs=cert.signs,
            rho=cert.rho,
            max_abs_eta=cert.max_abs_eta,
        )

    @property
    def has_rho(self) -> bool:
        return math.isfinite(self.rho)

    @property
    def need(self) -> np.ndarray:
        """ρδ²: the margin 1 − |η| a valid certificate keeps (NaN everywhere without ρ)."""
        return self.rho * self.delta**2

    @property
    def margin(self) -> np.ndarray:
        """1 − |η|: how far η stays from ±1."""
        return 1.0 - np.abs(self.eta)
