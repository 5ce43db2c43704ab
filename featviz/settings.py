"""Settings read from the environment (FEATVIZ_*): one reader, forgiving of bad values."""

from __future__ import annotations

import math
import os


def env_number(var: str, default: float) -> float:
    """A positive finite number from the environment; anything else gives the default."""
    try:
        v = float(os.environ.get(var, default))
    except ValueError:
        return default
    return v if v > 0 and math.isfinite(v) else default
