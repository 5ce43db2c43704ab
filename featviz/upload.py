"""Open a run file from someone else (an upload, a file sent by a colleague) without trusting it.

``load_run_bytes(data)`` returns a checked ``Run`` or raises ``UploadError`` with one message
for people. It never unpickles, and it bounds memory before reading anything: the file size
and every member's uncompressed size, as declared in the zip directory, are checked against
the cap first (a zip bomb is refused unread), and a member is never inflated past its
declared size. Then the schema (required members and metadata, engine version), the dtypes,
the shapes (one T, m, d, k throughout, as the config says), the stage codes and finiteness.

The cap is ``FEATVIZ_MAX_UPLOAD_MB`` (default 50): it bounds the file and, separately, the
total uncompressed size of the arrays read from it.
"""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np

from featviz.config import ENGINE_VERSION, Config, ConfigError
from featviz.run import ARRAY_FIELDS, SCHEMA, STAGE_NAMES, Run, fork_link
from featviz.settings import env_number

DEFAULT_MAX_UPLOAD_MB = 50.0
MAX_ABS_PARAM = 1e100  # weights beyond this are no trained run (and would overflow the metrics)
_TEXT_FIELDS = ("config", "meta")


class UploadError(ValueError):
    """A file that is not a readable run; the message says why, for people."""


