"""Two processes writing the same run at once leave one good file."""

import multiprocessing as mp
import os

from featviz import cache
from featviz.config import Config
from featviz.run import Run

CFG = Config(m=40, epochs=2, steps=300)


def _write_many(root: str, barrier, n: int) -> None:
    from featviz.engine import train

    run = train(CFG)
    barrier.wait()  # start writing at the same moment
    for _ in range(n):
        cache.store(run, root=cache.Path(root))


def test_two_processes_writing_the_same_run_leave_one_good_file(tmp_path):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_write_many, args=(str(tmp_path), barrier, 25)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    files = sorted(os.listdir(tmp_path))
    assert files == [cache.path_for(CFG, tmp_path).name]  # no temporary files left behind
    run = Run.load_npz(tmp_path / files[0])
    assert run.config == CFG
    assert cache.load(CFG, tmp_path) is not None
