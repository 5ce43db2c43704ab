"""Sweeps on a Ray cluster: chunks of cells go to an existing cluster as tasks with retries.

Optional: needs ``requirements-ray.txt``; nothing else in featviz imports Ray. The driver (the
CLI or the app's server) connects with ``ray.init(address=...)`` and ships its own featviz
package with the tasks (``runtime_env.py_modules``), so the cluster needs only the packages of
requirements.txt and Ray. A task trains one chunk with ``featviz.sweep.train_chunk`` and returns
its runs; a task whose worker dies is retried (``MAX_RETRIES``) and, being a pure function of
its configs, gives the same runs again. The driver writes the disk cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from featviz.config import Config
from featviz.run import Run

MAX_RETRIES = 5


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached."""


def _train_chunk_task(cells: list[Config], threads: int) -> list[Run]:
    from featviz import sweep

    return sweep.train_chunk(cells, threads)


def connect(address: str) -> None:
    """Connect this process to the cluster at address (once; later calls reuse the connection)."""
    try:
        import ray
    except ImportError as e:
        raise RayUnavailable("Ray is not installed (pip install -r requirements-ray.txt)") from e
    if ray.is_initialized():
        return
    package = str(Path(__file__).resolve().parent)
    try:
        ray.init(
            address=address,
            runtime_env={"py_modules": [package], "excludes": ["__pycache__"]},
            logging_level="ERROR",
            log_to_driver=False,
        )
    except Exception as e:  # noqa: BLE001 - Ray raises many kinds; one message for the user
        raise RayUnavailable(f"cannot connect to a Ray cluster ({type(e).__name__}: {e})") from e


def executor(address: str, *, threads: int = 1) -> Callable[[list[list[Config]]], Iterator[tuple[int, list[Run]]]]:
    """An executor for sweep.run_sweep: yields (chunk index, runs) as the cluster finishes them."""
    connect(address)
    import ray

    task = ray.remote(num_cpus=threads, max_retries=MAX_RETRIES, retry_exceptions=False)(_train_chunk_task)

    def run(work: list[list[Config]]) -> Iterator[tuple[int, list[Run]]]:
        pending = {task.remote(chunk, threads): i for i, chunk in enumerate(work)}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                yield pending.pop(ref), ray.get(ref)

    return run
