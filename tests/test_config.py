"""Config: validation, the exact string round trip, the lenient link reader, cache keys."""

import dataclasses
import math
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from params_support import assert_rejected

from featviz import config as config_module
from featviz.config import (
    GROUPS,
    MAX_K,
    MIN_ABS_A_STAR,
    PARAMS,
    Config,
    ConfigError,
    max_random_sep,
    parse_lenient,
    parse_value,
    reason,
    rejected,
)


def lines_apart(angles, min_deg=1.0) -> bool:
    """Teacher lines (angles modulo 180) pairwise at least min_deg apart."""
    for i, x in enumerate(angles):
        for y in angles[:i]:
            diff = (x - y) % 180.0
            if min(diff, 180.0 - diff) < min_deg:
                return False
    return True


def rng_floats(name):
    p = PARAMS[name]
    return st.floats(p.lo, p.hi, allow_nan=False, allow_infinity=False)


def rng_ints(name):
    p = PARAMS[name]
    return st.integers(int(p.lo), int(p.hi))


@st.composite
def configs(draw) -> Config:
    """Any valid Config, cross-field rules included."""
    d = draw(rng_ints("d"))
    k = draw(st.integers(1, min(MAX_K, d)))
    teachers = draw(st.sampled_from(PARAMS["teachers"].choices))
    sep_hi = max_random_sep(d, k) if teachers == "random" and k > 1 else 90.0
    sep = draw(st.floats(0.0, sep_hi))
    angles = draw(st.lists(rng_floats("angles"), min_size=k, max_size=k))
    if teachers == "planar":
        angles = draw(
            st.lists(rng_floats("angles"), min_size=k, max_size=k).filter(lambda a: lines_apart(a, 1.0 + 1e-9))
        )
    magnitudes = draw(st.lists(st.floats(MIN_ABS_A_STAR, 10.0), min_size=k, max_size=k))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k, max_size=k))
    algo = draw(st.sampled_from(PARAMS["algo"].choices))
    symmetric = draw(st.sampled_from(PARAMS["symmetric"].choices))
    paired = algo == "paper" or symmetric == "yes"
    m = draw(st.integers(1, 500)) * 2 if paired else draw(rng_ints("m"))
    return Config(
        d=d,
        k=k,
        teachers=teachers,
        sep=sep,
        angles=tuple(angles),
        a_star=tuple(s * x for s, x in zip(signs, magnitudes, strict=True)),
        m=m,
        init=draw(rng_floats("init")),
        symmetric=symmetric,
        lam=draw(rng_floats("lam")),
        lam_decay=draw(rng_floats("lam_decay")),
        epochs=draw(rng_ints("epochs")),
        steps=draw(rng_ints("steps")),
        lr=draw(rng_floats("lr")),
        algo=algo,
        eta1=draw(rng_floats("eta1")),
        data=draw(st.sampled_from(PARAMS["data"].choices)),
        n=draw(rng_ints("n")),
        seed=draw(rng_ints("seed")),
        frames=draw(rng_ints("frames")),
    )


# ---- round trip ----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(configs())
def test_mapping_round_trip_is_exact(cfg):
    mapping = cfg.to_mapping()
    assert set(mapping) == set(PARAMS)
    assert all(isinstance(v, str) for v in mapping.values())
    assert Config.from_mapping(mapping) == cfg
    assert Config.from_json(cfg.to_json()) == cfg
    # The lenient reader agrees with the strict one on valid input and has nothing to say.
    assert parse_lenient(mapping) == (cfg, [])


def test_defaults_are_valid_and_fit_k():
    cfg = Config()
    assert len(cfg.a_star) == len(cfg.angles) == cfg.k
    assert Config.from_mapping({}) == cfg
    five = Config.from_mapping({"k": "5"})
    assert five.a_star == (1.0, -1.0, 1.0, -1.0, 1.0)
    assert five.angles == (0.0, 36.0, 72.0, 108.0, 144.0)
    # replace() re-derives the per-teacher lists when k changes, unless they are given.
    assert cfg.replace(k=2).a_star == (1.0, -1.0)
    assert cfg.replace(k=2, a_star=(0.5, 2.0)).a_star == (0.5, 2.0)


# ---- invalid values ------------------------------------------------------------------------


def out_of_range_texts(p):
    lo, hi = p.lo, p.hi
    yield repr(lo - max(1.0, abs(lo)))
    yield repr(hi + max(1.0, abs(hi)))
    yield from ("nan", "inf", "-inf", "-1e308", "", "abc")


