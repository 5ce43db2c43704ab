"""The Compare and Theory pages' links as configs: the A/B pair and the planar teachers."""

from featviz.config import Config
from featviz.page_links import (
    DEFAULT_A,
    DEFAULT_B,
    THEORY_TEACHERS,
    differing,
    pair_from_link,
    pair_link,
    planar_teachers,
)


def test_empty_link_is_the_default_pair():
    assert pair_from_link({}) == (DEFAULT_A, DEFAULT_B, [])
    assert differing(DEFAULT_A, DEFAULT_B) == {"lam": ("0", "0.1")}
    assert pair_link(DEFAULT_A, DEFAULT_B) == DEFAULT_A.to_mapping() | {"b.lam": "0.1"}


def test_pair_round_trips_through_its_link():
    a = Config(m=12, epochs=2, steps=100)
    b = a.replace(seed=4, k=2, lr=0.1)
    link = pair_link(a, b)
    assert {k for k in link if k.startswith("b.")} == {"b.k", "b.a_star", "b.angles", "b.lr", "b.seed"}
    assert pair_from_link(link) == (a, b, [])


def test_b_changing_k_gets_lists_that_fit_and_bad_b_values_are_named_for_b():
    a, b, messages = pair_from_link(Config(m=12).to_mapping() | {"b.k": "5", "b.lr": "oops"})
    assert messages and all(m.startswith("B: Parameter `lr`:") for m in messages)
    assert b.k == 5 and len(b.a_star) == 5 and b.lr == a.lr and a.k == 3


def test_planar_teachers_any_k_up_to_eight_and_one_message_otherwise():
    cfg, messages = planar_teachers("0,20,40,60,80,100,120,140", "1,-1,1,-1,1,-1,1,-1")
    assert messages == [] and (cfg.k, cfg.d, cfg.teachers, cfg.m) == (8, 6, "planar", 24)
    for angles, a_star, param in (
        ("0,0.2", "1,1", "angles"),
        ("0,60", "1,1,1", "a_star"),
        (",".join("0" * 9), "1", "angles"),
    ):
        cfg, messages = planar_teachers(angles, a_star)
        assert cfg == THEORY_TEACHERS
        assert len(messages) == 1 and messages[0].startswith(f"Parameter `{param}`:"), messages
        assert messages[0].endswith("using the default teachers instead.")
