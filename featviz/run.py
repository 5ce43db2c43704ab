"""A recorded training run: plain numpy arrays, saved to and loaded from .npz without pickle."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field, replace

import numpy as np

from featviz.config import Config

# Stage codes stored per snapshot.
STAGE_NAMES = ("init", "stage 1", "stage 2", "stage 3", "gd")
STAGE_INIT, STAGE_1, STAGE_2, STAGE_3, STAGE_GD = range(5)


@dataclass(frozen=True)
class ArrayField:
    """One recorded array: its dtype, its shape in the dimensions T (snapshots), m (student
    width), d (input dimension), k (teachers) and r (rank of the teacher span), and its meaning.
    An array whose shape starts with T holds one entry per snapshot."""

    name: str
    dtype: str
    shape: tuple[str, ...]
    meaning: str

    @property
    def per_frame(self) -> bool:
        return self.shape[:1] == ("T",)


# The Run schema, declared once: the Run fields, the recorder's columns, thinning, the checks
# and the .npz I/O all follow it (a test ties Run's fields to it).
SCHEMA: tuple[ArrayField, ...] = (
    ArrayField("teacher_w", "float64", ("k", "d"), "unit teacher directions"),
    ArrayField("teacher_a", "float64", ("k",), "teacher output weights a*_i"),
    ArrayField("basis", "float64", ("r", "d"), "orthonormal basis of the teacher span, used for projections"),
    ArrayField("step", "int64", ("T",), "global step of each snapshot"),
    ArrayField("stage", "int8", ("T",), "stage of each snapshot, an index into STAGE_NAMES"),
    ArrayField("lam", "float64", ("T",), "weight decay in force when the snapshot's state was reached"),
    ArrayField("mse", "float64", ("T",), "exact population mse E[(f - f*)^2]"),
    ArrayField(
        "train_loss", "float64", ("T",), "training loss: the mse for data=population, the empirical mse for samples"
    ),
    ArrayField("objective", "float64", ("T",), "train_loss + lam/2 (|a|^2 + |W|_F^2)"),
    ArrayField("w", "float64", ("T", "m", "d"), "student input weights w_j"),
    ArrayField("a", "float64", ("T", "m"), "student output weights a_j"),
    ArrayField("alpha", "float64", ("T",), "the bias alpha"),
    ArrayField("beta", "float64", ("T", "d"), "the linear term beta"),
)
ARRAY_FIELDS = tuple(f.name for f in SCHEMA)
PER_FRAME = tuple(f for f in SCHEMA if f.per_frame)


@dataclass
class Run:
    """A recorded run: its config, the arrays of SCHEMA (in that order) and how training ended."""

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
    fork: dict[str, str] | None = None  # a fork's link (featviz.fork.Fork.to_mapping); None for a plain run
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
        return sum(arr.nbytes for arr in self.arrays().values())

    def arrays(self) -> dict[str, np.ndarray]:
        """The recorded arrays by name, in SCHEMA order."""
        return {f.name: getattr(self, f.name) for f in SCHEMA}

    def with_frames(self, frames: dict[str, np.ndarray], **changes) -> Run:
        """This run with its per-frame arrays replaced by `frames` (one per name in PER_FRAME) and
        any other field by `changes`; the metrics are computed again on first use."""
        if set(frames) != {f.name for f in PER_FRAME}:
            raise ValueError(f"frames must hold exactly the per-frame arrays {[f.name for f in PER_FRAME]}")
        return replace(self, **frames, **changes, _metrics=None)

    def frames_subset(self, indices) -> Run:
        """The same run keeping only the snapshots at `indices` (sorted, unique)."""
        idx = np.unique(np.asarray(indices, dtype=int))
        return self.with_frames({f.name: getattr(self, f.name)[idx] for f in PER_FRAME})

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
        arrays = self.arrays() | met.as_arrays()
        meta = {
            "status": self.status,
            "message": self.message,
            "diverged_step": self.diverged_step,
            "train_seconds": self.train_seconds,
            "stage_names": list(STAGE_NAMES),
        }
        if self.fork is not None:
            meta["fork"] = dict(self.fork)
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
                arrays = {f.name: np.asarray(z[f.name]) for f in SCHEMA}
            except KeyError as e:
                raise ValueError(f"missing field {e}") from None
        run = cls(
            config=cfg,
            status=str(meta["status"]),
            message=str(meta["message"]),
            diverged_step=int(meta["diverged_step"]),
            train_seconds=float(meta["train_seconds"]),
            fork=fork_link(meta.get("fork")),
            **arrays,
        )
        run.check()
        return run

    def check(self) -> None:
        """Shapes, dtypes and finiteness as SCHEMA says for this config; raises ValueError if not."""
        c = self.config
        T = self.step.shape[0] if self.step.ndim else 0
        if T < 1:
            raise ValueError("a run needs at least one snapshot")
        dims = {"T": T, "m": c.m, "d": c.d, "k": c.k}
        for f in SCHEMA:
            arr = getattr(self, f.name)
            # r, the rank of the teacher span, is whatever the basis holds.
            if arr.ndim != len(f.shape) or any(
                dims.get(dim, n) != n for dim, n in zip(f.shape, arr.shape, strict=True)
            ):
                expected = tuple(dims.get(dim, dim) for dim in f.shape)
                raise ValueError(f"{f.name} has shape {arr.shape}, expected {expected}")
            if arr.dtype != np.dtype(f.dtype):
                raise ValueError(f"{f.name} has dtype {arr.dtype}, expected {f.dtype}")
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                raise ValueError(f"{f.name} holds NaN or inf")


def fork_link(value) -> dict[str, str] | None:
    """A saved fork link: a str -> str mapping (checked as a link when it is used), else ValueError."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("the fork link in the metadata should map names to texts")
    return dict(value)
