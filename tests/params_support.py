"""Shared by the tests of parameters and sweep axes: how a rejected value is checked."""

import pytest

from featviz.params import ConfigError


def assert_rejected(call, param: str, words: str) -> ConfigError:
    """call() raises a ConfigError that names `param` and whose text holds `words`; returns the error."""
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.param == param, info.value
    assert words in str(info.value), info.value
    return info.value
