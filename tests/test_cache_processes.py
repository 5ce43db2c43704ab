"""Two processes writing the same run at once leave one good file."""

import os
import subprocess
import sys
from pathlib import Path

from featviz import cache
from featviz.config import Config
from featviz.run import Run

CFG = Config(m=40, epochs=2, steps=300)
ROOT = Path(__file__).resolve().parents[1]

# Each writer trains, says it is ready, waits for the word to go (a line on stdin), then writes
# the same run 25 times. Plain subprocesses, not multiprocessing's spawn: spawn re-runs the
# parent's __main__, which an earlier AppTest in the same pytest process may have replaced.
WRITER = """
import sys
from featviz import cache
from featviz.config import Config
from featviz.engine import train
run = train(Config.from_json(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
for _ in range(25):
    cache.store(run, root=cache.Path(sys.argv[2]))
"""


def test_two_processes_writing_the_same_run_leave_one_good_file(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, CFG.to_json(), str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"  # both trained: start writing together
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            assert p.wait(timeout=120) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdin.close()
            p.stdout.close()
    files = sorted(os.listdir(tmp_path))
    assert files == [cache.path_for(CFG, tmp_path).name]  # no temporary files left behind
    run = Run.load_npz(tmp_path / files[0])
    assert run.config == CFG
    assert cache.load(CFG, tmp_path) is not None
