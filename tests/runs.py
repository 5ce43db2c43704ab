"""What the run tests share: a small config, the exact comparison of two runs, a student with special neurons."""

import numpy as np

from featviz.config import Config
from featviz.run import ARRAY_FIELDS, Run

SMALL = Config().replace(d=4, k=2, m=6, epochs=2, steps=20, frames=10)


def assert_same_run(one: Run, two: Run):
    assert one.config == two.config
    for name in ARRAY_FIELDS:
        x, y = getattr(one, name), getattr(two, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert (one.status, one.message, one.diverged_step) == (two.status, two.message, two.diverged_step)
    assert one.train_seconds == two.train_seconds


def special_student(rng, m: int, d: int = 8):
    """Student weights (W, a) with a dead, an aligned and an anti-aligned neuron, k=3 teachers
    (tw, ta) and the parameters (alpha, beta) to set: (W, a, tw, ta, params)."""
    W = rng.standard_normal((m, d)) * 0.3
    a = rng.standard_normal(m) * 0.3
    tw = np.linalg.qr(rng.standard_normal((d, 3)))[0].T
    ta = np.array([1.0, -1.0, 0.5])
    W[0], a[0] = 0.0, 0.0  # a dead neuron (w and a both zero: a stationary point)
    W[1] = 0.7 * tw[0]  # aligned with a teacher
    W[2] = -0.4 * tw[1]  # on the other end of a teacher line
    return W, a, tw, ta, dict(alpha=0.2, beta=np.linspace(-0.1, 0.1, d))