def max_upload_bytes() -> int:
    """FEATVIZ_MAX_UPLOAD_MB (default 50) in bytes."""
    return int(env_number("FEATVIZ_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB) * 2**20)


def _mb(n: int) -> str:
    return f"{n / 2**20:.3g} MB"


def load_run_bytes(data: bytes, *, max_bytes: int | None = None) -> Run:
    """The run saved in `data` (the bytes of a .npz from the app or the CLI); raises UploadError."""
    cap = max_upload_bytes() if max_bytes is None else int(max_bytes)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UploadError("Not a run file: expected the bytes of a .npz file.")
    if len(data) == 0:
        raise UploadError("The file is empty.")
    if len(data) > cap:
        raise UploadError(f"The file is {_mb(len(data))}, over the upload cap of {_mb(cap)} (FEATVIZ_MAX_UPLOAD_MB).")
    try:
        return _load(bytes(data), cap)
    except UploadError:
        raise
    except Exception as e:  # noqa: BLE001 - a corrupt zip can fail in many ways; each is one message
        raise UploadError(f"Not a readable run file: the archive is damaged ({type(e).__name__}).") from e


def _load(data: bytes, cap: int) -> Run:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError("Not a run file: a run is a .npz (zip) archive, and this is not one.") from None
    with zf:
        members = {info.filename: info for info in zf.infolist()}
        if len(members) != len(zf.infolist()):
            raise UploadError("Not a readable run file: the archive names a member twice.")
        wanted = [*_TEXT_FIELDS, *ARRAY_FIELDS]
        missing = [n for n in wanted if f"{n}.npy" not in members]
        if missing:
            raise UploadError(f"Not a run file: it lacks {', '.join(missing)} (is it a .npz saved by featviz?).")
        total = 0
        for name in wanted:
            info = members[f"{name}.npy"]
            if info.file_size > cap:
                raise UploadError(
                    f"The array {name} would unpack to {_mb(info.file_size)}, over the cap of {_mb(cap)} "
                    "(FEATVIZ_MAX_UPLOAD_MB)."
                )
            total += info.file_size
        if total > cap:
            raise UploadError(
                f"The arrays would unpack to {_mb(total)} in all, over the cap of {_mb(cap)} (FEATVIZ_MAX_UPLOAD_MB)."
            )
        arrays = {name: _read_array(zf, members[f"{name}.npy"], name) for name in wanted}
    cfg, meta = _read_header(arrays.pop("config"), arrays.pop("meta"))
    arrays = _check_arrays(arrays, cfg)
    run = Run(
        config=cfg,
        status=meta["status"],
        message=meta["message"],
        diverged_step=meta["diverged_step"],
        train_seconds=meta["train_seconds"],
        fork=meta["fork"],
        **arrays,
    )
    try:
        run.check()
    except ValueError as e:
        raise UploadError(f"Not a consistent run: {e}.") from None
    return run


def _read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    # zipfile stops inflating at the declared size (and then checks the CRC), so a member
    # that lies about its size cannot expand past the cap checked above.
    with zf.open(info) as f:
        raw = f.read(info.file_size + 1)
    if len(raw) != info.file_size:
        raise UploadError(f"Not a readable run file: the member {name} is damaged.")
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise UploadError(f"The array {name} holds Python objects; run files hold numbers only.") from None
        raise UploadError(f"Not a readable run file: the array {name} is damaged.") from None
    except Exception:  # noqa: BLE001 - a malformed .npy header
        raise UploadError(f"Not a readable run file: the array {name} is damaged.") from None


def _text(arr: np.ndarray, name: str) -> str:
    if arr.dtype.kind != "U" or arr.shape != ():
        raise UploadError(f"Not a run file: {name} should be one text, got dtype {arr.dtype} shape {arr.shape}.")
    return str(arr)


def _read_header(config: np.ndarray, meta: np.ndarray) -> tuple[Config, dict]:
    try:
        mapping = json.loads(_text(config, "config"))
        meta_d = json.loads(_text(meta, "meta"))
    except json.JSONDecodeError:
        raise UploadError("Not a run file: its config or metadata is not valid JSON.") from None
    if not isinstance(mapping, dict) or not isinstance(meta_d, dict):
        raise UploadError("Not a run file: its config and metadata should be JSON objects.")
    version = meta_d.get("engine_version", meta_d.get("engine", ENGINE_VERSION))
    if str(version) != ENGINE_VERSION:
        raise UploadError(
            f"This run was saved by engine version {str(version)[:20]!r}; this app reads version {ENGINE_VERSION}. "
            "Train it again here."
        )
    names = meta_d.get("stage_names", list(STAGE_NAMES))
    if not isinstance(names, list) or names != list(STAGE_NAMES):
        raise UploadError("This run uses other stage names than this app: it comes from another version.")
    try:
        cfg = Config.from_mapping({str(k): v for k, v in mapping.items()})
    except ConfigError as e:
        raise UploadError(f"The run's config is not valid here: {e}.") from None
    except (TypeError, ValueError, OverflowError):
        raise UploadError("The run's config is not valid here.") from None
    status = meta_d.get("status")
    message = meta_d.get("message")
    diverged = meta_d.get("diverged_step")
    seconds = meta_d.get("train_seconds")
    if status not in ("ok", "diverged") or not isinstance(message, str):
        raise UploadError("Not a run file: its metadata lacks a valid status and message.")
    if isinstance(diverged, bool) or not isinstance(diverged, int) or abs(diverged) > 2**62:
        raise UploadError("Not a run file: its metadata lacks a valid diverged_step.")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        raise UploadError("Not a run file: its metadata lacks a valid train_seconds.")
    try:
        fork = fork_link(meta_d.get("fork"))
    except ValueError:
        raise UploadError("Not a run file: its metadata holds a malformed fork link.") from None
    meta_out = dict(status=status, message=message[:2000], diverged_step=diverged, train_seconds=float(seconds))
    meta_out["fork"] = fork
    return cfg, meta_out


def _check_arrays(arrays: dict[str, np.ndarray], cfg: Config) -> dict[str, np.ndarray]:
    out = {}
    for f in SCHEMA:
        name, arr = f.name, arrays[f.name]
        kind = arr.dtype.kind
        if np.dtype(f.dtype).kind in "iu":
            if kind not in "iu":
                raise UploadError(f"The array {name} should hold integers, not {arr.dtype}.")
            out[name] = arr.astype(arr.dtype.newbyteorder("="))  # the saved type, in native byte order
        else:
            if kind not in "fiu":
                raise UploadError(f"The array {name} should hold numbers, not {arr.dtype}.")
            arr = arr.astype(arr.dtype.newbyteorder("=")) if kind == "f" else arr.astype(np.float64)
            if not np.isfinite(arr).all():
                raise UploadError(f"The array {name} holds NaN or inf.")
            out[name] = arr
    T = out["step"].shape[0] if out["step"].ndim == 1 else -1
    if T < 1:
        raise UploadError(f"The array step should be a list of snapshot steps, got shape {out['step'].shape}.")
    dims = {"T": T, "m": cfg.m, "d": cfg.d, "k": cfg.k}
    for f in SCHEMA:
        if "r" in f.shape:  # the rank of the teacher span: checked on basis below
            continue
        name, shape = f.name, tuple(dims[dim] for dim in f.shape)
        if out[name].shape != shape:
            raise UploadError(
                f"The array {name} has shape {out[name].shape}; the run's config (d={cfg.d}, k={cfg.k}, m={cfg.m}) "
                f"and its {T} snapshots need {shape}."
            )
    basis = out["basis"]
    if basis.ndim != 2 or basis.shape[1] != cfg.d or not 1 <= basis.shape[0] <= cfg.k:
        raise UploadError(f"The array basis has shape {basis.shape}; it should be (r, {cfg.d}) with 1 ≤ r ≤ {cfg.k}.")
    for name in (f.name for f in SCHEMA if np.dtype(f.dtype).kind == "f"):
        if np.abs(out[name]).max(initial=0.0) > MAX_ABS_PARAM:
            raise UploadError(f"The array {name} holds values beyond ±{MAX_ABS_PARAM:g}: not a trained run.")
    if not np.allclose(np.linalg.norm(out["teacher_w"], axis=1), 1.0, atol=1e-6):
        raise UploadError("The teacher directions teacher_w should be unit vectors.")
    if not np.allclose(basis @ basis.T, np.eye(basis.shape[0]), atol=1e-6):
        raise UploadError("The array basis should have orthonormal rows.")
    stage = out["stage"]
    if stage.min() < 0 or stage.max() >= len(STAGE_NAMES):
        raise UploadError(f"The array stage holds codes outside 0..{len(STAGE_NAMES) - 1}.")
    step = out["step"]
    if step.min() < 0 or np.any(np.diff(step) < 0):
        raise UploadError("The array step should hold non-negative, non-decreasing step numbers.")
    if out["lam"].min() < 0:
        raise UploadError("The array lam holds a negative weight decay.")
    return out