def single_value_cases():
    for name, p in PARAMS.items():
        if p.kind == "choice":
            for text in ("bogus", "", p.choices[0].upper(), "nan"):
                yield name, text, p.allowed
        elif p.kind == "floats":
            for text in ("1,abc,2", "", "1,,2", "nan,1,1", "1,inf,1", f"1,{p.hi * 2:g},1", f"{p.lo * 2:g},1,1"):
                yield name, text, p.allowed
        else:
            for text in out_of_range_texts(p):
                yield name, text, p.allowed
            if p.kind == "int":
                yield name, "2.5", p.allowed


@pytest.mark.parametrize(("name", "text", "allowed"), list(single_value_cases()))
def test_invalid_value_names_the_parameter_and_its_range(name, text, allowed):
    message = str(assert_rejected(lambda: Config.from_mapping({name: text}), name, allowed))
    assert message.startswith(f"{name}: ")
    # The range is written out: both bounds, or every choice.
    p = PARAMS[name]
    if p.kind == "choice":
        assert all(c in message for c in p.choices)
    else:
        bounds = re.findall(r"\[([^,\]]+), ([^\]]+)\]", message)
        assert bounds and float(bounds[0][0]) == p.lo and float(bounds[0][1]) == p.hi


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from([n for n, p in PARAMS.items() if p.kind in ("int", "float")]),
    x=st.floats(allow_nan=True, allow_infinity=True),
)
def test_any_number_outside_the_range_is_refused_by_constructor_and_parser(name, x):
    p = PARAMS[name]
    inside = math.isfinite(x) and p.lo <= x <= p.hi and (p.kind == "float" or x == int(x))
    if inside:
        return
    assert_rejected(lambda: Config(**{name: x}), name, p.allowed)
    assert_rejected(lambda: Config.from_mapping({name: repr(x)}), name, p.allowed)


CROSS_FIELD = [
    # (mapping, parameter named, text the message must contain)
    ({"d": "3", "k": "4"}, "k", "[1, 3]"),
    ({"k": "2", "a_star": "1,1,1"}, "a_star", "2 comma-separated"),
    ({"a_star": "1,0.01,1"}, "a_star", "0.05 <= |a*_i| <= 10"),
    ({"a_star": "1,-0.049,1"}, "a_star", "0.05 <= |a*_i| <= 10"),
    ({"angles": "0,60"}, "angles", "3 comma-separated"),
    ({"teachers": "planar", "angles": "0,60,240"}, "angles", "at least 1 degree"),
    ({"teachers": "planar", "angles": "10,10.5,90"}, "angles", "at least 1 degree"),
    ({"teachers": "planar", "angles": "0,90,-180"}, "angles", "at least 1 degree"),
    ({"algo": "paper", "m": "31"}, "m", "even"),
    ({"symmetric": "yes", "m": "31"}, "m", "even"),
    ({"teachers": "random", "d": "10", "sep": "60"}, "sep", f"[0, {max_random_sep(10, 3):g}]"),
    ({"teachers": "random", "d": "50", "k": "8", "sep": "85"}, "sep", f"[0, {max_random_sep(50, 8):g}]"),
]


@pytest.mark.parametrize(("mapping", "param", "needle"), CROSS_FIELD)
def test_cross_field_rules(mapping, param, needle):
    assert_rejected(lambda: Config.from_mapping(mapping), param, needle)


def test_cross_field_rules_do_not_apply_where_irrelevant():
    # Close planar angles are fine when the teachers are not planar; sep only binds random teachers.
    assert Config.from_mapping({"angles": "0,0,0"}).angles == (0.0, 0.0, 0.0)
    assert Config.from_mapping({"sep": "89", "d": "3"}).sep == 89.0
    assert Config.from_mapping({"algo": "gd", "m": "31"}).m == 31
    assert Config.from_mapping({"teachers": "planar", "angles": "0,1,2"}).angles == (0.0, 1.0, 2.0)
    assert Config.from_mapping({"teachers": "planar", "k": "1", "angles": "7"}).angles == (7.0,)
    assert max_random_sep(200, 2) <= 80.0 and max_random_sep(10, 1) == 90.0


def test_unknown_key_is_refused_by_the_strict_reader():
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({"dd": "3"})
    assert info.value.param == "dd"


# ---- lenient reader ------------------------------------------------------------------------

