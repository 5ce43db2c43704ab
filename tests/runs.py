"""What the run tests share: a small config and the exact comparison of two runs."""

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
