"""Background training shared by every session of one server: the one place runs are cached.

A ``JobManager`` keeps finished runs in memory (LRU) in front of the disk cache and trains
missing ones in worker threads, at most ``max_workers`` long runs at a time (quick runs never
wait for them). Two sessions asking for
the same config share one job, so it is computed once. Sessions poll a job's progress and
may cancel it; a cancelled or failed job never blocks other configs. While a job trains, its
``partial`` is the run so far (engine.train's watch: some recorded snapshots and the current
state), replaced at every progress report; a cancelled job's last partial run stays
available (``JobManager.partial``). No UI import here.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from featviz import cache
from featviz.budget import QUICK_WORK, work_of
from featviz.config import Config, ConfigError, rejected
from featviz.engine import Cancelled, train
from featviz.fork import Fork, config_of, train_fork
from featviz.run import Run
from featviz.settings import env_number

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
DEFAULT_MEMORY_MB = 1000.0
MAX_PARTIALS = 16  # cancelled jobs whose trained frames are kept


def memory_limit() -> int:
    """Bytes of finished runs kept in memory: FEATVIZ_MEMORY_MB, default 1000."""
    return int(env_number("FEATVIZ_MEMORY_MB", DEFAULT_MEMORY_MB) * 1e6)


@dataclass
class Job:
    spec: Config | Fork  # what is trained: a config, or a fork of a run
    key: str
    state: str = QUEUED
    step: int = 0
    total: int = 1
    mse: float = float("nan")
    run: Run | None = None
    partial: Run | None = None  # the run so far while training (the current state last)
    partial_version: int = 0  # counts the partial runs published
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    done_event: threading.Event = field(default_factory=threading.Event)

    @property
    def config(self) -> Config:
        """The config the run trains with (after the branch, for a fork)."""
        return config_of(self.spec)

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED, CANCELLED)

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / max(self.total, 1))

    def wait(self, timeout: float) -> bool:
        return self.done_event.wait(timeout)


class JobManager:
    def __init__(self, *, max_workers: int = 2, memory_bytes: int | None = None, use_disk: bool = True):
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(max_workers)
        self._jobs: dict[str, Job] = {}
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._runs_bytes = 0  # sum of nbytes over self._runs, kept as runs come and go
        self._partials: OrderedDict[str, Run] = OrderedDict()  # cancelled jobs' last partial runs
        self._memory_bytes = memory_limit() if memory_bytes is None else memory_bytes
        self._use_disk = use_disk
        self._threads: list[threading.Thread] = []
        # A training thread still inside torch when the interpreter exits aborts the process.
        atexit.register(self.shutdown)

    def cached(self, cfg: Config | Fork) -> Run | None:
        """A finished run from memory or disk, without training."""
        key = cfg.key()
        with self._lock:
            run = self._runs.get(key)
            if run is not None:
                self._runs.move_to_end(key)
                return run
        run = cache.load(cfg) if self._use_disk else None
        if run is not None:
            self._remember(key, run)
        return run

    def submit(self, cfg: Config | Fork) -> Job:
        """The job for cfg (a config or a fork): finished at once if cached, else shared or started."""
        key = cfg.key()
        run = self.cached(cfg)
        with self._lock:
            if run is not None:
                job = Job(cfg, key, state=DONE, run=run, step=1, total=1)
                job.done_event.set()
                return job
            job = self._jobs.get(key)
            if job is not None and not job.finished:
                return job
            job = Job(cfg, key, total=config_of(cfg).stage_steps + config_of(cfg).total_steps)
            self._jobs[key] = job
        thread = threading.Thread(target=self._work, args=(job,), daemon=True, name=f"featviz-train-{key[:8]}")
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every job and wait for the training threads to end."""
        with self._lock:
            jobs, threads = list(self._jobs.values()), list(self._threads)
        for job in jobs:
            job.cancel_event.set()
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def cancel(self, key: str) -> None:
        with self._lock:
            job = self._jobs.get(key)
        if job is not None and not job.finished:
            job.cancel_event.set()

    def partial(self, key: str) -> Run | None:
        """The frames a cancelled job had trained (its last partial run), if it is remembered."""
        with self._lock:
            return self._partials.get(key)

    def job(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def _remember(self, key: str, run: Run) -> None:
        with self._lock:
            old = self._runs.pop(key, None)
            if old is not None:
                self._runs_bytes -= old.nbytes
            self._runs[key] = run
            self._runs_bytes += run.nbytes
            # Bounded by bytes, not count: one large run can weigh as much as a thousand small ones.
            while len(self._runs) > 1 and self._runs_bytes > self._memory_bytes:
                _, dropped = self._runs.popitem(last=False)
                self._runs_bytes -= dropped.nbytes

    def _run_of(self, spec: Config | Fork) -> Run:
        """A fork's parent: cached, or trained here (in the fork's job) and cached."""
        run = self.cached(spec)
        if run is None:
            run = train_fork(spec, load=self._run_of) if isinstance(spec, Fork) else train(spec)
            if self._use_disk:
                cache.store(run)
            self._remember(spec.key(), run)
        return run

    @property
    def memory_bytes(self) -> int:
        """Bytes of the finished runs held in memory."""
        with self._lock:
            return self._runs_bytes

    def _work(self, job: Job) -> None:
        def progress(step: int, total: int, mse: float) -> None:
            job.step, job.total, job.mse = step, total, mse

        def watch(partial: Run) -> None:
            with self._lock:  # a reader sees a partial run and its version together
                job.partial = partial
                job.partial_version += 1

        try:
            with self._slots if work_of(job.config) >= QUICK_WORK else contextlib.nullcontext():
                if job.cancel_event.is_set():
                    raise Cancelled("cancelled before it started")
                job.state = RUNNING
                job.started = time.monotonic()
                hooks = dict(progress=progress, should_stop=job.cancel_event.is_set, progress_every=0.1, watch=watch)
                if isinstance(job.spec, Fork):  # its parent comes from the caches when it is there
                    run = train_fork(job.spec, load=self._run_of, **hooks)
                else:
                    run = train(job.spec, **hooks)
            if self._use_disk:
                cache.store(run)
            self._remember(job.key, run)
            job.run = run
            job.state = DONE
        except Cancelled:
            job.state = CANCELLED
            if job.partial is not None:
                with self._lock:
                    self._partials[job.key] = job.partial
                    while len(self._partials) > MAX_PARTIALS:
                        self._partials.popitem(last=False)
        except ConfigError as e:  # a fork at a frame its parent does not have
            job.error = rejected(e, "nothing was trained")
            job.state = FAILED
        except Exception as e:  # noqa: BLE001 - a failed job reports, it never takes the server down
            job.error = f"{type(e).__name__}: {e}"
            job.state = FAILED
        finally:
            job.done_event.set()
            with self._lock:
                # Finished jobs are forgotten (their watchers hold them); the run lives on in the caches.
                if self._jobs.get(job.key) is job:
                    del self._jobs[job.key]