JUNK = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["nan", "inf", "-inf", "-1e308", "1e308", "", " ", "1,2", "0", "-1", "2.5", "1e-400", ",", "1,,"]),
    st.lists(st.one_of(st.integers(-500, 500), st.floats(-400, 400)), min_size=1, max_size=9).map(
        lambda xs: ",".join(str(x) for x in xs)
    ),
)
VALUES = st.one_of(JUNK, st.lists(JUNK, max_size=3))
KEYS = st.one_of(st.sampled_from(list(PARAMS)), st.text(max_size=5))
MESSAGE = re.compile(r"^Parameter `([a-z_0-9]+)`:")


def effective(raw):
    if isinstance(raw, list):
        return raw[-1] if raw else ""
    return raw


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=10))
@example({"d": "nan", "k": "inf", "m": "-1e308", "a_star": "", "angles": ["1", "2"]})
@example({"k": "5", "a_star": "1,2"})
@example({"teachers": "planar", "angles": "0,0.5,90"})
@example({"d": ["3", "2"], "teachers": "random", "k": "2"})
@example({"algo": "paper", "m": "7"})
def test_parse_lenient_never_raises_and_names_every_rejected_value(mapping):
    cfg, messages = parse_lenient(mapping)
    assert isinstance(cfg, Config)
    assert Config.from_mapping(cfg.to_mapping()) == cfg  # valid
    named = set()
    for msg in messages:
        match = MESSAGE.match(msg)
        assert match and match.group(1) in PARAMS, msg
        named.add(match.group(1))
        assert "must be" in msg
    for name, raw in mapping.items():
        if name not in PARAMS:
            continue  # unknown keys are ignored
        try:
            value = parse_value(PARAMS[name], effective(raw))
        except ConfigError:
            assert name in named, (name, raw, messages)  # a rejected value is named
            continue
        if name not in named:  # a value no message names is the one the link gave
            assert getattr(cfg, name) == value, (name, raw, messages)


def test_parse_lenient_messages_carry_the_range():
    cfg, messages = parse_lenient({"d": "500", "lr": "nan", "algo": "adam", "zzz": "1"})
    assert cfg == Config()
    assert len(messages) == 3  # unknown keys are ignored silently
    text = "\n".join(messages)
    assert "`d`" in text and "[2, 200]" in text
    assert "`lr`" in text and "[1e-05, 100]" in text
    assert "`algo`" in text and "gd, paper" in text


def test_parse_lenient_uses_the_last_of_repeated_values():
    cfg, messages = parse_lenient({"d": ["5", "7"], "m": []})
    assert cfg.d == 7 and messages and "`m`" in messages[0]


# ---- canonical form and cache keys ---------------------------------------------------------

IRRELEVANT = [
    (Config(), {"sep": 10.0}),
    (Config(teachers="planar"), {"sep": 10.0}),
    (Config(), {"angles": (5.0, 50.0, 100.0)}),
    (Config(teachers="random"), {"angles": (5.0, 50.0, 100.0)}),
    (Config(), {"n": 5000}),
    (Config(), {"eta1": 7.0}),
    (Config(data="samples"), {"eta1": 7.0}),
    (Config(algo="paper"), {"symmetric": "yes"}),
    (Config(lam=0.0), {"lam_decay": 0.9}),
    (Config(lam=0.0, algo="paper"), {"lam_decay": 0.9}),
]

RELEVANT = [
    (Config(teachers="random"), {"sep": 10.0}),
    (Config(teachers="planar"), {"angles": (5.0, 50.0, 100.0)}),
    (Config(data="samples"), {"n": 5000}),
    (Config(algo="paper"), {"eta1": 7.0}),
    (Config(), {"d": 11}),
    (Config(), {"k": 2}),
    (Config(), {"teachers": "random"}),
    (Config(), {"a_star": (1.0, -1.0, 1.5)}),
    (Config(), {"m": 31}),
    (Config(), {"init": 0.2}),
    (Config(), {"symmetric": "yes"}),
    (Config(), {"lam": 0.02}),
    (Config(), {"lam_decay": 0.6}),
    (Config(), {"epochs": 5}),
    (Config(), {"steps": 401}),
    (Config(), {"lr": 0.1}),
    (Config(), {"algo": "paper"}),
    (Config(), {"data": "samples"}),
    (Config(), {"seed": 1}),
    (Config(), {"frames": 61}),
]


@pytest.mark.parametrize(("base", "change"), IRRELEVANT)
def test_key_ignores_irrelevant_parameters(base, change):
    other = base.replace(**change)
    assert other != base
    assert other.canonical() == base.canonical()
    assert other.key() == base.key()


@pytest.mark.parametrize(("base", "change"), RELEVANT)
def test_key_changes_with_relevant_parameters(base, change):
    other = base.replace(**change)
    assert other.canonical() != base.canonical()
    assert other.key() != base.key()


