"""Settings from the environment: a positive finite number, or the default."""

import pytest

from featviz.settings import env_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2.5", 2.5), ("1e3", 1000.0), ("0", 7.0), ("-1", 7.0), ("nan", 7.0), ("inf", 7.0), ("x", 7.0)],
)
def test_env_number_reads_positive_finite_numbers_only(monkeypatch, text, expected):
    monkeypatch.setenv("FEATVIZ_TEST_NUMBER", text)
    assert env_number("FEATVIZ_TEST_NUMBER", 7.0) == expected


def test_env_number_unset_gives_the_default(monkeypatch):
    monkeypatch.delenv("FEATVIZ_TEST_NUMBER", raising=False)
    assert env_number("FEATVIZ_TEST_NUMBER", 7.0) == 7.0
