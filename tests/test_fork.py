"""Forks: a run continued from one of its frames with new settings (featviz.fork)."""

import json

import numpy as np
import pytest

from featviz import cache, cli
from featviz.config import Config, ConfigError
from featviz.engine import train
from featviz.fork import Fork, branch_steps, train_fork
from featviz.jobs import JobManager
from featviz.run import PER_FRAME, Run

SMALL = Config(d=4, k=2, a_star=(1.0, -1.0), angles=(0.0, 60.0), m=8, epochs=4, steps=60, frames=20)


@pytest.fixture(scope="module")
def parent():
    return train(SMALL)


def _branch(run: Run, near: int) -> int:
    steps = branch_steps(run)
    return min(steps, key=lambda s: abs(s - near))


def test_parent_prefix_is_bit_identical(parent):
    step = _branch(parent, 100)
    run = train_fork(Fork.of(SMALL, step, lam=0.5), parent_run=parent)
    i = int(np.flatnonzero(parent.step == step)[0])
    for f in PER_FRAME:  # frames up to and including the branch: the parent's, bit for bit
        np.testing.assert_array_equal(getattr(run, f.name)[: i + 1], getattr(parent, f.name)[: i + 1], err_msg=f.name)
    assert np.all(np.diff(run.step) > 0)
    assert run.step[i + 1] == step + 1  # the fork's own log-spaced frames start right after the branch
    assert run.step[-1] == SMALL.total_steps
    assert run.lam[i + 1] == 0.5 * SMALL.lam_decay ** ((step) // SMALL.steps)  # λ·decay^epoch, from the start
    np.testing.assert_array_equal(run.teacher_w, parent.teacher_w)
    assert run.config == SMALL.replace(lam=0.5)
    assert run.fork == Fork.of(SMALL, step, lam=0.5).to_mapping()


def test_fork_without_changes_continues_as_the_parent(parent):
    step = _branch(parent, 90)
    run = train_fork(Fork(SMALL, step), parent_run=parent)
    common = np.intersect1d(parent.step, run.step)
    assert common[-1] == SMALL.total_steps and len(common) > np.count_nonzero(parent.step <= step)
    ip, ir = np.searchsorted(parent.step, common), np.searchsorted(run.step, common)
    np.testing.assert_array_equal(run.w[ir], parent.w[ip])
    np.testing.assert_array_equal(run.mse[ir], parent.mse[ip])


def test_fork_of_a_fork(parent):
    s1 = _branch(parent, 60)
    first = Fork.of(SMALL, s1, lam=0.0)
    run1 = train_fork(first, parent_run=parent)
    s2 = int(run1.step[np.flatnonzero(run1.step > s1)[3]])
    second = Fork.of(first, s2, lr=0.1, epochs=5)
    assert second.depth == 2 and second.root == SMALL
    assert second.config == SMALL.replace(lam=0.0, lr=0.1, epochs=5)
    link = second.to_mapping()
    assert link["fork.step"] == str(s1) and link["fork.lam"] == "0"
    assert link["fork2.step"] == str(s2) and link["fork2.lr"] == "0.1" and link["fork2.epochs"] == "5"
    assert Fork.from_mapping(link) == second  # the link reproduces the chain
    run2 = train_fork(second)  # trains the root and the first fork itself
    j = int(np.flatnonzero(run1.step == s2)[0])
    np.testing.assert_array_equal(run2.w[: j + 1], run1.w[: j + 1])
    assert run2.step[-1] == 5 * SMALL.steps
    assert run2.fork == link


def test_keys_are_distinct_and_stable():
    a = Fork.of(SMALL, 40, lam=0.2)
    keys = {
        SMALL.key(),
        a.key(),
        Fork.of(SMALL, 41, lam=0.2).key(),
        Fork.of(SMALL, 40, lam=0.3).key(),
        Fork.of(SMALL, 40).key(),
        Fork.of(a, 50).key(),
        Fork.of(SMALL.replace(seed=1), 40, lam=0.2).key(),
    }
    assert len(keys) == 7
    assert Fork.of(SMALL, 40, lam=0.2).key() == a.key()
    assert Fork(SMALL, 40, (("lr", 0.2), ("lam", 0.2))) == Fork(SMALL, 40, (("lam", 0.2), ("lr", 0.2)))
    assert SMALL.replace(lam=0.2).key() != a.key()  # a fork never takes a plain run's cache file


def test_bad_frame_names_the_parameter_and_the_valid_steps(parent):
    steps = branch_steps(parent)
    missing = next(s for s in range(1, SMALL.total_steps) if s not in steps)
    with pytest.raises(ConfigError) as info:
        train_fork(Fork.of(SMALL, missing, lam=0.1), parent_run=parent)
    assert info.value.param == "fork.step"
    text = str(info.value)
    assert f"got {missing}" in text and "nearest" in text and str(steps[-1]) in text


def test_bad_changes_are_named():
    with pytest.raises(ConfigError) as info:
        Fork.of(SMALL, 10, m=4)
    assert info.value.param == "fork.m"
    with pytest.raises(ConfigError) as info:
        Fork.of(SMALL, 10, lam=-1.0)
    assert info.value.param == "fork.lam"
    with pytest.raises(ConfigError) as info:
        Fork.of(SMALL, 500, epochs=2)  # ends at step 120, before the branch
    assert info.value.param == "fork.epochs"
    with pytest.raises(ConfigError) as info:
        Fork.from_mapping(SMALL.to_mapping() | {"fork2.step": "3"})
    assert info.value.param == "fork.step"


def test_fork_is_cached_by_its_key(tmp_cache, parent):
    step = _branch(parent, 100)
    fork = Fork.of(SMALL, step, lam=0.3)
    mgr = JobManager(max_workers=1)
    job = mgr.submit(fork)
    assert job.wait(60) and job.state == "done", job.error
    assert (tmp_cache / f"run-{fork.key()}.npz").exists()
    assert (tmp_cache / f"run-{SMALL.key()}.npz").exists()  # the parent, trained for the fork, is cached too
    assert not (tmp_cache / f"run-{SMALL.replace(lam=0.3).key()}.npz").exists()
    again = cache.load(fork)
    np.testing.assert_array_equal(again.w, job.run.w)
    assert again.fork == fork.to_mapping()
    assert cache.load(Fork.of(SMALL, step, lam=0.4)) is None
    mgr.shutdown()


def test_cli_from_saved_run(tmp_path, capsys, parent):
    src = tmp_path / "parent.npz"
    parent.save_npz(src)
    step = _branch(parent, 100)
    out = tmp_path / "fork.npz"
    assert cli.main(["train", "--from", str(src), "--at-step", str(step), "--lam", "0.4", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    run = Run.load_npz(out)
    assert summary["final_step"] == SMALL.total_steps and run.config.lam == 0.4
    assert run.fork == Fork.of(SMALL, step, lam=0.4).to_mapping()
    np.testing.assert_array_equal(run.w, train_fork(Fork.of(SMALL, step, lam=0.4), parent_run=parent).w)
    # a fork of that fork, from its file
    step2 = int(run.step[-5])
    out2 = tmp_path / "fork2.npz"
    assert cli.main(["train", "--from", str(out), "--at-step", str(step2), "--lam", "0", "--out", str(out2)]) == 0
    capsys.readouterr()
    assert Run.load_npz(out2).fork["fork2.step"] == str(step2)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--at-step", "7"], "argument --at-step: needs --from"),
        (["--at-step", "7", "--m", "4"], "argument --m: a fork keeps its parent's setting"),
        (["--at-step", "999999"], "argument --at-step"),
        (["--at-step", "x"], "argument --at-step: must be an integer"),
    ],
)
def test_cli_fork_errors(tmp_path, capsys, parent, args, needle):
    src = tmp_path / "parent.npz"
    parent.save_npz(src)
    argv = ["train", *args] if args[0] == "--at-step" and "needs" in needle else ["train", "--from", str(src), *args]
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert needle in capsys.readouterr().err
