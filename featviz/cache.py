"""Disk cache of finished runs: one .npz per canonical config, named by its hash.

Writes are atomic (a temporary file in the same folder, then os.replace), so a reader sees
either nothing or a whole file, and two processes writing the same run leave one good
file. A file that fails to load or check (truncated, corrupt, foreign, for another config)
is deleted and recomputed, never trusted. Loading never unpickles. The folder is bounded
in size: after a write, the oldest runs are evicted.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from featviz.config import Config
from featviz.fork import Fork, config_of
from featviz.run import Run
from featviz.settings import env_number

DEFAULT_MAX_MB = 500.0


def cache_dir() -> Path:
    """FEATVIZ_CACHE_DIR, or ~/.cache/featviz."""
    env = os.environ.get("FEATVIZ_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "featviz"


def max_bytes() -> int:
    """FEATVIZ_CACHE_MB (default 500) in bytes."""
    return int(env_number("FEATVIZ_CACHE_MB", DEFAULT_MAX_MB) * 1e6)


def path_for(cfg: Config | Fork, root: Path | None = None) -> Path:
    # The name is a hash of the canonical config (or of a fork's chain): no user text reaches a path.
    return (root or cache_dir()) / f"run-{cfg.key()}.npz"


def load(cfg: Config | Fork, root: Path | None = None) -> Run | None:
    """The cached run for cfg (a config or a fork), or None (a bad file is removed)."""
    path = path_for(cfg, root)
    if not path.exists():
        return None
    try:
        run = Run.load_npz(path)
        if run.config.canonical() != config_of(cfg).canonical():
            raise ValueError("file holds another config")
        if run.fork != (cfg.to_mapping() if isinstance(cfg, Fork) else None):
            raise ValueError("file holds another fork")
    except Exception:  # noqa: BLE001 - any unreadable file is recomputed, never trusted
        try:
            path.unlink()
        except OSError:
            pass
        return None
    try:
        os.utime(path)  # recently used: evicted last
    except OSError:
        pass
    return run


def store(run: Run, root: Path | None = None) -> Path | None:
    """Write atomically; returns the path, or None if the disk refused (the run is still usable)."""
    root = root or cache_dir()
    path = path_for(run.config if run.fork is None else Fork.from_mapping(run.fork), root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=root)
        try:
            with os.fdopen(fd, "wb") as f:
                run.save_npz(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        evict(root, keep=path)
        return path
    except OSError:
        return None


def evict(root: Path | None = None, *, keep: Path | None = None, limit: int | None = None) -> list[Path]:
    """Remove the least recently used runs until the folder is under the limit."""
    root = root or cache_dir()
    limit = max_bytes() if limit is None else limit
    files = []
    for p in root.glob("run-*.npz"):
        try:
            st = p.stat()
        except OSError:
            continue
        files.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in files)
    removed = []
    for _, size, p in sorted(files):
        if total <= limit:
            break
        if keep is not None and p == keep:
            continue
        try:
            p.unlink()
            total -= size
            removed.append(p)
        except OSError:
            pass
    return removed


def get_or_train(
    cfg: Config | Fork, train: Callable[[Config | Fork], Run], root: Path | None = None
) -> tuple[Run, bool]:
    """(run, was_cached). Diverged runs are cached too: they are a deterministic result."""
    run = load(cfg, root)
    if run is not None:
        return run, True
    run = train(cfg)
    store(run, root)
    return run, False
