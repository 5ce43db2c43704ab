"""A recorded training run: plain numpy arrays, saved to and loaded from .npz without pickle."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field, fields

import numpy as np

from featviz.config import Config

# Stage codes stored per snapshot.
STAGE_NAMES = ("init", "stage 1", "stage 2", "stage 3", "gd")
STAGE_INIT, STAGE_1, STAGE_2, STAGE_3, STAGE_GD = range(5)

ARRAY_FIELDS = (
    "teacher_w",  # (k,d) unit teacher directions
    "teacher_a",  # (k,)
    "basis",  # (r,d) orthonormal basis of the teacher span, used for projections
    "step",  # (T,) int, global step of each snapshot
    "stage",  # (T,) int, index into STAGE_NAMES
    "lam",  # (T,) weight decay in force when the snapshot's state was reached
    "mse",  # (T,) exact population mse E[(f - f*)^2]
    "train_loss",  # (T,) training loss: = mse for data=population, empirical mse for samples
    "objective",  # (T,) train_loss + lam/2 (|a|^2 + |W|_F^2)
    "w",  # (T,m,d)
    "a",  # (T,m)
    "alpha",  # (T,)
    "beta",  # (T,d)
)


@dataclass
class Run:
    config: Config
    teacher_w: np.ndarray
    teacher_a: np.ndarray
    basis: np.ndarray
    step: np.ndarray
    stage: np.ndarray
    lam: np.ndarray
    mse: np.ndarray
    train_loss: np.ndarray
    objective: np.ndarray
    w: np.ndarray
    a: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    status: str = "ok"  # "ok" or "diverged"
    message: str = ""  # why training stopped early, for people
    diverged_step: int = -1
    train_seconds: float = 0.0
    _metrics: object = field(default=None, repr=False, compare=False)

    @property
    def n_frames(self) -> int:
        return int(self.step.shape[0])

    @property
    def metrics(self):
        """Per-snapshot metrics of PAPER.md section 7 (computed once, on first use)."""
        if self._metrics is None:
            from featviz.metrics import run_metrics

            self._metrics = run_metrics(self.w, self.a, self.teacher_w, self.teacher_a)
        return self._metrics

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in ARRAY_FIELDS)

    def frames_subset(self, indices) -> Run:
        """The same run keeping only the snapshots at `indices` (sorted, unique)."""
        idx = np.unique(np.asarray(indices, dtype=int))
        per_frame = {"step", "stage", "lam", "mse", "train_loss", "objective", "w", "a", "alpha", "beta"}
        arrays = {
            name: (getattr(self, name)[idx] if name in per_frame else getattr(self, name)) for name in ARRAY_FIELDS
        }
        return Run(
            config=self.config,
            status=self.status,
            message=self.message,
            diverged_step=self.diverged_step,
            train_seconds=self.train_seconds,
            **arrays,
        )

    def thinned(self, max_points: int) -> Run:
        """At most max_points neuron positions over all frames, for display: an even pick of the
        log-spaced snapshots, first and last always kept. Returns self when already small enough."""
        m = self.config.m
        keep = max(2, max_points // max(m, 1))
        if self.n_frames <= keep:
            return self
        return self.frames_subset(np.round(np.linspace(0, self.n_frames - 1, keep)).astype(int))

    def stage_name(self, i: int) -> str:
        return STAGE_NAMES[int(self.stage[i])]

    def summary(self) -> dict:
        """One JSON-able line: what the CLI prints."""
        met = self.metrics
        return {
            "status": self.status,
            "message": self.message,
            "mse": float(self.mse[-1]),
            "objective": float(self.objective[-1]),
            "final_step": int(self.step[-1]),
            "frames": self.n_frames,
            "aligned": int(met.counts[-1, 0]),
            "dead": int(met.counts[-1, 1]),
            "undecided": int(met.counts[-1, 2]),
            "captured_mass": [round(float(x), 6) for x in met.captured[-1]],
            "a_star": [float(x) for x in self.teacher_a],
            "train_seconds": round(self.train_seconds, 4),
            "config_key": self.config.key(),
        }

    # ---- .npz ------------------------------------------------------------------------
    def to_npz_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.save_npz(buf)
        return buf.getvalue()

    def save_npz(self, file) -> None:
        met = self.metrics
        arrays = {name: getattr(self, name) for name in ARRAY_FIELDS}
        arrays |= met.as_arrays()
        meta = {
            "status": self.status,
            "message": self.message,
            "diverged_step": self.diverged_step,
            "train_seconds": self.train_seconds,
            "stage_names": list(STAGE_NAMES),
        }
        np.savez_compressed(
            file,
            config=np.array(self.config.to_json()),
            meta=np.array(json.dumps(meta)),
            **arrays,
        )

    @classmethod
    def load_npz(cls, file) -> Run:
        """Load and check a saved run; raises ValueError on anything malformed."""
        if isinstance(file, str | os.PathLike):
            # np.load leaks the file it opened when the zip is truncated: open it here.
            with open(file, "rb") as f:
                return cls.load_npz(f)
        try:
            return cls._load_npz(file)
        except ValueError:
            raise
        except Exception as e:  # noqa: BLE001 - BadZipFile, EOFError, zlib.error, a meta key missing, ...
            raise ValueError(f"not a readable run file ({type(e).__name__}: {e})") from e

    @classmethod
    def _load_npz(cls, file) -> Run:
        with np.load(file, allow_pickle=False) as z:
            try:
                cfg = Config.from_json(str(z["config"]))
                meta = json.loads(str(z["meta"]))
                arrays = {name: np.asarray(z[name]) for name in ARRAY_FIELDS}
            except KeyError as e:
                raise ValueError(f"missing field {e}") from None
        run = cls(
            config=cfg,
            status=str(meta["status"]),
            message=str(meta["message"]),
            diverged_step=int(meta["diverged_step"]),
            train_seconds=float(meta["train_seconds"]),
            **arrays,
        )
        run.check()
        return run

    def check(self) -> None:
        """Shapes and finiteness consistent with the config; raises ValueError if not."""
        c = self.config
        T = self.step.shape[0]
        expect = {
            "teacher_w": (c.k, c.d),
            "teacher_a": (c.k,),
            "step": (T,),
            "stage": (T,),
            "lam": (T,),
            "mse": (T,),
            "train_loss": (T,),
            "objective": (T,),
            "w": (T, c.m, c.d),
            "a": (T, c.m),
            "alpha": (T,),
            "beta": (T, c.d),
        }
        if T < 1:
            raise ValueError("a run needs at least one snapshot")
        for name, shape in expect.items():
            arr = getattr(self, name)
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                raise ValueError(f"{name} holds NaN or inf")
        if self.basis.ndim != 2 or self.basis.shape[1] != c.d:
            raise ValueError(f"basis has shape {self.basis.shape}")


def run_field_names() -> list[str]:
    return [f.name for f in fields(Run) if not f.name.startswith("_")]