@settings(max_examples=100, deadline=None)
@given(configs())
def test_canonical_is_idempotent_valid_and_keeps_the_key(cfg):
    can = cfg.canonical()
    assert can.canonical() == can
    assert Config.from_mapping(can.to_mapping()) == can
    assert can.key() == cfg.key()
    assert re.fullmatch(r"[0-9a-f]{32}", cfg.key())


# ---- the declarations ----------------------------------------------------------------------


def test_config_defaults_are_the_declared_defaults():
    fields = {f.name: f.default for f in dataclasses.fields(Config)}
    assert list(fields) == list(PARAMS)
    for name, p in PARAMS.items():
        assert fields[name] == p.default, name
        assert p.default_for(Config.k) == p.default, name
        assert p.label and p.help.endswith("."), name
    assert Config() == Config.from_mapping({})


def test_every_declaration_is_complete_and_its_rule_reads_a_config():
    for name, p in PARAMS.items():
        assert p.group in GROUPS, name
        assert (p.kind == "choice") == bool(p.choices), name
        if p.kind in ("int", "float", "floats"):
            assert p.lo is not None and p.hi is not None and p.lo <= p.hi, name
        assert (p.step is not None) <= (p.kind == "float"), name
        assert p.matters(Config()) in (True, False)
    assert [n for n, p in PARAMS.items() if p.when is not None] == [
        "sep",
        "angles",
        "symmetric",
        "lam_decay",
        "eta1",
        "n",
    ]
    assert [n for n, p in PARAMS.items() if p.per_teacher] == ["angles", "a_star"]


# Keys computed on the code before the declarations held the rules (commit 92ead13): a cache
# written then must still be found.
KEYS_BEFORE = [
    ({}, "edfed5877de1dc1032bbe515371d6831"),
    (
        {"d": 2, "k": 2, "teachers": "planar", "angles": (0.0, 90.0), "a_star": (1.0, 1.0)},
        "70f63e3048bb3f5151b9b6e86b16dd05",
    ),
    ({"teachers": "random", "sep": 10.0}, "4b53ec84f2fb5a5745123e799e765a31"),
    ({"teachers": "random", "sep": 10.0, "angles": (1.0, 2.0, 3.0)}, "4b53ec84f2fb5a5745123e799e765a31"),
    ({"teachers": "planar", "angles": (0.0, 50.0, 100.0), "sep": 20.0}, "2bb2c481c14613bebbd95cca49005fad"),
    ({"sep": 44.0, "angles": (5.0, 6.0, 7.0)}, "edfed5877de1dc1032bbe515371d6831"),
    ({"k": 5, "a_star": (1.0, 2.0, -1.0, 0.5, -3.0)}, "c130012dc5673f76811a779c54810d6e"),
    ({"algo": "paper", "m": 40, "symmetric": "no"}, "2b22c88345f9d932985df6d0ea72bd5a"),
    ({"algo": "paper", "m": 40, "symmetric": "yes", "eta1": 7.0}, "64545c44c20921bcdbd78655d68f6ffc"),
    ({"eta1": 7.0}, "edfed5877de1dc1032bbe515371d6831"),
    ({"symmetric": "yes", "m": 30}, "87cf2f2fe2ae139b091df1845022fe4c"),
    ({"lam": 0.0, "lam_decay": 0.9}, "3c5dd8c57b877da4b7a8a040a5613a72"),
    ({"lam": 0.0, "lam_decay": 0.5}, "3c5dd8c57b877da4b7a8a040a5613a72"),
    ({"lam": 0.01, "lam_decay": 0.9}, "22c6bd371d4c16ec7ffdc08ce68de6e2"),
    ({"data": "samples", "n": 5000}, "63f3b142dc3e468eeeb6038a09f01499"),
    ({"n": 5000}, "edfed5877de1dc1032bbe515371d6831"),
    (
        {"data": "samples", "n": 200, "algo": "paper", "m": 10, "eta1": 0.5, "lam": 0.0, "lam_decay": 0.2},
        "68a72732ebd7187629ce5cee3fb8d896",
    ),
    (
        {"d": 50, "k": 8, "teachers": "random", "sep": 40.0, "m": 100, "seed": 7, "frames": 20},
        "220e30244bff15b9d78e49b353c9e449",
    ),
    ({"d": 3, "k": 1, "teachers": "planar", "angles": (7.0,), "a_star": (-2.0,)}, "dcef6ca909b349c463f698d0284e97ac"),
    ({"init": 0.001, "lr": 1.5, "epochs": 2, "steps": 100, "seed": 2147483647}, "a588a1e654b7f75983d47580aa73b774"),
    (
        {"k": 4, "teachers": "orthonormal", "angles": (1.0, 2.0, 3.0, 4.0), "a_star": (1.0, 1.0, 1.0, 1.0)},
        "1383fb56a1fb6c062350c201726caea1",
    ),
]


