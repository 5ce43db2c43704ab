"""Shared by the figure tests: small runs of each teacher-span shape and readers of a figure's JSON."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from featviz import figures as F
from featviz.config import Config
from featviz.engine import train
from featviz.metrics import ALIGNED, DEAD, UNDECIDED

SMALL = Config(steps=50, epochs=2, m=12)

SHAPES = {
    "orthonormal3": SMALL,
    "planar2": SMALL.replace(k=2, teachers="planar", angles=(0.0, 60.0)),
    "line1": SMALL.replace(k=1),
    "orthonormal5": SMALL.replace(k=5, d=12),
}


@pytest.fixture(scope="session")
def runs():
    return {name: train(cfg) for name, cfg in SHAPES.items()}


@pytest.fixture(scope="session")
def figs(runs):
    return {name: F.animation_figure(run) for name, run in runs.items()}


@pytest.fixture(scope="session")
def settled():
    """A run long enough to show all three fates (k=1: half the neurons die)."""
    run = train(SMALL.replace(k=1, steps=200))
    assert set(run.metrics.fate.ravel().tolist()) == {ALIGNED, DEAD, UNDECIDED}
    return run


@pytest.fixture(scope="session")
def diverged():
    run = train(SMALL.replace(lam=0.0, init=1.0, lr=50.0))
    assert run.status == "diverged"
    return run


def _numbers(obj):
    """Every number in a figure's JSON, with plotly's base64 typed arrays decoded."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            yield from np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"])).tolist()
            return
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield obj


def _finite_json(fig: go.Figure) -> bool:
    return all(math.isfinite(x) for x in _numbers(json.loads(fig.to_json())))


def _by_name(fig, name):
    return [i for i, t in enumerate(fig.data) if t.name == name]


def _animated(fig):
    return list(fig.frames[0].traces)


def _xy_range(fig, trace):
    xa = fig.layout[trace.xaxis.replace("x", "xaxis")]
    ya = fig.layout[trace.yaxis.replace("y", "yaxis")]
    return xa, ya
