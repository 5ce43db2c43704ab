"""What the Compare and Theory pages' links mean as configs (no UI): the A/B pair, the planar teachers."""

from __future__ import annotations

from collections.abc import Mapping

from featviz.config import MAX_K, PARAMS, Config, ConfigError, parse_lenient, parse_value, rejected

# ---- Compare: two configs in one link ----------------------------------------------------

B_PREFIX = "b."  # B's parameters in the link: b.lam=0.1 (only those that differ from A)
DEFAULT_A = Config(m=40, init=1.0, lam=0.0, epochs=8, steps=500, lr=0.05)
DEFAULT_B = DEFAULT_A.replace(lam=0.1)  # no regularization against weight decay


def pair_from_link(link: Mapping[str, str]) -> tuple[Config, Config, list[str]]:
    """(A, B, messages) from a link: A's parameters by name, B's as b.<name> where they differ.

    B is A with B's parameters over it; when B changes k, its per-teacher lists follow k unless
    the link gives them for B too (as Config.replace does). B's messages start with "B: ".
    """
    a_part = {k: v for k, v in link.items() if k in PARAMS}
    b_part = {k[len(B_PREFIX) :]: v for k, v in link.items() if k.startswith(B_PREFIX) and k[len(B_PREFIX) :] in PARAMS}
    if not a_part and not b_part:
        return DEFAULT_A, DEFAULT_B, []
    cfg_a, messages = parse_lenient(a_part)
    shared = cfg_a.to_mapping()
    if "k" in b_part:
        shared = {k: v for k, v in shared.items() if PARAMS[k].per_teacher is None}
    cfg_b, b_messages = parse_lenient(shared | b_part)
    return cfg_a, cfg_b, messages + [f"B: {m}" for m in b_messages]


def differing(cfg_a: Config, cfg_b: Config) -> dict[str, tuple[str, str]]:
    """The parameters where B differs from A: name -> (A's text, B's text), in PARAMS order."""
    a, b = cfg_a.to_mapping(), cfg_b.to_mapping()
    return {k: (a[k], b[k]) for k in PARAMS if a[k] != b[k]}


def pair_link(cfg_a: Config, cfg_b: Config) -> dict[str, str]:
    """The link of a pair: all of A, and B's parameters (b.<name>) where they differ."""
    return cfg_a.to_mapping() | {B_PREFIX + k: b for k, (_, b) in differing(cfg_a, cfg_b).items()}


# ---- Theory: teachers in one plane ---------------------------------------------------------

THEORY_TEACHERS = Config(d=6, k=3, teachers="planar", angles=(0.0, 60.0, 120.0), a_star=(1.0, -1.0, 1.0), m=24)


def planar_teachers(angles: str, a_star: str) -> tuple[Config, list[str]]:
    """The Theory page's run for teachers at `angles` in a plane with output weights `a_star`.

    k is the number of angles; the rest is THEORY_TEACHERS (m = 24 in d = 6). Teachers that are
    not valid give THEORY_TEACHERS and one message.
    """
    try:
        angle_values = parse_value(PARAMS["angles"], angles)
        a_values = parse_value(PARAMS["a_star"], a_star)
        if len(angle_values) > MAX_K:
            raise ConfigError("angles", f"at most {MAX_K} comma-separated angles", angles)
        return THEORY_TEACHERS.replace(k=len(angle_values), angles=angle_values, a_star=a_values), []
    except ConfigError as e:
        return THEORY_TEACHERS, [rejected(e, "using the default teachers instead")]