@pytest.mark.parametrize(("changes", "key"), KEYS_BEFORE)
def test_cache_keys_are_those_of_the_previous_canonical_form(changes, key, monkeypatch):
    # The keys hold the engine version: these were computed with version 2. A later engine's
    # runs differ in their last bits, so its keys differ too (a cache of version 2 is not served).
    monkeypatch.setattr(config_module, "ENGINE_VERSION", "2")
    assert Config().replace(**changes).key() == key
    monkeypatch.undo()
    assert config_module.ENGINE_VERSION != "2" and Config().replace(**changes).key() != key


def test_canonical_resets_what_does_not_matter_and_keeps_what_does():
    cfg = Config().replace(teachers="random", sep=12.0, angles=(1.0, 2.0, 3.0), n=77, eta1=9.0, lam=0.0, lam_decay=0.3)
    can = cfg.canonical()
    assert (can.sep, can.n, can.eta1, can.lam_decay) == (12.0, 1000, 3.0, 0.5)
    assert can.angles == (0.0, 60.0, 120.0)
    paper = Config(algo="paper", k=2, a_star=(1.0, 1.0), angles=(3.0, 4.0), m=40).canonical()
    assert paper.symmetric == "yes" and paper.angles == (0.0, 90.0)  # the angles' default for k = 2


def test_rejected_is_one_wording_for_every_caller():
    e = ConfigError("d", PARAMS["d"].allowed, "500")
    assert reason(e) == "'500' is not valid: must be an integer in [2, 200]"
    assert (
        rejected(e) == "Parameter `d`: '500' is not valid: must be an integer in [2, 200]; using the default instead."
    )
    assert rejected(ConfigError("k", "at most 8 angles"), "showing the default") == (
        "Parameter `k`: must be at most 8 angles; showing the default."
    )


# ---- teachers that need no more room than they take -------------------------------------------


def test_planar_and_random_teachers_fit_any_dimension_orthonormal_ones_need_k_le_d():
    planar = Config.from_mapping({"d": "2", "k": "4", "teachers": "planar", "angles": "0,45,90,135"})
    assert (planar.d, planar.k) == (2, 4)
    assert Config.from_mapping({"d": "2", "k": "8", "teachers": "random", "sep": "11"}).k == 8
    with pytest.raises(ConfigError, match="for orthonormal teachers") as info:
        Config.from_mapping({"d": "2", "k": "4"})
    assert info.value.param == "k"


def test_planar_link_in_two_dimensions_is_taken_whole():
    link = {"d": "2", "k": "4", "teachers": "planar", "angles": "0,45,90,135", "a_star": "1,-1,1,-1", "m": "40"}
    cfg, messages = parse_lenient(link)
    assert messages == []
    assert {name: cfg.to_mapping()[name] for name in link} == link


def test_conflicting_link_gets_one_message_and_keeps_the_rest():
    link = {"d": "2", "k": "4", "teachers": "orthonormal", "a_star": "1,-1,1,-1", "m": "40", "lr": "0.1"}
    cfg, messages = parse_lenient(link)
    assert len(messages) == 1, messages
    assert messages[0].startswith("Parameter `d`: '2' is not valid: must be consistent with")
    assert "orthonormal teachers" in messages[0]
    assert cfg.d == Config().d  # the one value left out ...
    assert (cfg.k, cfg.teachers, cfg.a_star, cfg.m, cfg.lr) == (4, "orthonormal", (1.0, -1.0, 1.0, -1.0), 40, 0.1)
    # A rule the named value alone breaks costs only that value.
    cfg, messages = parse_lenient({"k": "2", "a_star": "1,1,1", "m": "12", "algo": "paper"})
    assert len(messages) == 1 and messages[0].startswith("Parameter `a_star`:")
    assert (cfg.k, cfg.a_star, cfg.m, cfg.algo) == (2, (1.0, -1.0), 12, "paper")


def test_many_conflicts_at_once_still_give_a_valid_config():
    link = {"d": "2", "k": "4", "a_star": "1,1", "angles": "1", "algo": "paper", "m": "7", "seed": "5"}
    cfg, messages = parse_lenient(link)
    assert Config.from_mapping(cfg.to_mapping()) == cfg
    assert cfg.seed == 5 and len(messages) == 4  # d (for k), a_star, angles, m
